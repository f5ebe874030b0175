"""OAuth client-credentials records and decisions: what to ask for and what came back.

Pure: the caller passes `now` (seconds since the epoch) and does the sending. Secrets and
tokens are kept out of every repr.
"""

from __future__ import annotations

import base64
import json
import math
from typing import Any

import attrs

from acme_powerschool.core.errors import AuthenticationError
from acme_powerschool.core.redact import redact

TOKEN_PATH = "/oauth/access_token"
FORM_CONTENT_TYPE = "application/x-www-form-urlencoded;charset=UTF-8"


def _nonblank(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{attribute.name} must be a non-empty string")


@attrs.frozen
class Credentials:
    """A plugin's client id and secret (the secret never shows in repr)."""

    client_id: str = attrs.field(validator=_nonblank)
    client_secret: str = attrs.field(validator=_nonblank, repr=False)


def _token_text(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    _nonblank(_inst, attribute, value)
    # A token goes into an HTTP header: white space or control characters would make
    # requests refuse it with an error that quotes the header, token included.
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in value):
        raise ValueError(f"{attribute.name} contains white space or control characters")


@attrs.frozen
class TokenState:
    """A bearer token and when it stops working (None when unknown).

    `early_refresh` is False for a token the server re-issued unchanged: asking again before
    it expires would only bring it back once more with less time left (fact sheet 1.7), so
    it is replaced at its deadline instead.
    """

    access_token: str = attrs.field(validator=_token_text, repr=False)
    expires_at: float | None = None
    obtained_at: float | None = None
    early_refresh: bool = True


@attrs.frozen
class TokenRequest:
    """The token request to send: POST `path` with these headers and form body."""

    path: str
    headers: dict[str, str] = attrs.field(repr=False)
    body: str


def token_request(creds: Credentials) -> TokenRequest:
    """The client-credentials request PowerSchool expects (Basic auth + form body)."""
    pair = f"{creds.client_id}:{creds.client_secret}".encode()
    return TokenRequest(
        path=TOKEN_PATH,
        headers={
            "Authorization": "Basic " + base64.b64encode(pair).decode("ascii"),
            "Content-Type": FORM_CONTENT_TYPE,
            "Accept": "application/json",
        },
        body="grant_type=client_credentials",
    )


def _seconds(value: Any) -> float | None:
    """expires_in arrives as a JSON string of seconds ("1814654"), sometimes a number."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        number = float(value)
    elif isinstance(value, str):
        try:
            number = float(value.strip())
        except ValueError:
            return None
    else:
        return None
    if math.isnan(number) or math.isinf(number) or number < 0:
        return None
    return number


def token_from_response(
    status: int, body: bytes, now: float, secrets: frozenset[str] = frozenset()
) -> TokenState:
    """Read the token endpoint's answer; AuthenticationError names what went wrong.

    The error message carries PowerSchool's `error` / `error_description` with every form of
    `secrets` redacted, never the body verbatim (a misconfigured proxy could echo credentials
    back).
    """
    try:
        payload = json.loads(body.decode("utf-8")) if body else None
    except (UnicodeDecodeError, ValueError, RecursionError):
        payload = None
    if status != 200:
        detail = ""
        if isinstance(payload, dict):
            parts = [
                redact(str(payload.get(k, "")), secrets)[:300]
                for k in ("error", "error_description")
            ]
            detail = ": " + " - ".join(p for p in parts if p) if any(parts) else ""
        hint = (
            " (check the client id and secret)"
            if status in (400, 401)
            else " (the server failed; try again later)"
            if status >= 500
            else ""
        )
        raise AuthenticationError(
            f"PowerSchool refused the token request{detail}{hint}", status=status
        )
    if not isinstance(payload, dict):
        raise AuthenticationError("the token response is not a JSON object", status=status)
    token = payload.get("access_token")
    if not isinstance(token, str) or not token.strip():
        raise AuthenticationError("the token response has no access_token", status=status)
    lifetime = _seconds(payload.get("expires_in"))
    expires_at = None if lifetime is None else now + lifetime
    return TokenState(access_token=token, expires_at=expires_at, obtained_at=now)


def needs_refresh(token: TokenState | None, now: float, margin: float) -> bool:
    """True when there is no token or it expires within `margin` seconds of `now`.

    Monotonic in `now`: once a token needs refreshing it keeps needing it.
    """
    if token is None:
        return True
    if token.expires_at is None:
        return False
    if not token.early_refresh:
        return now >= token.expires_at
    if token.obtained_at is not None:
        # A short-lived token is not refreshed on every call: keep 90% of its life.
        margin = min(margin, max(0.0, token.expires_at - token.obtained_at) * 0.1)
    return now >= token.expires_at - margin


def settle_refreshed(previous: TokenState | None, fresh: TokenState) -> TokenState:
    """The token to keep after a refresh: a re-issued same token waits for its deadline."""
    if previous is not None and previous.access_token == fresh.access_token:
        return attrs.evolve(fresh, early_refresh=False)
    return fresh


def adopt_stored(
    stored: TokenState | None,
    current: TokenState | None,
    rejected: str | None,
    now: float,
    margin: float,
) -> bool:
    """Whether a token found in the store (saved by another process) can be used instead of
    fetching one: it must be new to us, not the one the server just refused, and fresh."""
    return (
        stored is not None
        and stored.access_token != rejected
        and (current is None or stored.access_token != current.access_token)
        and not needs_refresh(stored, now, margin)
    )


def refresh_allowed(has_credentials: bool, hold_until: float | None, now: float) -> bool:
    """Whether a refused token may be replaced now: credentials are known and no hold (a
    fresh token was refused too, see RetryPolicy.refused_token_hold) is in force."""
    return has_credentials and (hold_until is None or now >= hold_until)
