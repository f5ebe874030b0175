"""What generated code calls: query parameters, the fetch helpers, bulk bodies, the metadata
cache and `Sender`, and the records of the generated operations table.

It imports nothing generated (a wall test checks) and nothing hand-written that does: generated
modules import this one, never the other way round. Nothing here opens a socket, sleeps or
retries: everything goes through `client.send(call)`. One decode path turns a response into
values (`decode`), one builder turns a call into a page fetcher (`page_fetcher`).
"""

from __future__ import annotations

import re
import threading
import typing
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal, Protocol, TypeVar

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
from acme_powerschool.pager import Page, Pager

if TYPE_CHECKING:
    import requests

__all__ = [
    "MissingFieldError",
    "Operation",
    "Parameter",
    "Sender",
    "bulk_body",
    "decode",
    "expansion_names",
    "extension_names",
    "fetch_count",
    "fetch_list",
    "fetch_one",
    "fetch_powerquery",
    "max_page_size_of",
    "metadata_raw",
    "page_fetcher",
    "query_args",
    "query_params",
    "require_field",
    "send_bulk",
    "structure_all",
]

T = TypeVar("T")

METADATA_PATH = "/ws/v1/metadata"
POWERQUERY_PAGE_SIZE = 100
"""PowerQueries page 100 rows at a time unless asked otherwise (fact sheet §5.2)."""


class Sender(Protocol):
    """Anything that can send a Call: the client (auth, retries, typed errors for non-2xx)."""

    def send(self, call: Call) -> requests.Response: ...


# -- the operations table's records ---------------------------------------------------------

Kind = Literal["get", "list", "count", "bulk_write", "powerquery"]
Returns = Literal["one", "many", "count", "write"]


@attrs.frozen
class Parameter:
    """One parameter of a generated helper: `type` is `id`, `int`, `str`, `bool` or `float`;
    `choices` lists the allowed values (expansions); `multiple` for sequences."""

    name: str
    type: str
    required: bool = False
    multiple: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None


@attrs.frozen
class Operation:
    """One generated helper method, as data: what it takes and what it returns.

    `scope` names the parent a scoped listing is for (`for_school` -> "school", `positional[0]`
    is its id); `command` is the name a command line gives it (`list` and `count` gather the
    plain and the scoped methods).
    """

    family: str
    method: str
    kind: Kind
    returns: Returns
    summary: str
    command: str
    scope: str | None = None
    positional: tuple[Parameter, ...] = ()
    keywords: tuple[Parameter, ...] = ()


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


_EXTENSION_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")


def _names(given: Iterable[str] | str | None) -> tuple[str, ...]:
    """Names given as a sequence or as one comma-separated string, blanks dropped; None is
    none."""
    if given is None:
        return ()
    items = given.split(",") if isinstance(given, str) else given
    return tuple(name.strip() for name in items if name and name.strip())


def expansion_names(given: Iterable[str] | str | None, offered: Any) -> tuple[str, ...]:
    """The expansions asked for, checked against the ones PowerSchool offers here (`offered`
    is the model's Literal alias): a typo raises ValueError naming it, instead of coming back
    as a field that is silently None."""
    names = _names(given)
    known = typing.get_args(offered)
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ValueError(
            f"unknown expansion {', '.join(map(repr, unknown))}; PowerSchool offers here: "
            f"{', '.join(known)}"
        )
    return names


def extension_names(given: Iterable[str] | str | None) -> tuple[str, ...]:
    """Extension (table) names: letters, digits and underscores, like `u_studentsuserfields`.
    Which ones exist only the server knows; a malformed name raises ValueError here."""
    names = _names(given)
    bad = [name for name in names if not _EXTENSION_NAME.match(name)]
    if bad:
        raise ValueError(
            f"not an extension name: {', '.join(map(repr, bad))} (extensions are table names "
            "such as 'u_studentsuserfields')"
        )
    return names


class MissingFieldError(LookupError):
    """`record.require(name)` on a field PowerSchool did not send."""


