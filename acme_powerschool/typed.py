"""The hand-written typed families and the client's typed face.

`TypedHelpers` is what the client class mixes in: one attribute per generated family
(`ps.students`, `ps.schools`, ...: composed, built on first access with the client as their
`Sender`), plus the generic families whose columns are not known in advance: schema tables
(`ps.table(name)`) and untyped PowerQueries (`ps.powerquery(name)`), and `ps.metadata()`.
Nothing here inherits from generated code; generated code never imports this module (it
imports `runtime`). Importing it imports no family module, no model, neither pandas nor polars.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Generic, TypeVar, overload

import attrs

from acme_powerschool.core.call import Call
from acme_powerschool.core.errors import ResponseFormatError
from acme_powerschool.pager import Pager
from acme_powerschool.runtime import (
    Sender,
    decode,
    fetch_count,
    fetch_powerquery,
    fetch_query,
    max_page_size_of,
    metadata_raw,
    query_args,
    query_params,
    read_write_result,
    structure_one,
)
from acme_powerschool.types import Id

if TYPE_CHECKING:
    import requests

    from acme_powerschool.endpoints.courses import Courses
    from acme_powerschool.endpoints.powerqueries import PowerQueries
    from acme_powerschool.endpoints.schools import Schools
    from acme_powerschool.endpoints.sections import Sections
    from acme_powerschool.endpoints.staff import Staff
    from acme_powerschool.endpoints.students import Students
    from acme_powerschool.endpoints.terms import Terms
    from acme_powerschool.models.metadata import Metadata
    from acme_powerschool.models.writes import WriteResult

__all__ = ["Family", "PowerQueryRecord", "SchemaTable", "TableRecord", "TypedHelpers"]

F = TypeVar("F")

PowerQueryRecord = dict[str, Any]
"""A PowerQuery row with no spec: `{"table.column": value}` (or grouped by table)."""


class Family(Generic[F]):
    """A generated family as a client attribute: on first access its class (named in the
    generated `endpoints.FAMILIES` table) is imported and built with the client as its Sender;
    the instance is kept in the client's `__dict__`, so later reads are plain attribute reads."""

    name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, client: None, owner: type) -> Family[F]: ...

    @overload
    def __get__(self, client: object, owner: type) -> F: ...

    def __get__(self, client: object | None, owner: type) -> Family[F] | F:
        if client is None:
            return self
        from acme_powerschool.endpoints import FAMILIES

        module, class_name = FAMILIES[self.name]
        family: F = getattr(importlib.import_module(module), class_name)(client)
        client.__dict__[self.name] = family
        return family


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

    def _call(self, method: str, *rest: str, **fields: Any) -> Call:
        path = "/".join(("/ws/schema/table/{table}", *rest))
        path_params = {"table": self.name, **fields.pop("path_params", {})}
        return Call(method, path, path_params=path_params, **fields)

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
        client, table = self._client, self.name
        return fetch_query(
            client,
            self._call("GET", params=params),
            lambda record: _table_record(table, record),
            max_page_size=lambda: max_page_size_of(client, "schema_table_query_max_page_size"),
            pagesize=pagesize,
            prefetch=prefetch,
        )

    def count(self, *, q: str | None = None) -> int:
        """How many rows match `q` (`{"count": N}`)."""
        return fetch_count(self._client, self._call("GET", "count", params=query_params(q=q)))

    def get(self, id: Id, *, projection: Sequence[str] = ("*",)) -> TableRecord:
        """One row by id."""
        call = self._call(
            "GET", "{id}", path_params={"id": id}, params=query_params(projection=projection)
        )
        return decode(self._client.send(call), lambda body: _table_record(self.name, body))

    def _body(self, values: Mapping[str, Any]) -> dict[str, Any]:
        from acme_powerschool.convert import to_table_value

        return {"tables": {self.name: {k: to_table_value(v) for k, v in values.items()}}}

    def insert(self, values: Mapping[str, Any]) -> WriteResult:
        """Insert one row (POST, not retried); the result carries the new id or the error."""
        return self._write(self._call("POST", json=self._body(values), idempotent=False))

    def update(self, id: Id, values: Mapping[str, Any]) -> WriteResult:
        """Update the given columns of one row (PUT)."""
        body = {"id": str(id), "name": self.name, **self._body(values)}
        return self._write(self._call("PUT", "{id}", path_params={"id": id}, json=body))

    def delete(self, id: Id) -> None:
        """Delete one row (204); NotFound if it does not exist."""
        self._client.send(self._call("DELETE", "{id}", path_params={"id": id}))

    def _write(self, call: Call) -> WriteResult:
        from acme_powerschool.models.writes import WriteResult

        response = self._client.send(call)
        if not response.content:
            return WriteResult()
        return read_write_result(response, WriteResult)


# -- the client's typed face ----------------------------------------------------------------


class TypedHelpers:
    """Typed helpers for the client class: `ps.students`, `ps.schools`, ..., `ps.metadata()`,
    `ps.powerquery(...)`, `ps.table(...)`. Needs only `send(call)`; no __init__ of its own.

    One `Family` attribute per generated family (the generated `endpoints.FAMILIES` table
    lists them; a test checks the two agree).
    """

    courses: Family[Courses] = Family()
    powerqueries: Family[PowerQueries] = Family()
    schools: Family[Schools] = Family()
    sections: Family[Sections] = Family()
    staff: Family[Staff] = Family()
    students: Family[Students] = Family()
    terms: Family[Terms] = Family()

    def send(self, call: Call) -> requests.Response:
        """Send a Call: provided by the client (auth, retries, typed errors for non-2xx)."""
        raise NotImplementedError("the client class provides send(call)")

    def metadata(self, *, refresh: bool = False) -> Metadata:
        """`/ws/v1/metadata`: versions and the max page size of each resource (cached)."""
        from acme_powerschool.models.metadata import Metadata

        raw = metadata_raw(self, refresh=refresh)
        return decode(None, lambda body: structure_one(body, Metadata), raw)

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
