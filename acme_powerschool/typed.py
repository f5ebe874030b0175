"""The typed layer: the mixin `TypedHelpers` the client inherits, and the few shared functions
every generated helper calls (fetch_one, fetch_list, fetch_count, fetch_powerquery, send_bulk).

Everything goes through `self.send(call)`; nothing here opens a socket, sleeps or retries, and
importing this module imports no endpoint module, no model, and neither pandas nor polars.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

import attrs

from acme_powerschool.core.call import Call
from acme_powerschool.core.envelope import (
    unwrap_count,
    unwrap_list,
    unwrap_one,
    unwrap_query,
    unwrap_write,
)
from acme_powerschool.core.errors import NotFound, ResponseFormatError
from acme_powerschool.endpoints import EndpointAccessors
from acme_powerschool.pager import Page, Pager
from acme_powerschool.types import Id

if TYPE_CHECKING:
    import requests

    from acme_powerschool.models.metadata import Metadata
    from acme_powerschool.models.writes import WriteResult

__all__ = [
    "PowerQueryRecord",
    "SchemaTable",
    "Sender",
    "TableRecord",
    "TypedHelpers",
    "bulk_body",
    "fetch_count",
    "fetch_list",
    "fetch_one",
    "fetch_powerquery",
    "query_args",
    "query_params",
    "send_bulk",
]

T = TypeVar("T")

METADATA_PATH = "/ws/v1/metadata"
POWERQUERY_PAGE_SIZE = 100
"""PowerQueries page 100 rows at a time unless asked otherwise (fact sheet §5.2)."""

PowerQueryRecord = dict[str, Any]
"""A PowerQuery row with no spec: `{"table.column": value}` (or grouped by table)."""


class Sender(Protocol):
    """Anything that can send a Call: the client (auth, retries, typed errors for non-2xx)."""

    def send(self, call: Call) -> requests.Response: ...


# -- parameters -----------------------------------------------------------------------------


def query_params(**values: Any) -> dict[str, str]:
    """Query parameters as PowerSchool wants them: lists comma-joined, empty ones left out."""
    params = {}
    for name, value in values.items():
        if value is None or value == "" or value == ():
            continue
        if isinstance(value, Sequence) and not isinstance(value, str):
            if not value:
                continue
            value = ",".join(str(v) for v in value)
        params[name] = str(value)
    return params


def query_args(**values: Any) -> dict[str, Any]:
    """A PowerQuery's JSON arguments: None left out, sequences as JSON arrays (§5.1)."""
    return {
        name: list(value) if isinstance(value, Sequence) and not isinstance(value, str) else value
        for name, value in values.items()
        if value is not None
    }


def page_params(number: int, size: int | None) -> dict[str, str]:
    """`page` and `pagesize`; no `pagesize` when None (the server answers at its maximum)."""
    if size is None:
        return {"page": str(number)}
    return {"page": str(number), "pagesize": str(size)}


# -- responses ------------------------------------------------------------------------------


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
        raise ResponseFormatError(
            f"expected JSON from {response.request.method if response.request else 'PowerSchool'}"
            f" {response.url or ''}: {exc}",
            status=response.status_code,
            response=response,
        ) from exc


def _converter() -> Any:
    from acme_powerschool.convert import default_converter

    return default_converter()


def _shape_error(exc: Exception, response: requests.Response | None) -> ResponseFormatError:
    status = response.status_code if response is not None else 0
    if isinstance(exc, ResponseFormatError):
        return ResponseFormatError(exc.message, status=status, response=response)
    return ResponseFormatError(
        f"unexpected response shape: {exc}", status=status, response=response
    )


def _structure_all(records: Iterable[Any], model: type[T]) -> list[T]:
    converter = _converter()
    hook = converter.get_structure_hook(model)
    return [hook(record, model) for record in records]


def fetch_one(client: Sender, call: Call, model: type[T], *, singular: str) -> T:
    """GET one object (`{"student": {...}}`) as a model."""
    response = client.send(call)
    try:
        return _structure_all([unwrap_one(_json(response), singular)], model)[0]
    except (ResponseFormatError, ValueError, TypeError) as exc:
        raise _shape_error(exc, response) from exc


