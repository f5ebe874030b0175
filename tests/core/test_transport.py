"""Transport settings decided once (core/transport.py): the caller's verify wins, proxies
from the environment only for remote https servers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acme_powerschool.core.config import parse_base_url
from acme_powerschool.core.transport import decide_transport

PROXY = {"HTTPS_PROXY": "http://user:pw@proxy:3128", "HTTP_PROXY": "http://proxy:3128"}


@pytest.mark.parametrize(
    ("verify", "environ", "expected"),
    [
        (None, {}, True),
        (None, {"REQUESTS_CA_BUNDLE": "/env.pem"}, "/env.pem"),
        (None, {"CURL_CA_BUNDLE": "/curl.pem"}, "/curl.pem"),
        (True, {"REQUESTS_CA_BUNDLE": "/env.pem"}, True),
        (False, {"REQUESTS_CA_BUNDLE": "/env.pem"}, False),
        ("/mine.pem", {"REQUESTS_CA_BUNDLE": "/env.pem"}, "/mine.pem"),
    ],
)
def test_the_callers_verify_wins(
    verify: bool | str | None, environ: dict[str, str], expected: bool | str
) -> None:
    url = parse_base_url("district.powerschool.com")
    assert decide_transport(url, verify, environ).verify == expected


@pytest.mark.parametrize(
    ("server", "environ", "proxied"),
    [
        ("district.powerschool.com", PROXY, True),
        ("district.powerschool.com", {"HTTP_PROXY": "http://proxy:3128"}, False),
        ("district.powerschool.com", {**PROXY, "NO_PROXY": "powerschool.com"}, False),
        ("district.powerschool.com", {**PROXY, "no_proxy": "*"}, False),
        ("district.powerschool.com", {**PROXY, "NO_PROXY": "other.org"}, True),
        # NO_PROXY entries: commas or spaces between, a leading dot, a port, any case
        ("district.powerschool.com", {**PROXY, "NO_PROXY": "other.org,powerschool.com"}, False),
        ("district.powerschool.com", {**PROXY, "NO_PROXY": "other.org powerschool.com"}, False),
        ("district.powerschool.com", {**PROXY, "NO_PROXY": ".powerschool.com"}, False),
        ("district.powerschool.com", {**PROXY, "NO_PROXY": "PowerSchool.com:443"}, False),
        ("sis.xyz.example", {**PROXY, "NO_PROXY": "xyz.example"}, False),
        # a name matches itself and its subdomains, never a longer name ending the same way
        ("district.powerschool.com", {**PROXY, "NO_PROXY": "werschool.com"}, True),
        ("http://127.0.0.1:8080", PROXY, False),
        ("https://localhost:8443", PROXY, False),
        ("https://[::1]:8443", PROXY, False),
    ],
)
def test_proxies_only_for_remote_https(server: str, environ: dict[str, str], proxied: bool) -> None:
    settings = decide_transport(parse_base_url(server), None, environ)
    assert bool(settings.proxies()) is proxied
    assert "pw" not in repr(settings)


@given(st.dictionaries(st.sampled_from(["HTTPS_PROXY", "ALL_PROXY", "NO_PROXY", "x"]), st.text()))
def test_loopback_never_gets_a_proxy(environ: dict[str, str]) -> None:
    for server in ("http://127.0.0.1:1", "http://localhost:2", "https://127.0.0.5"):
        assert decide_transport(parse_base_url(server), None, environ).proxy is None


def test_the_proxy_is_used_for_https_only() -> None:
    settings = decide_transport(parse_base_url("district.powerschool.com"), None, PROXY)
    assert settings.proxies() == {"https": "http://user:pw@proxy:3128"}
