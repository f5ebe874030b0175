"""What a response (or a failed send) means, as one of a few nouns.

`classify` is a table from status, headers and body to an Outcome; it never raises.
"""

from __future__ import annotations

from collections.abc import Mapping
from email.utils import parsedate_to_datetime

import attrs


@attrs.frozen
class Ok:
    """2xx with a usable body."""


@attrs.frozen
class Unauthorized:
    """401. `token_problem` is False when a new token cannot help (plugin not allowed)."""

    token_problem: bool = True
    detail: str = attrs.field(default="", repr=False)  # server text: may echo a secret


@attrs.frozen
class Forbidden:
    """403: the plugin lacks a field grant or access level."""


@attrs.frozen
class Throttled:
    """429 (or 509): too many requests; `retry_after` in seconds when the server said.

    (The error a caller sees when throttling outlasts the retry budget is
    `acme_powerschool.errors.RateLimited`; this is the outcome that leads to it.)"""

    retry_after: float | None = None


@attrs.frozen
class Unavailable:
    """502, 503, 504, or PowerSchool's HTML maintenance page: try again later
    (`retry_after` seconds, when the server said)."""

    status: int
    retry_after: float | None = None


@attrs.frozen
class Failed:
    """Any other status: final."""

    status: int


@attrs.frozen
class TransportError:
    """No complete response. `kind` names what failed (one of `TRANSPORT_KINDS`); `detail` is
    the cause in words when the shell could tell (an expired certificate, a refused port).
    Whether it may be repeated is decided in `acme_powerschool.core.retry`, nowhere else."""

    kind: str
    detail: str = ""


# The failures the shell can observe (shell/http.py names them; core/retry.py decides on them).
TRANSPORT_KINDS = (
    "name-not-found",  # DNS has no such host
    "connect-refused",  # nothing listens on that port
    "connect-timeout",  # no TCP connection within the connect timeout
    "read-timeout",  # connected, then no byte within the read timeout
    "deadline",  # the whole call took longer than its overall deadline
    "connection-reset",  # the connection broke mid-request or mid-answer
    "too-large",  # the answer is larger than this kind of answer ever is
    "tls",  # the certificate or the TLS handshake failed
    "invalid-request",  # the request cannot be sent as given (bad header, bad URL)
)


Outcome = Ok | Unauthorized | Forbidden | Throttled | Unavailable | Failed | TransportError

RETRYABLE_STATUSES = frozenset({502, 503, 504})
MAINTENANCE_MARKERS = (b"unavailable", b"maintenance", b"temporarily")


def parse_retry_after(value: str | None, now: float) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP date), or None."""
    if not value:
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = parsedate_to_datetime(text)
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - now
    if seconds != seconds or seconds in (float("inf"), float("-inf")):
        return None
    return max(0.0, seconds)


def is_maintenance_page(content_type: str, body: bytes, *, strict: bool = False) -> bool:
    """PowerSchool's HTML 'page unavailable' page, sent where JSON was expected.

    `strict` (for 2xx answers) also requires the page to name PowerSchool, so an ordinary
    HTML page that mentions maintenance is not mistaken for an outage.
    """
    if "html" not in content_type.lower():
        return False
    head = body[:4096].lower()
    if strict and b"powerschool" not in head:
        return False
    return any(marker in head for marker in MAINTENANCE_MARKERS)


def classify(status: int, headers: Mapping[str, str], body: bytes, now: float) -> Outcome:
    """Map one HTTP response to an Outcome. Header lookup is case-insensitive."""
    lowered = {k.lower(): v for k, v in headers.items()}
    content_type = lowered.get("content-type", "")
    retry_after = parse_retry_after(lowered.get("retry-after"), now)
    if 200 <= status < 300:
        if status != 204 and is_maintenance_page(content_type, body, strict=True):
            return Unavailable(status, retry_after)
        return Ok()
    if status == 401:
        text = body[:2048].decode("utf-8", "replace")
        if "Must be logged in" in text or "accessLevelV1Api" in text:
            return Unauthorized(token_problem=False, detail=text.strip())
        return Unauthorized()
    if status == 403:
        return Forbidden()
    if status in (429, 509):
        return Throttled(retry_after)
    if status in RETRYABLE_STATUSES or (status >= 500 and is_maintenance_page(content_type, body)):
        return Unavailable(status, retry_after)
    return Failed(status)
