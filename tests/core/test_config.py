"""parse_base_url: accepted forms, refusals, and idempotence."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acme_powerschool.core.config import BaseUrl, Timeouts, is_loopback, parse_base_url


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("applegrove.powerschool.com", BaseUrl("https", "applegrove.powerschool.com")),
        ("applegrove.powerschool.com/", BaseUrl("https", "applegrove.powerschool.com")),
        ("Applegrove.PowerSchool.com:8443", BaseUrl("https", "applegrove.powerschool.com", 8443)),
        ("https://ps.example.org", BaseUrl("https", "ps.example.org")),
        ("https://ps.example.org:444/", BaseUrl("https", "ps.example.org", 444)),
        ("http://127.0.0.1:8080", BaseUrl("http", "127.0.0.1", 8080)),
        ("http://127.5.6.7:1", BaseUrl("http", "127.5.6.7", 1)),
        ("http://localhost:9000/", BaseUrl("http", "localhost", 9000)),
        ("http://[::1]:8080", BaseUrl("http", "::1", 8080)),
        ("https://ps.example.org:443/", BaseUrl("https", "ps.example.org")),
        ("http://127.0.0.1:80", BaseUrl("http", "127.0.0.1")),
        ("bücher.example", BaseUrl("https", "xn--bcher-kva.example")),
    ],
)
def test_accepted_forms(raw: str, expected: BaseUrl) -> None:
    assert parse_base_url(raw) == expected


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("", "required"),
        ("   ", "required"),
        ("http://ps.example.org", "loopback"),
        ("http://10.0.0.5:8080", "loopback"),
        ("ftp://ps.example.org", "scheme"),
        ("https://ps.example.org/admin", "path"),
        ("https://ps.example.org/?x=1", "path"),
        ("https://user:pw@ps.example.org", "user name"),
        ("https://ps.example.org:99999", "valid"),
        ("https://ps.exa mple.org", "white space"),
        ("https://", "host"),
        ("ps.example.org\x00", "host name"),
        ("ps.exa%6dple.org", "host name"),
        ("a..b", "host name"),
        ("ps.example.org;x", "host name"),
        ("-ps.example.org", "host name"),
    ],
)
def test_refusals_say_what_was_wrong(raw: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint):
        parse_base_url(raw)


def test_refusal_never_echoes_a_password() -> None:
    with pytest.raises(ValueError) as info:
        parse_base_url("https://user:hunter2@ps.example.org")
    assert "hunter2" not in str(info.value)


label = r"[a-z]([a-z0-9-]{0,8}[a-z0-9])?"
hosts = st.from_regex(rf"{label}(\.{label}){{0,3}}", fullmatch=True)


@given(hosts, st.none() | st.integers(1, 65535), st.booleans(), st.booleans())
def test_parse_is_idempotent(host: str, port: int | None, scheme: bool, slash: bool) -> None:
    raw = (
        ("https://" if scheme else "")
        + host
        + (f":{port}" if port else "")
        + ("/" if slash else "")
    )
    parsed = parse_base_url(raw)
    assert parse_base_url(parsed.root) == parsed
    assert parse_base_url(parsed.netloc) == parsed
    assert parsed.port == (None if port == 443 else port)


@given(st.text(max_size=60))
def test_parse_raises_only_value_error(raw: str) -> None:
    try:
        parsed = parse_base_url(raw)
    except ValueError:
        return
    assert parsed.scheme == "https" or is_loopback(parsed.host)


@given(st.ip_addresses(v=4))
def test_http_only_for_loopback(ip: object) -> None:
    raw = f"http://{ip}:8080"
    if is_loopback(str(ip)):
        assert parse_base_url(raw).scheme == "http"
    else:
        with pytest.raises(ValueError, match="loopback"):
            parse_base_url(raw)


def test_timeouts_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Timeouts(connect=0)
    assert Timeouts().as_requests() == (10.0, 60.0)
