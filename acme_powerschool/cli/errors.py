"""The exit-status table and the one error line: what an exception means to a script (its exit
status) and to a person (one line, in the command's words, with no control character).

What an exception *is* (which HTTP status, whether a failed send may heal) is the library's
answer; this module only presents it.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from acme_powerschool.cli.common import (
    ENV_CA_BUNDLE,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    EXIT_ERROR,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_TRY_LATER,
)

# Library phrases meant for Python callers, in the command's words.
CLI_WORDS = (
    (
        "passed to api()",
        f"set in {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}",
    ),
)


def exit_code_for_status(status: int) -> int:
    """The exit status for an HTTP answer: 4 when the server refused the request as sent (4xx),
    5 when it may work later (5xx, 429/509 throttling), 0 for success, 1 otherwise."""
    if status in (429, 509) or 500 <= status < 600:
        return EXIT_TRY_LATER
    if 400 <= status < 500:
        return EXIT_REFUSED
    return EXIT_OK if 200 <= status < 400 else EXIT_ERROR


def _causes(exc: BaseException | None) -> Iterator[BaseException]:
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = (
            exc.__cause__
            if exc.__cause__ is not None or exc.__suppress_context__
            else (exc.__context__)
        )


def failed_send(exc: BaseException) -> Any:
    """The library's classification (a TransportError outcome) of the first failed send in
    the chain of causes, or None when no request failed on the wire."""
    import requests

    from acme_powerschool.shell.http import transport_error

    for cause in _causes(exc):
        if isinstance(cause, requests.RequestException):
            return transport_error(cause)
    return None


def exit_code_for(exc: BaseException) -> int:
    """One rule for every command: 4 for a refused request, 5 for "try again later" (5xx, a
    maintenance page, throttling, a connection that failed or broke off), 1 for the rest."""
    from acme_powerschool.core.errors import PowerSchoolError, RateLimited, ServerError

    sent = failed_send(exc)
    if sent is not None:
        return EXIT_TRY_LATER if sent.retryable else EXIT_ERROR
    if isinstance(exc, PowerSchoolError) and exc.status:
        code = exit_code_for_status(exc.status)
        return EXIT_ERROR if code == EXIT_OK else code
    if isinstance(exc, ServerError | RateLimited):
        return EXIT_TRY_LATER
    return EXIT_ERROR


def error_message(exc: BaseException, server: str = "the server") -> str:
    """What to tell the user about an exception (flattened to one line by the caller)."""
    from acme_powerschool.core.errors import AccessDenied, PowerSchoolError

    sent = failed_send(exc)
    if sent is not None:
        return _transport_message(sent.kind, server)
    if isinstance(exc, AccessDenied):
        fields = [line for line in exc.access_requests.splitlines() if line.strip()]
        extra = f"; add to plugin.xml: {' '.join(fields)}" if fields else ""
        return f"access denied: {exc}{extra} (`acme-powerschool access-requests` prints the block)"
    if isinstance(exc, PowerSchoolError):
        details = error_details(exc.errors, str(exc))
        return cli_words(f"{exc}: {details}" if details else str(exc))
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    if isinstance(exc, ImportError):
        return f"{exc} (is the right extra installed? pip install 'acme-powerschool[cli]')"
    return cli_words(str(exc) or type(exc).__name__)


def _transport_message(kind: str, server: str) -> str:
    if kind == "tls":
        return (
            f"TLS verification failed for {server}: for a private CA pass --ca-bundle FILE "
            f"(or set {ENV_CA_BUNDLE})"
        )
    what = {
        "connect-refused": "cannot connect (refused or no such host; is the address right?)",
        "connect-timeout": "cannot connect (no answer in time)",
        "read-timeout": "the server did not answer in time (see --timeout)",
        "invalid-request": "the request could not be sent (check the path and options)",
    }.get(kind, "the connection broke off before the answer was complete")
    return f"{server}: {what}"


def cli_words(message: str) -> str:
    for python, cli in CLI_WORDS:
        message = message.replace(python, cli)
    return message


def error_details(errors: Sequence[Any], message: str) -> str:
    """PowerSchool's error entries (`{"field": "schoolid", "code": "Invalid number"}`) as
    `schoolid: Invalid number; ...`, leaving out what the message already says."""
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


def exit_code_for_response(response: Any) -> int:
    """The exit status for a raw verb's answer: by its status, and 5 for what the library
    classifies as "try again later" whatever the status (a maintenance page served as 200)."""
    import time

    from acme_powerschool.core.outcome import RateLimited, Unavailable, classify

    outcome = classify(response.status_code, response.headers, response.content, time.time())
    if isinstance(outcome, Unavailable | RateLimited):
        return EXIT_TRY_LATER
    return exit_code_for_status(response.status_code)
