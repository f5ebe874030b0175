"""Redaction: every form of every secret a client knows, removed from text a server sent
before it reaches an exception, a warning, a log line or the CLI. Pure.

The forms: the client secret as it is, percent-encoded and JSON-escaped; the Basic header
value (base64 of `client_id:client_secret`); every access token this client was given or
issued (a Bearer value is the token itself).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from typing import Any
from urllib.parse import quote, quote_plus

REDACTED = "[redacted]"
# Shorter strings would blank ordinary words; no real secret or token is this short.
MIN_SECRET_LENGTH = 6


def _text_forms(value: str) -> set[str]:
    forms = {value, quote(value, safe=""), quote_plus(value), json.dumps(value)[1:-1]}
    return {form for form in forms if len(form) >= MIN_SECRET_LENGTH}


def secret_forms(
    client_id: str | None, client_secret: str | None, tokens: Iterable[str] = ()
) -> frozenset[str]:
    """Every string that would give a secret away, longest first when iterated by `redact`."""
    forms: set[str] = set()
    if client_secret:
        forms |= _text_forms(client_secret)
        if client_id is not None:
            pair = f"{client_id}:{client_secret}".encode()
            forms.add(base64.b64encode(pair).decode("ascii"))
    for token in tokens:
        forms |= _text_forms(token)
    return frozenset(forms)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every occurrence of every secret form replaced by `[redacted]`."""
    for form in sorted(secrets, key=len, reverse=True):
        if form in text:
            text = text.replace(form, REDACTED)
    return text


def redact_json(value: Any, secrets: frozenset[str]) -> Any:
    """A parsed JSON value with every string (keys included) redacted."""
    if isinstance(value, str):
        return redact(value, secrets)
    if isinstance(value, dict):
        return {redact(str(k), secrets): redact_json(v, secrets) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(redact_json(item, secrets) for item in value)
    return value


__all__ = ["REDACTED", "redact", "redact_json", "secret_forms"]