def fetch_count(client: Sender, call: Call) -> int:
    """GET a count: `{"resource": {"count": N}}` or `{"count": N}`."""
    response = client.send(call)
    try:
        return unwrap_count(_json(response))
    except ResponseFormatError as exc:
        raise _shape_error(exc, response) from exc


def fetch_list(
    client: Sender,
    call: Call,
    model: type[T],
    *,
    plural: str,
    singular: str,
    count_path: str | None,
    max_page_size: str,
    pagesize: int | None = None,
    prefetch: int | None = None,
) -> Pager[T]:
    """A lazy Pager over a /ws/v1 list; nothing is fetched until it is iterated."""

    def fetch_page(number: int, size: int | None) -> Page[T]:
        params = {**(call.params or {}), **page_params(number, size)}
        response = client.send(attrs.evolve(call, params=params))
        try:
            return Page(_structure_all(unwrap_list(_json(response), plural, singular), model))
        except (ResponseFormatError, ValueError, TypeError) as exc:
            raise _shape_error(exc, response) from exc

    count_records = None
    if count_path is not None:
        count_call = Call(
            "GET",
            count_path,
            path_params=call.path_params,
            params=query_params(q=(call.params or {}).get("q")),
        )

        def count_records() -> int:
            return fetch_count(client, count_call)

    return Pager(
        fetch_page,
        count_records=count_records,
        max_page_size=lambda: max_page_size_of(client, max_page_size),
        pagesize=pagesize,
        prefetch=prefetch,
    )


def fetch_powerquery(
    client: Sender,
    call: Call,
    model: type[T] | None,
    *,
    order: str | None = None,
    pagesize: int | None = None,
    prefetch: int | None = None,
    grouped: bool = False,
) -> Pager[Any]:
    """A lazy Pager over a PowerQuery (POST); the first page asks for `count=true` so the rest
    can be planned (and prefetched) without a separate count request."""
    from acme_powerschool.convert import flat_query_record, grouped_query_record

    size = pagesize if pagesize and pagesize > 0 else POWERQUERY_PAGE_SIZE
    shape = grouped_query_record if grouped and model is None else flat_query_record
    read_call = attrs.evolve(call, json=call.json if call.json is not None else {}, idempotent=True)

    def fetch_page(number: int, page_size: int | None) -> Page[Any]:
        params = dict(query_params(order=order), **page_params(number, page_size or size))
        if number == 1:
            params["count"] = "true"
        response = client.send(attrs.evolve(read_call, params=params))
        try:
            page = unwrap_query(_json(response))
            rows = [shape(record) for record in page.records]
            if model is None:
                return Page(rows, page.count)
            return Page(_structure_all(rows, model), page.count)
        except (ResponseFormatError, ValueError, TypeError) as exc:
            raise _shape_error(exc, response) from exc

    count_call = attrs.evolve(read_call, path=read_call.path.rstrip("/") + "/count")

    def count_records() -> int:
        return fetch_count(client, count_call)

    return Pager(
        fetch_page,
        count_records=count_records,
        max_page_size=lambda: size,
        pagesize=size,
        prefetch=prefetch,
        first_page_counts=True,
    )


# -- writes ---------------------------------------------------------------------------------


def bulk_body(items: Iterable[Any], *, plural: str, singular: str, action: str) -> dict[str, Any]:
    """`{"students": {"student": [...]}}` for a bulk write (§6.1).

    Models are unstructured by the converter (None fields left out, so they are not cleared);
    each item gets `action` unless it names one, and `client_uid` = its position (1-based) unless
    it has one, so every result can be matched to its item.
    """
    converter = _converter()
    body = []
    for position, item in enumerate(items, start=1):
        record = dict(converter.unstructure(item)) if attrs.has(type(item)) else dict(item)
        record.setdefault("action", action)
        record.setdefault("client_uid", str(position))
        body.append(record)
    return {plural: {singular: body}}


