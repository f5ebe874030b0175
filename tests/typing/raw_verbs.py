"""A user's script that `mypy --strict` checks: the raw verbs return a Response that declares
`access_requests`, and the client is a context manager. Never run by pytest."""

from __future__ import annotations

import requests

import acme_powerschool
from acme_powerschool.core.token import TokenState


def grants_needed(server: str, client_id: str, client_secret: str) -> str:
    with acme_powerschool.api(server, client_id=client_id, client_secret=client_secret) as ps:
        token: TokenState = ps.fetch_token()
        r = ps.get("ws/schema/query/com.pearson.core.attendance.daily_attendance_template")
        plain: requests.Response = r  # still a requests.Response
        ps.raise_for_response(plain) if plain.status_code != 403 else None
        lines: str = r.access_requests
        return lines if token.expires_at is None else lines.strip()
