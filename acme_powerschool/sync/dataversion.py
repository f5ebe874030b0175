"""PowerSchool data versions (10.0+), read through the client's public API only.

`GET /ws/dataversion/{application}/{version}` answers which ids of which tables changed after
`version` (`{"$dataversion": "16323283", "tables": {"users": [851, 769]}}`); a PowerQuery sent
with `$dataversion` + `$dataversion_applicationname` returns only the records changed after it
and carries the new `$dataversion`. The plugin must declare the application (plugin.xml).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import attrs

from acme_powerschool.core.call import Call
from acme_powerschool.core.errors import ResponseFormatError

__all__ = ["Changes", "changes", "current_version", "powerquery_changes"]

VERSION_KEY = "$dataversion"
APP_KEY = "$dataversion_applicationname"


@attrs.frozen
class Changes:
    """What changed after a version: ids per table (lower-case names), and the new version."""

    version: str
    tables: Mapping[str, Sequence[Any]]


def _json(response: Any) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ResponseFormatError(
            f"expected JSON from the data-version endpoint: {exc}", status=response.status_code
        ) from exc


def changes(client: Any, application: str, version: str) -> Changes:
    """The ids changed after `version` (the client raises NotFound/AccessDenied as usual)."""
    call = Call(
        "GET",
        "/ws/dataversion/{application}/{version}",
        path_params={"application": application, "version": version},
    )
    body = _json(client.send(call))
    if not isinstance(body, Mapping) or VERSION_KEY not in body:
        raise ResponseFormatError(f"data-version answer without {VERSION_KEY}")
    tables = body.get("tables") or {}
    if not isinstance(tables, Mapping):
        raise ResponseFormatError("data-version answer whose 'tables' is not an object")
    return Changes(
        version=str(body[VERSION_KEY]),
        tables={
            str(name).lower(): ids if isinstance(ids, list) else [ids]
            for name, ids in tables.items()
        },
    )


def current_version(client: Any, application: str) -> str:
    """The server's current data version for `application` (asked before a full read, so that
    what changes during the read is read again next time). One request: the ids changed since
    0, of which only the version is kept."""
    return changes(client, application, "0").version


class _VersionCapture:
    """A Sender in front of the client that keeps the first `$dataversion` a page carries."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.version: str | None = None

    def send(self, call: Call) -> Any:
        response = self.client.send(call)
        if self.version is None:
            body = _json(response)
            if isinstance(body, Mapping) and body.get(VERSION_KEY) not in (None, ""):
                self.version = str(body[VERSION_KEY])
        return response


def powerquery_changes(
    client: Any,
    name: str,
    args: Mapping[str, Any],
    application: str,
    version: str | None,
    answered: dict[str, str],
    *,
    prefetch: int | None = 0,
) -> Iterator[Sequence[Any]]:
    """The pages of a PowerQuery sent with a data version (None: "0", every row). When every
    page is read, `answered["version"]` is the version the first page carried (the lowest:
    whatever changes while paging is read again next time)."""
    from acme_powerschool.runtime import fetch_powerquery, query_args

    capture = _VersionCapture(client)
    body = {**query_args(**dict(args)), VERSION_KEY: version or "0", APP_KEY: application}
    call = Call(
        "POST", "/ws/schema/query/{query_name}", path_params={"query_name": name}, json=body
    )
    yield from fetch_powerquery(capture, call, None, prefetch=prefetch).iter_pages()
    if capture.version is None:
        raise ResponseFormatError(
            f"PowerQuery {name} sent with {VERSION_KEY} answered without one: does the plugin "
            f"declare the data-version application {application!r}?"
        )
    answered["version"] = capture.version
