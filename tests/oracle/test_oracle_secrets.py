"""No shape of input makes the Oracle helper or the base URL parser quote any part of a
password (issue 11 item 2): `user:password@host`, userinfo with '#' or '?', stray '@'."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acme_powerschool.core.config import parse_base_url
from acme_powerschool.core.oracle_dsn import parse_connection_string, resolve_parts

# Characters no fixed message of ours uses in a run of four, so any 4-character window of
# the password found in a message was copied from the input.
passwords = st.text(alphabet="QZXJKVW#?@:/%!&*~^", min_size=6, max_size=24)
users = st.sampled_from(["psnavigator", "reader", "PS"])
hosts = st.sampled_from(["ps.example.org", "127.0.0.1", "[::1]", "applegrove.powerschool.com"])
tails = st.sampled_from(["", ":1521", ":1521/psproddb", ":1521:PSSID", "/PSTEST", ":port/db"])
ORACLE_SHAPES = [
    "{user}:{pw}@{host}{tail}",
    "{user}/{pw}@{host}{tail}",
    "{user}@{pw}@{host}{tail}",
    "{user}/{pw}",
    "{user}:{pw}",
    "{pw}",
    "{pw}@{host}{tail}",
    "{user}/{pw}@",
    "{user}@{host}:{pw}",
    "{user}@{host}/{pw}",
    "{user}@{host}:1521:{pw}",
    "{user} {pw}@{host}",
]
URL_SHAPES = [
    "https://{user}:{pw}@{host}",
    "{user}:{pw}@{host}",
    "https://{user}:{pw}@{host}:443/",
    "http://{user}:{pw}@127.0.0.1:8080",
    "https://{pw}@{host}",
    "https://{host}:{pw}",
]


def windows(secret: str, size: int = 4) -> set[str]:
    return {secret[i : i + size] for i in range(len(secret) - size + 1)}


def assert_not_quoted(message: str, secret: str) -> None:
    leaked = [part for part in windows(secret) if part in message]
    assert not leaked, f"{leaked} of the password is in: {message}"


@given(passwords, users, hosts, tails, st.sampled_from(ORACLE_SHAPES))
def test_no_connection_string_error_quotes_the_password(
    pw: str, user: str, host: str, tail: str, shape: str
) -> None:
    text = shape.format(user=user, pw=pw, host=host, tail=tail)
    try:
        parse_connection_string(text)
    except ValueError as exc:
        assert_not_quoted(str(exc), pw)


@given(passwords, hosts)
def test_no_argument_error_quotes_the_password(pw: str, host: str) -> None:
    """The same value passed as user=, server=, database= or port= is never quoted either."""
    for field in ("user", "server", "database", "port"):
        kwargs: dict[str, object] = {
            "server": host.strip("[]"),
            "user": "reader",
            "password": None,
            "port": 1521,
            "database": "psproddb",
            "connectionstring": None,
            "sid": None,
        }
        kwargs[field] = pw
        try:
            resolve_parts(**kwargs)  # type: ignore[arg-type]
        except (ValueError, TypeError) as exc:
            assert_not_quoted(str(exc), pw)


def test_user_colon_password_says_how_to_write_it() -> None:
    with pytest.raises(ValueError) as info:
        parse_connection_string("psnavigator:Sup3rSecret@ps.example.org:1521/psproddb")
    message = str(info.value)
    assert "Sup3r" not in message and "Secret" not in message
    assert "user/password@server" in message


@given(passwords, users, hosts, st.sampled_from(URL_SHAPES))
def test_no_base_url_error_quotes_the_password(pw: str, user: str, host: str, shape: str) -> None:
    text = shape.format(user=user, pw=pw, host=host)
    with pytest.raises(ValueError) as info:
        parse_base_url(text)
    assert_not_quoted(str(info.value), pw)


@pytest.mark.parametrize(
    "url",
    ["https://admin:pa#ss1234@ps.example.org", "https://admin:pa?ss1234@ps.example.org"],
)
def test_userinfo_with_hash_or_question_mark_is_refused_without_a_trace(url: str) -> None:
    with pytest.raises(ValueError, match="user name or password") as info:
        parse_base_url(url)
    assert "pa" not in str(info.value).replace("password", "")