def send_bulk(client: Sender, call: Call, model: type[T]) -> T:
    """Send a bulk write once (never retried: Call idempotent=False) and read its results.

    PowerSchool answers 200 even when items fail, so failures are data in the result.
    """
    response = client.send(attrs.evolve(call, idempotent=False))
    try:
        return _structure_all([unwrap_write(_json(response))], model)[0]
    except (ResponseFormatError, ValueError, TypeError) as exc:
        raise _shape_error(exc, response) from exc


# -- per-client state -----------------------------------------------------------------------


@attrs.define
class _ClientState:
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    metadata: Mapping[str, Any] | None = None


def _state(client: object) -> _ClientState:
    state: _ClientState = client.__dict__.setdefault("_acme_typed_state", _ClientState())
    return state


def _metadata_raw(client: Sender, *, refresh: bool = False) -> Mapping[str, Any]:
    state = _state(client)
    with state.lock:
        if state.metadata is None or refresh:
            response = client.send(Call("GET", METADATA_PATH))
            try:
                state.metadata = unwrap_one(_json(response), "metadata")
            except ResponseFormatError as exc:
                raise _shape_error(exc, response) from exc
        return state.metadata


def max_page_size_of(client: Sender, key: str) -> int | None:
    """The server's max page size for one resource (`student_max_page_size`), cached per client;
    None when the server does not say (the pager then uses 100)."""
    try:
        raw = _metadata_raw(client).get(key)
    except (NotFound, ResponseFormatError):
        _state(client).metadata = {}
        return None
    try:
        size = int(raw) if raw is not None and not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        return None
    return size if size and size > 0 else None


# -- schema tables --------------------------------------------------------------------------


@attrs.frozen
class TableRecord:
    """One row of a schema table: its `id` and its column values (strings; `""` read as None)."""

    id: Id
    table: str
    values: Mapping[str, str | None]

    def __getitem__(self, column: str) -> str | None:
        return self.values[column.lower()] if column.lower() in self.values else self.values[column]


def _table_record(table: str, record: Any) -> TableRecord:
    from acme_powerschool.convert import normalise_id, table_values

    if not isinstance(record, Mapping):
        raise ResponseFormatError(f"expected a schema-table row, got {type(record).__name__}")
    values = table_values(record, table)
    raw_id = record.get("id", values.get("id"))
    if raw_id is None:
        raise ResponseFormatError(f"schema-table row of {table!r} without an id")
    return TableRecord(id=normalise_id(raw_id), table=table, values=values)


