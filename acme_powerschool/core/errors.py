"""The error tree, the one status -> error table, and the words of every error.

Messages never carry a token or a secret: they are built from status codes and PowerSchool's
own error text, and that text passes through `acme_powerschool.core.redact` first.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import attrs

from acme_powerschool.core.redact import redact, redact_json


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
        """The message, the status, and PowerSchool's error entries the message does not
        already say (`Validation Failed (HTTP 400): students.lastfirst: Invalid order
        column`)."""
        text = f"{self.message} (HTTP {self.status})" if self.status else self.message
        details = describe_entries(self.errors, self.message)
        return f"{text}: {details}" if details else text


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


class ConnectionFailed(ServerError):
    """No answer at all: `kind` names what failed ("name-not-found", "connect-refused",
    "read-timeout", "tls", ... see core/outcome.py), the message says the cause and the fix."""

    def __init__(self, message: str, *, kind: str = "", **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.kind = kind


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
    """PowerSchool's own message (at most 500 characters) and error entries from an error
    body, if it sent any. Not redacted: `server_message` is what errors use."""
    message, entries = _message_and_entries(body, content_type, fallback)
    return message[:500], entries


def _message_and_entries(
    body: bytes, content_type: str, fallback: str
) -> tuple[str, tuple[Any, ...]]:
    """JSON bodies carry `message` (+ `errors`), `errorMessage.message`, or OAuth's `error` /
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
    return message.strip(), entries


def describe_entries(errors: Sequence[Any], message: str = "") -> str:
    """PowerSchool's error entries (`{"field": "students.lastfirst", "code": "Invalid order
    column"}`) as `students.lastfirst: Invalid order column; ...`, leaving out what `message`
    already says."""
    parts: list[str] = []
    for entry in errors:
        if isinstance(entry, dict):
            said = [
                str(entry[key]).strip()
                for key in ("field", "code", "message")
                if isinstance(entry.get(key), str | int) and str(entry[key]).strip()
            ]
            text = ": ".join(dict.fromkeys(said))
        else:
            text = str(entry).strip()
        if text and text not in message and text not in parts:
            parts.append(text)
    return "; ".join(parts)


@attrs.frozen
class Answer:
    """The parts of an HTTP answer the error mapping reads (the shell fills it in)."""

    status: int
    content_type: str = ""
    body: bytes = attrs.field(default=b"", repr=False)
    reason: str = ""
    location: str = ""


def server_message(
    answer: Answer, fallback: str, secrets: frozenset[str] = frozenset()
) -> tuple[str, tuple[Any, ...]]:
    """PowerSchool's message and its error entries, redacted."""
    message, errors = _message_and_entries(answer.body, answer.content_type, fallback)
    try:
        errors = tuple(redact_json(list(errors), secrets))
    except RecursionError:
        errors = ()
    return redact(message, secrets)[:500], errors


def error_for(
    answer: Answer,
    what: str,
    *,
    secrets: frozenset[str] = frozenset(),
    access_requests: str = "",
    retry_after: float | None = None,
    gave_up: str | None = None,
    response: Any = None,
) -> PowerSchoolError:
    """The typed error for a non-2xx answer to `what` (like "GET /ws/v1/student/2");
    `gave_up` says why the retries stopped, when they did.

    A 3xx is an error naming its target: API calls never follow redirects."""
    status = answer.status
    if 300 <= status < 400:
        target = redact(answer.location, secrets) or "no Location given"
        return PowerSchoolError(
            f"{what}: the server redirected to {target}; API calls never follow redirects "
            "(check the server address)",
            status=status,
            response=response,
        )
    fallback = f"{what}: {answer.reason or 'HTTP error'}"
    message, errors = server_message(answer, fallback, secrets)
    if gave_up:
        message = f"{message} ({gave_up})"
    cls = error_class(status)
    kwargs: dict[str, Any] = {"status": status, "errors": errors, "response": response}
    if cls is AccessDenied:
        kwargs["access_requests"] = access_requests
    elif cls is RateLimited:
        kwargs["retry_after"] = retry_after
    return cls(message, **kwargs)


# TLS causes, by words OpenSSL uses in its verify message, with what fixes each.
_TLS_CAUSES = (
    ("expired", "the server's certificate has expired; its administrator must renew it"),
    (
        "self-signed",
        "the server's certificate is self-signed; to trust it pass "
        "verify='/path/to/its-certificate.pem'",
    ),
    (
        "self signed",
        "the server's certificate is self-signed; to trust it pass "
        "verify='/path/to/its-certificate.pem'",
    ),
    (
        "hostname mismatch",
        "the certificate is not valid for this host name; use the name the certificate names",
    ),
    (
        "doesn't match",
        "the certificate is not valid for this host name; use the name the certificate names",
    ),
    (
        "issuer",
        "the certificate comes from a CA this machine does not trust (a private CA?); pass "
        "verify='/path/to/ca-bundle.pem'",
    ),
)
_TLS_OTHER = "the TLS handshake failed; for a private CA pass verify='/path/to/ca-bundle.pem'"

_TRANSPORT_WORDS = {
    "name-not-found": "the server name was not found (DNS); check the server address",
    "connect-refused": "the connection was refused or failed (is the address right and the "
    "server up?)",
    "connect-timeout": "no connection within the connect timeout (server down or unreachable?)",
    "read-timeout": "the server did not answer within the read timeout",
    "deadline": "the answer took longer than the overall deadline (Timeouts.total)",
    "connection-reset": "the connection was reset before the answer was complete",
    "too-large": "the answer was larger than the client reads for this kind of answer",
    "invalid-request": "the request could not be sent as given",
}


def tls_cause(detail: str) -> str:
    """The cause of a TLS failure and its fix, from OpenSSL's verify message."""
    lowered = detail.lower()
    for marker, words in _TLS_CAUSES:
        if marker in lowered:
            return words
    return _TLS_OTHER


def transport_message(kind: str, detail: str, server: str) -> str:
    """What failed talking to `server`, in words a user can act on."""
    said = f" ({detail})" if detail else ""
    if kind == "tls":
        return f"TLS verification failed for {server}{said}: {tls_cause(detail)}"
    return f"{server}: {_TRANSPORT_WORDS.get(kind, kind)}{said}"
