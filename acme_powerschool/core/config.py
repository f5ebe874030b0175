"""Client configuration as frozen records, and the parsing of a user's base_url.

Pure: no I/O. `parse_base_url` decides what a server address means and refuses clear-text
HTTP to anything but this machine.
"""

from __future__ import annotations

import ipaddress
import re
from urllib.parse import SplitResult, urlsplit

import attrs

from acme_powerschool.core.retry import RetryPolicy

LOOPBACK_NAMES = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and the usual names for this machine."""
    name = host.strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


@attrs.frozen
class BaseUrl:
    """Where the server is: scheme, host and an optional explicit port."""

    scheme: str
    host: str
    port: int | None = None

    @property
    def netloc(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}" if self.port is not None else host

    @property
    def root(self) -> str:
        """`scheme://host[:port]`, with no trailing slash."""
        return f"{self.scheme}://{self.netloc}"


def parse_base_url(raw: str) -> BaseUrl:
    """Parse `host`, `host:port`, `https://host[:port]` (trailing slash allowed).

    `http://` is accepted only for loopback hosts, so no token crosses a network in clear.
    Raises ValueError saying what was wrong.
    """
    if not isinstance(raw, str):
        raise TypeError(f"base_url must be a string, not {type(raw).__name__}")
    text = raw.strip()
    if not text:
        raise ValueError("base_url is required, e.g. 'district.powerschool.com'")
    if any(ch.isspace() for ch in text):
        raise ValueError("base_url must not contain white space")
    parts, port = _split(text)
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ValueError(f"base_url scheme must be https (or http for loopback), not {scheme!r}")
    if parts.username is not None or parts.password is not None:
        raise ValueError("base_url must not contain a user name or password")
    host = (parts.hostname or "").lower()
    if not host:
        raise ValueError("base_url has no host name")
    host = _checked_host(host)
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ValueError(
            "base_url must be the server only (like 'district.powerschool.com'), "
            "without a path, query or fragment"
        )
    if scheme == "http" and not is_loopback(host):
        raise ValueError(
            f"http:// is only allowed for loopback hosts; use https://{host} "
            "so that credentials and tokens are never sent in clear"
        )
    if port == 0:
        raise ValueError("base_url port must be between 1 and 65535")
    if port == DEFAULT_PORTS[scheme]:
        port = None  # "h:443" and "h" are one server (and one keyring service)
    return BaseUrl(scheme=scheme, host=host, port=port)


def _split(text: str) -> tuple[SplitResult, int | None]:
    if "://" not in text:
        text = "https://" + text
    try:
        parts = urlsplit(text)
        return parts, parts.port
    except ValueError as exc:
        raise ValueError(f"base_url is not a valid server address: {exc}") from None


DEFAULT_PORTS = {"https": 443, "http": 80}
_LABEL = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)$")


def _checked_host(host: str) -> str:
    """An IP literal or a DNS name (internationalised names in their ASCII form)."""
    try:
        return str(ipaddress.ip_address(host))
    except ValueError:
        pass
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError("base_url host is not a valid host name") from None
    labels = ascii_host.rstrip(".").split(".")
    if len(ascii_host) > 253 or not all(_LABEL.match(label) for label in labels):
        raise ValueError(f"base_url host is not a valid host name: {ascii_host!r}")
    return ascii_host.rstrip(".")


def _positive(_inst: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be a positive number of seconds")


@attrs.frozen
class Timeouts:
    """Timeouts in seconds: to connect, between bytes while reading, and `total`, the overall
    deadline of one call from its first send to the last byte of its answer, retries and
    their waits included (a server that drips its body slowly is cut off there, and no retry
    starts that could not finish before it)."""

    connect: float = attrs.field(default=10.0, validator=_positive)
    read: float = attrs.field(default=60.0, validator=_positive)
    total: float = attrs.field(default=300.0, validator=_positive)

    def as_requests(self) -> tuple[float, float]:
        return (self.connect, self.read)


def _positive_size(_inst: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not value > 0:
        raise ValueError(f"{attribute.name} must be a positive number of bytes")


@attrs.frozen
class Limits:
    """The most bytes read from one answer. A token answer is a few hundred bytes and an
    error body a few kilobytes; a page is bounded by the page size. Larger answers are cut
    off with a clear error instead of filling memory."""

    token_body: int = attrs.field(default=64 * 1024, validator=_positive_size)
    error_body: int = attrs.field(default=1024 * 1024, validator=_positive_size)
    body: int = attrs.field(default=256 * 1024 * 1024, validator=_positive_size)


@attrs.frozen
class Config:
    """Everything about how a client talks to one server."""

    base_url: BaseUrl
    verify_tls: bool | str = True
    timeouts: Timeouts = attrs.field(factory=Timeouts)
    retry: RetryPolicy = attrs.field(factory=RetryPolicy)
    limits: Limits = attrs.field(factory=Limits)
    refresh_margin: float = 300.0
    user_agent: str = "acme-powerschool"
