"""The error tree of the typed layer and the warning of the raw verbs.

Messages never carry a token or a secret: they are built from status codes and PowerSchool's
own error text only.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any


class PowerSchoolWarning(UserWarning):
    """Raised as a warning by the raw verbs when PowerSchool refuses a field (403)."""


class PowerSchoolError(Exception):
    """A PowerSchool request that did not succeed.

    `status` is the HTTP status (0 when no response arrived), `message` PowerSchool's message
    or ours, `errors` the structured error entries PowerSchool sent, `response` the
    `requests.Response` when there was one.
    """

    def __init__(
        self,
        message: str,
        *,
        status: int = 0,
        errors: Sequence[Any] = (),
        response: Any = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.errors = tuple(errors)
        self.response = response

    def __str__(self) -> str:
        return f"{self.message} (HTTP {self.status})" if self.status else self.message


class AuthenticationError(PowerSchoolError, RuntimeError):
    """Missing or rejected credentials; a RuntimeError, as the original product promised."""


class NotFound(PowerSchoolError):
    """404: the resource, row or PowerQuery does not exist."""


class AccessDenied(PowerSchoolError):
    """403: the plugin lacks access. `access_requests` holds the plugin.xml lines to add."""

    def __init__(self, message: str, *, access_requests: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.access_requests = access_requests


class BadRequest(PowerSchoolError):
    """400/405/409/415: PowerSchool refused the request as sent."""


class RateLimited(PowerSchoolError):
    """429 (or 509) that outlasted the retry budget. `retry_after` is in seconds, if known."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(PowerSchoolError):
    """5xx, a maintenance page, or a connection failure that outlasted the retry budget."""


class ResponseFormatError(PowerSchoolError):
    """A 2xx response whose body is not the shape PowerSchool documents (truncated, HTML...)."""


_BY_STATUS: dict[int, type[PowerSchoolError]] = {
    400: BadRequest,
    401: AuthenticationError,
    403: AccessDenied,
    404: NotFound,
    405: BadRequest,
    409: BadRequest,
    415: BadRequest,
    422: BadRequest,
    429: RateLimited,
    509: RateLimited,
}


def error_class(status: int) -> type[PowerSchoolError]:
    """The error type for an HTTP status: one table, 5xx and transport failures last."""
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if status >= 500 or status == 0:
        return ServerError
    return PowerSchoolError


def message_from_body(body: bytes, content_type: str, fallback: str) -> tuple[str, tuple[Any, ...]]:
    """PowerSchool's own message and error entries from an error body, if it sent any.

    JSON bodies carry `message` (+ `errors`), `errorMessage.message`, or OAuth's `error` /
    `error_description`; anything else (HTML, empty, truncated) yields the fallback.
    """

    if "json" not in content_type.lower() and body[:1] not in (b"{", b"["):
        return fallback, ()
    try:
        payload = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return fallback, ()
    if not isinstance(payload, dict):
        return fallback, ()
    errors = payload.get("errors", ())
    if isinstance(errors, dict):
        errors = (errors,)
    entries = tuple(errors) if isinstance(errors, list | tuple) else ()
    message = payload.get("message")
    nested = payload.get("errorMessage")
    if not isinstance(message, str) and isinstance(nested, dict):
        message = nested.get("message")
    if not isinstance(message, str):
        message = payload.get("error_description") or payload.get("error")
    if not isinstance(message, str) or not message.strip():
        return fallback, entries
    return message.strip()[:500], entries