class SchemaTable:
    """`/ws/schema/table/{table}`: query, count, get, insert, update and delete rows.

    Values are written as strings (booleans "1"/"0", None as ""), as PowerSchool wants (§4.11).
    """

    def __init__(self, client: Sender, name: str) -> None:
        if not name or "/" in name:
            raise ValueError(f"not a table name: {name!r}")
        self._client = client
        self.name = name

    def _path(self, *rest: str) -> str:
        return "/".join(("/ws/schema/table/{table}", *rest))

    def query(
        self,
        *,
        q: str | None = None,
        projection: Sequence[str] = ("*",),
        sort: str | None = None,
        sortdescending: bool = False,
        pagesize: int | None = None,
        prefetch: int | None = None,
    ) -> Pager[TableRecord]:
        """Rows matching `q` (all rows without it), with the `projection` columns."""
        params = query_params(
            q=q, projection=projection, sort=sort, sortdescending="true" if sortdescending else None
        )
        call = Call("GET", self._path(), path_params={"table": self.name}, params=params)
        client, table = self._client, self.name

        def fetch_page(number: int, size: int | None) -> Page[TableRecord]:
            response = client.send(
                attrs.evolve(call, params={**params, **page_params(number, size)})
            )
            try:
                page = unwrap_query(_json(response))
                return Page([_table_record(table, record) for record in page.records], page.count)
            except (ResponseFormatError, ValueError, TypeError) as exc:
                raise _shape_error(exc, response) from exc

        return Pager(
            fetch_page,
            count_records=lambda: self.count(q=q),
            max_page_size=lambda: max_page_size_of(client, "schema_table_query_max_page_size"),
            pagesize=pagesize,
            prefetch=prefetch,
        )

    def count(self, *, q: str | None = None) -> int:
        """How many rows match `q` (`{"count": N}`)."""
        call = Call(
            "GET", self._path("count"), path_params={"table": self.name}, params=query_params(q=q)
        )
        return fetch_count(self._client, call)

    def get(self, id: Id, *, projection: Sequence[str] = ("*",)) -> TableRecord:
        """One row by id."""
        call = Call(
            "GET",
            self._path("{id}"),
            path_params={"table": self.name, "id": id},
            params=query_params(projection=projection),
        )
        response = self._client.send(call)
        try:
            return _table_record(self.name, _json(response))
        except (ResponseFormatError, ValueError, TypeError) as exc:
            raise _shape_error(exc, response) from exc

    def _body(self, values: Mapping[str, Any]) -> dict[str, Any]:
        from acme_powerschool.convert import to_table_value

        return {"tables": {self.name: {k: to_table_value(v) for k, v in values.items()}}}

    def insert(self, values: Mapping[str, Any]) -> WriteResult:
        """Insert one row (POST, not retried); the result carries the new id or the error."""
        call = Call(
            "POST",
            self._path(),
            path_params={"table": self.name},
            json=self._body(values),
            idempotent=False,
        )
        return self._write(call)

    def update(self, id: Id, values: Mapping[str, Any]) -> WriteResult:
        """Update the given columns of one row (PUT)."""
        body = {"id": str(id), "name": self.name, **self._body(values)}
        call = Call(
            "PUT", self._path("{id}"), path_params={"table": self.name, "id": id}, json=body
        )
        return self._write(call)

    def delete(self, id: Id) -> None:
        """Delete one row (204); NotFound if it does not exist."""
        call = Call("DELETE", self._path("{id}"), path_params={"table": self.name, "id": id})
        self._client.send(call)

    def _write(self, call: Call) -> WriteResult:
        from acme_powerschool.models.writes import WriteResult

        response = self._client.send(call)
        if not response.content:
            return WriteResult()
        try:
            return _structure_all([unwrap_write(_json(response))], WriteResult)[0]
        except (ResponseFormatError, ValueError, TypeError) as exc:
            raise _shape_error(exc, response) from exc


# -- the mixin ------------------------------------------------------------------------------


class TypedHelpers(EndpointAccessors):
    """Typed helpers for the client class: `ps.students`, `ps.schools`, ..., `ps.metadata()`,
    `ps.powerquery(...)`, `ps.table(...)`. Needs only `send(call)`; no __init__ of its own."""

    def send(self, call: Call) -> requests.Response:
        """Send a Call: provided by the client (auth, retries, typed errors for non-2xx)."""
        raise NotImplementedError("the client class provides send(call)")

    def metadata(self, *, refresh: bool = False) -> Metadata:
        """`/ws/v1/metadata`: versions and the max page size of each resource (cached)."""
        from acme_powerschool.models.metadata import Metadata

        raw = _metadata_raw(self, refresh=refresh)
        try:
            return _structure_all([raw], Metadata)[0]
        except (ValueError, TypeError) as exc:
            raise _shape_error(exc, None) from exc

    def powerquery(
        self,
        name: str,
        args: Mapping[str, Any] | None = None,
        order: str | None = None,
        pagesize: int | None = None,
        *,
        prefetch: int | None = None,
        grouped: bool = False,
    ) -> Pager[PowerQueryRecord]:
        """Rows of any PowerQuery, lazily: `{"table.column": value}` dicts (`grouped=True`:
        `{"table": {"column": value}}`), `""` read as None. `.count()` asks `/count`."""
        call = Call(
            "POST",
            "/ws/schema/query/{query_name}",
            path_params={"query_name": name},
            json=query_args(**(args or {})),
        )
        return fetch_powerquery(
            self, call, None, order=order, pagesize=pagesize, prefetch=prefetch, grouped=grouped
        )

    def table(self, name: str) -> SchemaTable:
        """A schema table (`/ws/schema/table/{name}`), core or extension."""
        return SchemaTable(self, name)
