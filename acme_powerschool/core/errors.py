"""The error tree of the typed layer and the warning of the raw verbs.

Messages never carry a token or a secret: they are built from status codes and PowerSchool's
own error text only.
"""

from __future__ import annotations

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