def require_field(record: object, name: str, offered: Any = None) -> Any:
    """`record.<name>`, or MissingFieldError saying why it is None and what to ask for."""
    value = getattr(record, name)
    if value is not None:
        return value
    where = f"{type(record).__name__}.{name}"
    if offered is not None and name in typing.get_args(offered):
        raise MissingFieldError(
            f"{where} is None: PowerSchool sends it only when asked, with "
            f"expansions=[{name!r}, ...]"
        )
    raise MissingFieldError(f"{where} is None: PowerSchool did not send it")


# -- the one decode path --------------------------------------------------------------------


_fast_loads: Callable[[bytes], Any] | None
try:  # a faster decoder when installed; the results must be the ones json gives
    from orjson import loads as _fast_loads
except ImportError:  # pragma: no cover - orjson is optional
    _fast_loads = None

_DIGITS_AS_ZERO = bytes.maketrans(b"123456789", b"000000000")
_LONG_DIGIT_RUN = b"0" * 19
"""orjson reads integers past 64 bits as floats; json keeps them exact: a body with a run of 19
digits goes to json. Found by reading every digit as 0 and one substring search (a regex
scan cost more than orjson's whole decode)."""


def _json(response: requests.Response) -> Any:
    content = response.content
    if (
        _fast_loads is not None
        and content
        and _LONG_DIGIT_RUN not in content.translate(_DIGITS_AS_ZERO)
    ):
        try:
            return _fast_loads(content)
        except ValueError:
            pass  # not UTF-8, or not JSON: json says which, as it always did
    try:
        return response.json()
    except (ValueError, RecursionError) as exc:  # RecursionError: absurdly nested JSON
        raise ResponseFormatError(
            f"expected JSON from {response.request.method if response.request else 'PowerSchool'}"
            f" {response.url or ''}: {exc}"
        ) from exc


def decode(response: requests.Response | None, parse: Callable[[Any], T], body: Any = None) -> T:
    """`parse(response JSON)` (or `parse(body)` without a response); any shape problem becomes
    one ResponseFormatError carrying the response. The only place shape errors are made."""
    try:
        return parse(_json(response) if response is not None else body)
    except (ResponseFormatError, ValueError, TypeError) as exc:
        status = response.status_code if response is not None else 0
        message = exc.message if isinstance(exc, ResponseFormatError) else None
        raise ResponseFormatError(
            message or f"unexpected response shape: {exc}", status=status, response=response
        ) from exc


def _converter() -> Any:
    from acme_powerschool.convert import default_converter

    return default_converter()


def structure_all(records: Iterable[Any], model: type[T]) -> list[T]:
    """Each record as `model`, through the one converter."""
    converter = _converter()
    hook = converter.get_structure_hook(model)
    return [hook(record, model) for record in records]


def structure_one(record: Any, model: type[T]) -> T:
    return structure_all([record], model)[0]


def page_fetcher(
    client: Sender,
    call: Call,
    parse: Callable[[Any], Page[T]],
    extra: Callable[[int], Mapping[str, str]] | None = None,
) -> Callable[[int, int | None], Page[T]]:
    """The pager's `fetch_page(number, size)` for `call`: adds page, pagesize (and `extra`)
    to its query and decodes the answer with `parse`. The only page-closure builder. No
    `pagesize` when `size` is None: the server answers at its maximum, which the pager learns."""
    base = dict(call.params or {})

    def fetch_page(number: int, size: int | None) -> Page[T]:
        params = {**base, "page": str(number)}
        if size is not None:
            params["pagesize"] = str(size)
        if extra is not None:
            params.update(extra(number))
        return decode(client.send(attrs.evolve(call, params=params)), parse)

    return fetch_page


# -- reads ----------------------------------------------------------------------------------


def fetch_one(client: Sender, call: Call, model: type[T], *, singular: str) -> T:
    """GET one object (`{"student": {...}}`) as a model."""
    return decode(client.send(call), lambda body: structure_one(unwrap_one(body, singular), model))


