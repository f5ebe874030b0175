"""The simulator's messages: Request, Reply, Write and HttpError.

Pure plumbing between the HTTP layer and the resource handlers; it holds no PowerSchool
knowledge and must not import the client side of the package.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

JSON_TYPE = "application/json"
MAX_PAGE = 10**9  # a page number beyond any data; keeps offsets within islice's range
XML_TYPE = "application/xml"


@attrs.frozen
class Write:
    """One write request as received, and the client_uids (or row ids) it applied."""

    method: str
    path: str
    body: Any
    applied: tuple[str, ...]


@attrs.define
class Reply:
    status: int
    body: Any = None  # a JSON-able tree, or bytes sent as they are
    content_type: str = JSON_TYPE
    headers: dict[str, str] = attrs.field(factory=dict)
    v1: bool = False  # subject to the XML→JSON quirks when they are on


class HttpError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.reply = Reply(status, body, headers=headers or {})


def fail(status: int, message: str) -> HttpError:
    """An HttpError with PowerSchool's usual `{"message": ...}` body."""
    return HttpError(status, {"message": message})


@attrs.define
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    params: dict[str, str] = attrs.field(factory=dict)

    def json_body(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError, RecursionError) as exc:
            raise fail(400, f"Malformed JSON body: {type(exc).__name__}") from None

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise fail(404, f"Resource not found: {self.path}") from None

    def paging(
        self, max_size: int, default: int | None = None, strict: bool = False
    ) -> tuple[int, int]:
        """(offset, limit) from page (1-based) and pagesize: capped silently at the max, or
        with `strict` a 400 above it."""
        try:
            page = int(self.query.get("page", "1") or "1")
            size = int(self.query.get("pagesize", str(default or max_size)) or max_size)
        except ValueError:
            raise fail(400, "page and pagesize must be integers") from None
        if strict and size > max_size:
            raise fail(400, f"pagesize {size} is greater than the maximum page size {max_size}")
        page = min(max(page, 1), MAX_PAGE)
        size = max_size if size <= 0 else min(size, max_size)
        return (page - 1) * size, size
