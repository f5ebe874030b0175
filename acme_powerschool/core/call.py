"""What a helper or a raw verb asks for, as data. Building a Call does no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import attrs

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# POSTs that only read: running a PowerQuery (and its /count) changes nothing.
READ_ONLY_POST_PREFIXES = ("ws/schema/query/",)


def _upper(method: str) -> str:
    return method.upper()


@attrs.frozen
class Call:
    """One logical request.

    `path` is relative to the server root and may hold `{name}` placeholders filled from
    `path_params` (each value percent-encoded). `params` are query parameters, `json` a body to
    send as JSON; `extra` carries any other keyword the raw verbs pass through to requests
    (`data`, `headers`, `files`, `timeout`, ...). `idempotent` says whether the call is safe to
    repeat: None means "decide from the method" (GET, PUT, DELETE yes; POST no).
    """

    method: str = attrs.field(converter=_upper)
    path: str
    path_params: Mapping[str, str | int] = attrs.field(factory=dict)
    params: Mapping[str, Any] | None = None
    json: Any = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    idempotent: bool | None = None

    @property
    def safe_to_repeat(self) -> bool:
        if self.idempotent is not None:
            return self.idempotent
        if self.method == "POST":
            return self.path.lstrip("/").startswith(READ_ONLY_POST_PREFIXES)
        return self.method in SAFE_METHODS


def render_path(call: Call) -> str:
    """The call's path with placeholders filled, always starting with one '/'."""
    path = call.path
    if call.path_params:
        path = path.format_map({k: quote(str(v), safe="") for k, v in call.path_params.items()})
    return "/" + path.lstrip("/")