def fetch_count(client: Sender, call: Call) -> int:
    """GET a count: `{"resource": {"count": N}}` or `{"count": N}`."""
    return decode(client.send(call), unwrap_count)


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

    def parse(body: Any) -> Page[T]:
        return Page(structure_all(unwrap_list(body, plural, singular), model))

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
        page_fetcher(client, call, parse),
        count_records=count_records,
        max_page_size=lambda: max_page_size_of(client, max_page_size),
        pagesize=pagesize,
        prefetch=prefetch,
    )


def _first_page_counts(number: int) -> Mapping[str, str]:
    return {"count": "true"} if number == 1 else {}


def fetch_query(
    client: Sender,
    call: Call,
    row: Callable[[Any], T],
    *,
    max_page_size: Callable[[], int | None],
    pagesize: int | None = None,
    prefetch: int | None = None,
    first_page_counts: bool = False,
) -> Pager[T]:
    """A lazy Pager over a `{"record": [...], "count": N}` listing (PowerQueries and schema
    tables), each record turned into a value by `row`; `/count` beside the path counts."""

    def parse(body: Any) -> Page[T]:
        page = unwrap_query(body)
        return Page([row(record) for record in page.records], page.count)

    count_params = query_params(q=(call.params or {}).get("q")) or None
    count_call = attrs.evolve(call, path=call.path.rstrip("/") + "/count", params=count_params)
    return Pager(
        page_fetcher(client, call, parse, _first_page_counts if first_page_counts else None),
        count_records=lambda: fetch_count(client, count_call),
        max_page_size=max_page_size,
        pagesize=pagesize,
        prefetch=prefetch,
        first_page_counts=first_page_counts,
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
    read_call = attrs.evolve(
        call,
        json=call.json if call.json is not None else {},
        params=query_params(order=order),
        idempotent=True,
    )
    row: Callable[[Any], Any] = shape
    if model is not None:
        hook = _converter().get_structure_hook(model)

        def row(record: Any) -> Any:
            return hook(shape(record), model)

    return fetch_query(
        client,
        read_call,
        row,
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


def read_write_result(response: requests.Response, model: type[T]) -> T:
    """A write's answer as `model` (`{"results": {...}}`)."""
    return decode(response, lambda body: structure_one(unwrap_write(body), model))


def send_bulk(client: Sender, call: Call, model: type[T]) -> T:
    """Send a bulk write once (never retried: Call idempotent=False) and read its results.

    PowerSchool answers 200 even when items fail, so failures are data in the result.
    """
    return read_write_result(client.send(attrs.evolve(call, idempotent=False)), model)


# -- per-client metadata cache --------------------------------------------------------------


@attrs.define
class _ClientState:
    lock: threading.Lock = attrs.field(factory=threading.Lock)
    metadata: Mapping[str, Any] | None = None


def _state(client: object) -> _ClientState:
    state: _ClientState = client.__dict__.setdefault("_acme_typed_state", _ClientState())
    return state


def metadata_raw(client: Sender, *, refresh: bool = False) -> Mapping[str, Any]:
    """`/ws/v1/metadata`'s inner object, fetched once per client (again with `refresh`)."""
    state = _state(client)
    with state.lock:
        if state.metadata is None or refresh:
            response = client.send(Call("GET", METADATA_PATH))
            state.metadata = decode(response, lambda body: unwrap_one(body, "metadata"))
        return state.metadata


def max_page_size_of(client: Sender, key: str) -> int | None:
    """The server's max page size for one resource (`student_max_page_size`), cached per client;
    None when the server does not say (the pager then uses 100)."""
    try:
        raw = metadata_raw(client).get(key)
    except (NotFound, ResponseFormatError):
        _state(client).metadata = {}
        return None
    try:
        size = int(raw) if raw is not None and not isinstance(raw, bool) else None
    except (TypeError, ValueError):
        return None
    return size if size and size > 0 else None
