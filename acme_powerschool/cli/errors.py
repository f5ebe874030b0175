"""The exit-status table and the one error line: what an exception means to a script (its exit
status) and to a person (one line, in the command's words, with no control character).

What an exception *is* (which HTTP status, what failed on the wire, whether trying again can
heal it) is the library's answer (`transport_failure`, core/retry.py's TRANSPORT table); this
module only presents it.
"""

from __future__ import annotations

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
    ("verify='/path/to/its-certificate.pem'", "--ca-bundle its-certificate.pem"),
    ("verify='/path/to/ca-bundle.pem'", f"--ca-bundle FILE (or set {ENV_CA_BUNDLE})"),
    ("passed to api()", f"set in {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}"),
    (" (Timeouts.total)", ""),
    (" (RetryPolicy.refused_token_hold)", ""),
)


def cli_words(message: str) -> str:
    for python, cli in CLI_WORDS:
        message = message.replace(python, cli)
    return message


def exit_code_for_status(status: int) -> int:
    """The exit status for an HTTP answer: 4 when the server refused the request as sent (4xx),
    5 when it may work later (5xx, 429/509 throttling), 0 for success, 1 otherwise."""
    if status in (429, 509) or 500 <= status < 600:
        return EXIT_TRY_LATER
    if 400 <= status < 500:
        return EXIT_REFUSED
    return EXIT_OK if 200 <= status < 400 else EXIT_ERROR


def connection_failure(exc: BaseException, server: str = "the server") -> Any:
    """The library's ConnectionFailed for `exc` (it is one, or a failed send is among its
    causes), or None when no request failed on the wire."""
    from acme_powerschool.client import transport_failure
    from acme_powerschool.core.errors import ConnectionFailed

    if isinstance(exc, ConnectionFailed) and exc.kind:
        return exc
    return transport_failure(exc, server)


def exit_code_for(exc: BaseException) -> int:
    """One rule for every command: 4 for a refused request, 5 for "try again later" (5xx, a
    maintenance page, throttling, a failed send that can heal), 1 for the rest."""
    from acme_powerschool.core.errors import PowerSchoolError, RateLimited, ServerError
    from acme_powerschool.core.retry import TRANSPORT, UNKNOWN_TRANSPORT

    failure = connection_failure(exc)
    if failure is not None:
        heals = TRANSPORT.get(failure.kind, UNKNOWN_TRANSPORT).heals
        return EXIT_TRY_LATER if heals else EXIT_ERROR
    if isinstance(exc, PowerSchoolError) and exc.status:
        code = exit_code_for_status(exc.status)
        return EXIT_ERROR if code == EXIT_OK else code
    if isinstance(exc, ServerError | RateLimited):
        return EXIT_TRY_LATER
    return EXIT_ERROR


def error_message(exc: BaseException, server: str = "the server") -> str:
    """What to tell the user about an exception (flattened to one line by the caller)."""
    from acme_powerschool.core.errors import AccessDenied

    failure = connection_failure(exc, server)
    if failure is not None:
        return cli_words(str(failure))
    if isinstance(exc, AccessDenied):
        fields = [line for line in exc.access_requests.splitlines() if line.strip()]
        extra = f"; add to plugin.xml: {' '.join(fields)}" if fields else ""
        return f"access denied: {exc}{extra} (`acme-powerschool access-requests` prints the block)"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    if isinstance(exc, ImportError):
        return f"{exc} (is the right extra installed? pip install 'acme-powerschool[cli]')"
    return cli_words(str(exc) or type(exc).__name__)


def exit_code_for_response(response: Any) -> int:
    """The exit status for a raw verb's answer: by its status, and 5 for what the library
    classifies as "try again later" whatever the status (a maintenance page served as 200)."""
    import time

    from acme_powerschool.core.outcome import Throttled, Unavailable, classify

    outcome = classify(response.status_code, response.headers, response.content, time.time())
    if isinstance(outcome, Unavailable | Throttled):
        return EXIT_TRY_LATER
    return exit_code_for_status(response.status_code)
