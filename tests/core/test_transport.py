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
        # addresses, networks and IPv6 literals (bare, bracketed, with a port)
        ("https://10.1.2.3", {**PROXY, "NO_PROXY": "10.0.0.0/8"}, False),
        ("https://10.1.2.3", {**PROXY, "NO_PROXY": "10.1.2.3:443"}, False),
        ("https://11.1.2.3", {**PROXY, "NO_PROXY": "10.0.0.0/8"}, True),
        ("https://[2001:db8::5]", {**PROXY, "NO_PROXY": "2001:db8::5"}, False),
        ("https://[2001:db8::5]", {**PROXY, "NO_PROXY": "[2001:db8::5]:443"}, False),
        ("https://[2001:db8::5]", {**PROXY, "NO_PROXY": "2001:db8::/32"}, False),
        ("https://[2001:db8::5]", {**PROXY, "NO_PROXY": "2001:db9::/32,db8"}, True),
        ("https://[2001:db8::5]", {**PROXY, "NO_PROXY": "2001"}, True),
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


@given(
    st.ip_addresses(v=6).filter(lambda a: not a.is_loopback),
    st.sampled_from(["{}", "[{}]", "[{}]:8443", " {} ,other.example"]),
)
def test_an_ipv6_server_listed_in_no_proxy_in_any_form_gets_no_proxy(
    address: object, form: str
) -> None:
    server = parse_base_url(f"https://[{address}]")
    listed = decide_transport(server, None, {**PROXY, "NO_PROXY": form.format(address)})
    assert listed.proxy is None
    other = decide_transport(server, None, {**PROXY, "NO_PROXY": "[::1]:443,127.0.0.1"})
    assert other.proxy is not None


@given(st.ip_addresses(v=4), st.integers(min_value=0, max_value=32))
def test_a_network_in_no_proxy_holds_exactly_its_addresses(address: object, prefix: int) -> None:
    import ipaddress

    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    probe = ipaddress.ip_address(int(network.network_address) ^ (1 << (31 - min(prefix, 31))))
    for host, inside in ((address, True), (probe, probe in network)):
        server = parse_base_url(f"https://{host}")
        if server.host in ("127.0.0.1",) or ipaddress.ip_address(server.host).is_loopback:
            continue
        settings = decide_transport(server, None, {**PROXY, "NO_PROXY": str(network)})
        assert (settings.proxy is None) is inside
