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
    adopt_stored,
    needs_refresh,
    settle_refreshed,
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


@given(st.floats(1, 1e6), st.lists(st.floats(0, 1), min_size=1, max_size=30))
def test_a_reissued_token_is_refreshed_at_most_once_per_lifetime(
    lifetime: float, fractions: list[float]
) -> None:
    """PowerSchool re-issues the same token with less time left (fact sheet 1.7): refreshing
    it early would bring it back again and again. After one early refresh that returns the
    same token, the next refresh waits for the deadline."""
    start = 1000.0
    token = TokenState("same", start + lifetime, start)
    refreshes = 0
    now = start
    for fraction in sorted(fractions):
        now = start + fraction * lifetime
        if needs_refresh(token, now, margin=300.0) and now < start + lifetime:
            refreshes += 1
            reissued = TokenState("same", start + lifetime, now)  # remaining life only
            token = settle_refreshed(token, reissued)
    assert refreshes <= 1


def test_a_new_token_keeps_early_refresh() -> None:
    old = TokenState("old", 100.0, 0.0)
    new = TokenState("new", 200.0, 95.0)
    assert settle_refreshed(old, new) is new
    assert settle_refreshed(None, new) is new


@pytest.mark.parametrize("bad", ["s3cr3t-tok en", "s3cr3t-tok\n", "s3cr3t-tok\x00", "\ts3cr3t-tok"])
def test_tokens_with_white_space_or_control_characters_are_refused_without_echo(
    bad: str,
) -> None:
    with pytest.raises(ValueError) as info:
        TokenState(bad)
    assert bad.strip() not in str(info.value)


def test_adopt_stored_rules() -> None:
    fresh = TokenState("b", 10_000.0, 0.0)
    assert adopt_stored(fresh, None, None, 10.0, 300.0)
    assert not adopt_stored(fresh, fresh, None, 10.0, 300.0)  # nothing new
    assert not adopt_stored(fresh, None, "b", 10.0, 300.0)  # the one just refused
    assert not adopt_stored(fresh, None, None, 9_999.0, 300.0)  # stale
    assert not adopt_stored(None, None, None, 10.0, 300.0)
