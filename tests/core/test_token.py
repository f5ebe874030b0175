"""Token records and decisions: parsing the token endpoint, refresh timing, secrecy."""

from __future__ import annotations

import base64
import contextlib
import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acme_powerschool.core.errors import AuthenticationError
from acme_powerschool.core.plan import FetchToken, MissingCredentials, Send, plan_request
from acme_powerschool.core.token import (
    Credentials,
    TokenState,
    needs_refresh,
    token_from_response,
    token_request,
)

CREDS = Credentials("7ebf0a8e-f760", "1f8c6f57-2ced-secret")


def test_token_request_is_basic_auth_and_form_body() -> None:
    req = token_request(CREDS)
    assert req.path == "/oauth/access_token"
    assert req.body == "grant_type=client_credentials"
    scheme, encoded = req.headers["Authorization"].split()
    assert scheme == "Basic"
    assert base64.b64decode(encoded).decode() == "7ebf0a8e-f760:1f8c6f57-2ced-secret"
    assert req.headers["Content-Type"].startswith("application/x-www-form-urlencoded")


def test_secrets_stay_out_of_repr() -> None:
    assert "secret" not in repr(CREDS)
    assert "tok-123" not in repr(TokenState("tok-123", 10.0, 0.0))
    assert "1f8c6f57" not in repr(token_request(CREDS))


@pytest.mark.parametrize("expires_in", ["1814654", 1814654, 1814654.0, " 1814654 "])
def test_expires_in_string_or_number(expires_in: object) -> None:
    body = json.dumps(
        {"access_token": "ce88", "token_type": "Bearer", "expires_in": expires_in}
    ).encode()
    token = token_from_response(200, body, now=1000.0)
    assert token.access_token == "ce88"
    assert token.expires_at == 1000.0 + 1814654


def test_unparseable_expiry_means_unknown() -> None:
    body = b'{"access_token":"ce88","expires_in":"soon"}'
    assert token_from_response(200, body, now=5.0).expires_at is None


@pytest.mark.parametrize(
    ("status", "body", "complaint"),
    [
        (401, b'{"error":"invalid_client","error_description":"Bad"}', "invalid_client"),
        (401, b"", "refused"),
        (500, b"<html>oops</html>", "refused"),
        (200, b"<html>maintenance</html>", "not a JSON object"),
        (200, b'{"token_type":"Bearer"}', "no access_token"),
        (200, b'{"access_token":""}', "no access_token"),
    ],
)
def test_token_failures_are_authentication_errors(status: int, body: bytes, complaint: str) -> None:
    with pytest.raises(AuthenticationError, match=complaint) as info:
        token_from_response(status, body, now=0.0)
    assert isinstance(info.value, RuntimeError)


@given(st.binary(max_size=300), st.integers(100, 599))
def test_token_parser_raises_only_authentication_error(body: bytes, status: int) -> None:
    with contextlib.suppress(AuthenticationError):
        token_from_response(status, body, now=0.0)


@given(
    st.floats(0, 1e9),
    st.floats(1, 1e8),
    st.floats(0, 1e4),
    st.lists(st.floats(0, 2e9), min_size=2, max_size=10),
)
def test_refresh_is_monotonic_in_time(
    obtained: float, lifetime: float, margin: float, times: list[float]
) -> None:
    token = TokenState("t", obtained + lifetime, obtained)
    answers = [needs_refresh(token, now, margin) for now in sorted(times)]
    # once True, stays True
    assert answers == sorted(answers)
    assert needs_refresh(token, obtained + lifetime, margin)


def test_short_lived_token_keeps_most_of_its_life() -> None:
    token = TokenState("t", expires_at=100.0, obtained_at=0.0)
    assert not needs_refresh(token, 50.0, margin=300.0)
    assert needs_refresh(token, 95.0, margin=300.0)


def test_plan_request_decisions() -> None:
    fresh = TokenState("t", expires_at=10_000.0, obtained_at=0.0)
    assert plan_request(CREDS, fresh, 10.0, 300.0) == Send(fresh)
    assert isinstance(plan_request(CREDS, None, 10.0, 300.0), FetchToken)
    assert isinstance(plan_request(CREDS, fresh, 9_999.0, 300.0), FetchToken)
    given_token = TokenState("given")
    assert plan_request(None, given_token, 1e12, 300.0) == Send(given_token)
    assert isinstance(plan_request(None, None, 0.0, 300.0), MissingCredentials)
