"""Before sending: use the token we have, fetch one first, or stop for lack of credentials."""

from __future__ import annotations

import attrs

from acme_powerschool.core.token import (
    Credentials,
    TokenRequest,
    TokenState,
    needs_refresh,
    token_request,
)


@attrs.frozen
class Send:
    """Send the call with this token."""

    token: TokenState


@attrs.frozen
class FetchToken:
    """Get a token with this request first."""

    request: TokenRequest


@attrs.frozen
class MissingCredentials:
    """No usable token and nothing to get one with."""

    reason: str


Step = Send | FetchToken | MissingCredentials


def plan_request(
    creds: Credentials | None, token: TokenState | None, now: float, margin: float
) -> Step:
    """Decide what must happen before a call can be sent.

    A token with known expiry is replaced `margin` seconds early when credentials are known;
    without credentials it is used until the server refuses it.
    """
    if token is not None and (creds is None or not needs_refresh(token, now, margin)):
        return Send(token)
    if creds is None:
        return MissingCredentials(
            "no access token and no client_id/client_secret to obtain one; pass "
            "client_id= and client_secret=, credential_file= or plugin="
        )
    return FetchToken(token_request(creds))
