"""Transport settings decided once per client, from what the caller said and the environment
(passed in as a mapping: nothing here reads os.environ).

- TLS verification: the caller's `verify=` wins. Only when the caller said nothing does a CA
  bundle named by REQUESTS_CA_BUNDLE or CURL_CA_BUNDLE apply (as plain requests would).
- `.netrc` is never consulted: our Basic and Bearer headers are the only credentials sent.
- Proxies from the environment (HTTPS_PROXY, ALL_PROXY, NO_PROXY) apply only to https servers
  and never to loopback: a token sent over http:// to this machine never leaves it.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping

import attrs

from acme_powerschool.core.config import BaseUrl, is_loopback

CA_BUNDLE_VARIABLES = ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE")
PROXY_VARIABLES = ("https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
NO_PROXY_VARIABLES = ("no_proxy", "NO_PROXY")


@attrs.frozen
class TransportSettings:
    """What every request of one client uses: TLS verification and an https proxy (or none)."""

    verify: bool | str
    proxy: str | None = attrs.field(default=None, repr=False)  # may carry user:password

    def proxies(self) -> dict[str, str]:
        return {"https": self.proxy} if self.proxy else {}


def _first(environ: Mapping[str, str], names: tuple[str, ...]) -> str | None:
    for name in names:
        value = environ.get(name, "").strip()
        if value:
            return value
    return None


def _no_proxy_name(entry: str) -> str:
    """One NO_PROXY entry without its port, brackets or leading dot, lower case."""
    name = entry.strip().lower()
    if name.startswith("["):  # [2001:db8::1] or [2001:db8::1]:8443
        return name[1:].split("]", 1)[0]
    if name.count(":") == 1:  # host:port or 10.0.0.1:8443 (a bare IPv6 address has more)
        name = name.split(":", 1)[0]
    return name.lstrip(".")


def _address_in(host: str, name: str) -> bool | None:
    """Whether an IP host lies in an address or network entry (10.0.0.0/8, 2001:db8::/32);
    None when either side is not an address."""
    try:
        network = ipaddress.ip_network(name, strict=False)
        address = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None
    return address in network


def _bypassed(host: str, no_proxy: str | None) -> bool:
    """NO_PROXY: '*' or names separated by commas or spaces; a name matches itself and its
    subdomains, an address or a network (CIDR) the hosts it holds, IPv6 ones included."""
    if not no_proxy:
        return False
    host = host.lower()
    for entry in no_proxy.replace(" ", ",").split(","):
        name = _no_proxy_name(entry)
        if not name:
            continue
        if name == "*":
            return True
        inside = _address_in(host, name)
        if inside is not None:
            if inside:
                return True
        elif host == name or host.endswith("." + name):
            return True
    return False


def decide_transport(
    base_url: BaseUrl, verify: bool | str | None, environ: Mapping[str, str]
) -> TransportSettings:
    """The settings for a client of `base_url`; `verify` None means the caller said nothing."""
    if verify is None:
        verify = _first(environ, CA_BUNDLE_VARIABLES) or True
    proxy = None
    bypassed = _bypassed(base_url.host, _first(environ, NO_PROXY_VARIABLES))
    if base_url.scheme == "https" and not is_loopback(base_url.host) and not bypassed:
        proxy = _first(environ, PROXY_VARIABLES)
    return TransportSettings(verify=verify, proxy=proxy)


__all__ = ["TransportSettings", "decide_transport"]
