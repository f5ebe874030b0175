"""What a helper or a raw verb asks for, as data. Building a Call does no I/O."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, unquote

import attrs

from acme_powerschool.core.ids import path_segment
from acme_powerschool.core.retry import CallKind, call_kind


def _upper(method: str) -> str:
    return method.upper()


class InvalidPath(ValueError):
    """A path the client refuses to send (dot segments could turn a read into a write)."""


@attrs.frozen
class Call:
    """One logical request.

    `path` is relative to the server root and may hold `{name}` placeholders filled from
    `path_params` (each value checked by the id rule and percent-encoded). `params` are query
    parameters, `json` a body to send as JSON; `extra` carries any other keyword the raw verbs
    pass through to requests (`data`, `headers`, `files`, `timeout`, ...). `idempotent` is the
    caller's word on whether the call only reads (True) or writes (False); None lets
    `acme_powerschool.core.retry.call_kind` decide from the method and path.
    """

    method: str = attrs.field(converter=_upper)
    path: str
    path_params: Mapping[str, str | int] = attrs.field(factory=dict)
    params: Mapping[str, Any] | None = None
    json: Any = None
    extra: Mapping[str, Any] = attrs.field(factory=dict)
    idempotent: bool | None = None

    @property
    def kind(self) -> CallKind:
        """READ or WRITE, decided in one place (core/retry.py) from the rendered path."""
        return call_kind(self.method, render_path(self), self.idempotent, self.extra)

    @property
    def safe_to_repeat(self) -> bool:
        return self.kind is CallKind.READ


def _check_segments(path: str) -> None:
    for raw in path.split("/"):
        # Servlet containers drop ';params' and decode before resolving dot segments.
        segment = unquote(raw).split(";", 1)[0]
        if segment in (".", ".."):
            raise InvalidPath(
                f"the path {path!r} contains a dot segment ({raw!r}); write the path without "
                "'.' or '..' (the client never resolves them, so it cannot misjudge a write)"
            )


def render_path(call: Call) -> str:
    """The call's path with placeholders filled, always starting with one '/'.

    InvalidPath for a dot segment anywhere (before or after filling); InvalidId for a path
    parameter that cannot be an id or name."""
    path = call.path.split("?", 1)[0]
    _check_segments(path)
    if call.path_params:
        filled = {k: quote(path_segment(v), safe="") for k, v in call.path_params.items()}
        path = call.path.format_map(filled)
        _check_segments(path.split("?", 1)[0])
    else:
        path = call.path
    return "/" + path.lstrip("/")
