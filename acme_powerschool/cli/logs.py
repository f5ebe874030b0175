"""`--verbose` / `--debug`: the library's log on stderr, one line per record, with every
secret the command knows (and anything shaped like a credential) redacted and control
characters escaped. The library already keeps headers and bodies out of its log; this is
the second fence, for whatever a server or a proxy echoes back.
"""

from __future__ import annotations

import base64
import logging
import os
import re
import sys
from collections.abc import Iterable

from acme_powerschool.cli.common import ENV_CLIENT_ID, ENV_CLIENT_SECRET, one_line

REDACTED = "[redacted]"
_SHAPES = re.compile(
    r"(?i)(\b(?:bearer|basic)\s+)[A-Za-z0-9._~+/=-]+"
    r"|((?:access_token|client_secret|password|authorization)[\"']?\s*[:=]\s*[\"']?)[^\"'&\s,}]+"
)


def known_secrets(environ: dict[str, str] | None = None) -> list[str]:
    """The secrets the command was given, in every form they travel in (plain, Basic)."""
    env = os.environ if environ is None else environ
    client_id = env.get(ENV_CLIENT_ID, "").strip()
    secret = env.get(ENV_CLIENT_SECRET, "").strip()
    if not secret:
        return []
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode("ascii")
    return [secret, basic]


def redact(text: str, secrets: Iterable[str]) -> str:
    for secret in sorted((s for s in secrets if len(s) >= 4), key=len, reverse=True):
        text = text.replace(secret, REDACTED)
    return _SHAPES.sub(lambda m: (m.group(1) or m.group(2)) + REDACTED, text)


class RedactingFormatter(logging.Formatter):
    """`debug: acme_powerschool: GET /ws/v1/student/2 -> 200 (attempt 1)`, on one line."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__("%(levelname)s: %(name)s: %(message)s")
        self.secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        record.levelname = record.levelname.lower()
        text = super().format(record)
        return one_line(redact(text, self.secrets), limit=2000)


def configure(verbosity: int) -> logging.Handler | None:
    """1: the library's INFO log (retries, token refreshes); 2: DEBUG, with urllib3's
    connection log. Returns the handler so that a test can remove it."""
    if verbosity <= 0:
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(known_secrets()))
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
