"""`--verbose` / `--debug`: the library's log on stderr, one line per record, with every
secret the command knows (and anything shaped like a credential) redacted and control
characters escaped. The library already keeps headers and bodies out of its log; this is
the second fence, for whatever a server or a proxy echoes back.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from collections.abc import Callable, Iterable

from acme_powerschool.cli.common import ENV_CLIENT_ID, ENV_CLIENT_SECRET, one_line
from acme_powerschool.core.redact import REDACTED, secret_forms
from acme_powerschool.core.redact import redact as redact_forms

_SHAPES = re.compile(
    r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+"
    r"|((?:access_token|client_secret|password|authorization)[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"
)


def known_secrets(tokens: Iterable[str] = ()) -> frozenset[str]:
    """Every form of the secrets the command was given or issued (core/redact.py decides the
    forms: plain, encoded, Basic)."""
    client_id = os.environ.get(ENV_CLIENT_ID, "").strip() or None
    secret = os.environ.get(ENV_CLIENT_SECRET, "").strip() or None
    return secret_forms(client_id, secret, tokens)


def redact(text: str, secrets: Iterable[str]) -> str:
    """The library's redaction, then anything shaped like a credential (a second fence)."""
    text = redact_forms(text, secrets)
    return _SHAPES.sub(lambda m: (m.group(1) or m.group(2)) + REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """`debug: acme_powerschool: GET /ws/v1/student/2 -> 200 (attempt 1)`, on one line."""

    def __init__(self, tokens: Callable[[], Iterable[str]]) -> None:
        super().__init__("%(levelname)s: %(name)s: %(message)s")
        self.tokens = tokens

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        text = super().format(record)
        return one_line(redact(text, known_secrets(self.tokens())), limit=2000)


def configure(verbosity: int, tokens: Callable[[], Iterable[str]]) -> logging.Handler | None:
    """1: the library's INFO log (retries, token refreshes); 2: DEBUG, with urllib3's
    connection log. Returns the handler so that a test can remove it."""
    if verbosity <= 0:
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(tokens))
    level = logging.INFO if verbosity == 1 else logging.DEBUG
    names = ["acme_powerschool"] + (["urllib3"] if verbosity > 1 else [])
    for name in names:
        logger = logging.getLogger(name)
        logger.setLevel(level)
        logger.addHandler(handler)
    return handler


def unconfigure(handler: logging.Handler | None) -> None:
    if handler is None:
        return
    for name in ("acme_powerschool", "urllib3"):
        logging.getLogger(name).removeHandler(handler)
