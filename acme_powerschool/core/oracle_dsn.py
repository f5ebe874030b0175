"""The Oracle helper's rules as pure functions: connection strings, DSNs, tuning, error messages.

No I/O here: this module imports no oracledb, keyring, os, socket, time or random, and it never
puts a password into a DSN or a message.
"""

from __future__ import annotations

import enum
import re
import shlex
from collections.abc import Iterable

import attrs

from acme_powerschool.core.errors import PowerSchoolWarning

__all__ = [
    "DEFAULT_DATABASE",
    "DEFAULT_PORT",
    "DEFAULT_TUNING",
    "ConnectProblem",
    "ConnectionParts",
    "MissingPasswordError",
    "OracleConnectError",
    "SchemaOwnerWarning",
    "Tuning",
    "build_connection_string",
    "build_dsn",
    "classify_connect_error",
    "coerce_port",
    "connect_error_message",
    "error_codes_in",
    "keyring_set_command",
    "missing_password_message",
    "parse_connection_string",
    "resolve_parts",
]

DEFAULT_PORT = 1521
DEFAULT_DATABASE = "psproddb"

# A DNS name or IPv4 address; IPv6 addresses are checked separately (they hold ':').
_HOST = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?\Z")
_IPV6 = re.compile(r"[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*\Z")
# Service names and SIDs: the characters oracledb's Easy Connect parser accepts ('$' and '#'
# are legal in Oracle names but break Easy Connect), and nothing that reaches into a descriptor.
_DATABASE = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]*\Z")
# A user name is a plain identifier here: the connection-string syntax leaves no room for more.
_USER = re.compile(r"[A-Za-z0-9_$#.-]+\Z")
_CODE = re.compile(r"\b(DPY|ORA)-(\d{4,5})\b")
# Invalid input is never quoted back: in a mistyped connection string any piece of it may
# be a piece of the password.
_NOT_REPEATED = "; the value is not repeated here in case it holds a password"


class OracleConnectError(RuntimeError):
    """Connecting to PowerSchool's Oracle database failed. The message says why and what to do.

    `problem` names the cause when we recognised it (None otherwise); the original oracledb
    exception is the `__cause__`. No message ever contains a password.
    """

    def __init__(self, message: str, *, problem: ConnectProblem | None = None) -> None:
        super().__init__(message)
        self.problem = problem


class MissingPasswordError(OracleConnectError):
    """No password was given or stored, and there is no terminal to ask for one."""


class SchemaOwnerWarning(PowerSchoolWarning):
    """The account is PS, PowerSchool's schema owner, rather than a read-only account."""


@attrs.frozen
class Tuning:
    """Fetch and connect defaults for reporting queries; docs/oracle.md explains the numbers.

    `arraysize` is rows per fetch round-trip, `prefetchrows` rows returned with the execute
    round-trip, `tcp_connect_timeout` seconds to wait for the TCP connection, and
    `connect_timeout` seconds for the whole connect (handshake and login included).
    """

    arraysize: int = attrs.field(default=1000, validator=attrs.validators.gt(0))
    prefetchrows: int = attrs.field(default=1000, validator=attrs.validators.ge(0))
    tcp_connect_timeout: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))
    connect_timeout: float = attrs.field(default=30.0, validator=attrs.validators.gt(0))


DEFAULT_TUNING = Tuning()


def _check_server(server: str) -> str:
    if not isinstance(server, str):
        raise TypeError(f"server must be a str, not {type(server).__name__}")
    if server.startswith("[") and server.endswith("]"):
        server = server[1:-1]
    if not server:
        raise ValueError("server is empty: pass the PowerSchool Oracle host name")
    if not (_HOST.match(server) or _IPV6.match(server)):
        raise ValueError(f"server is not a host name or IP address{_NOT_REPEATED}")
    return server


def _check_database(database: str) -> str:
    if not isinstance(database, str):
        raise TypeError(f"database must be a str, not {type(database).__name__}")
    if not database:
        raise ValueError("database is empty: pass the service name (usually psproddb)")
    if not _DATABASE.match(database):
        raise ValueError(f"database is not a valid Oracle service name or SID{_NOT_REPEATED}")
    return database


def _check_user(user: str) -> str:
    if not isinstance(user, str):
        raise TypeError(f"user must be a str, not {type(user).__name__}")
    if not user:
        raise ValueError("user is empty: pass the Oracle account name")
    if not _USER.match(user):
        hint = " (write user/password@server, not user:password@server)" if ":" in user else ""
        raise ValueError(
            f"user is not a valid Oracle user name (letters, digits, _ $ # . -){hint}"
            f"{_NOT_REPEATED}"
        )
    return user


def _check_password(password: str | None) -> str | None:
    if password is None:
        return None
    if not isinstance(password, str):
        raise TypeError(f"password must be a str, not {type(password).__name__}")
    if not password:
        raise ValueError("password is empty: omit it to use the keyring instead")
    return password


def coerce_port(port: object) -> int:
    """The port as an int in 1..65535; accepts a decimal string as the original product did."""
    if isinstance(port, bool) or not isinstance(port, (int, str)):
        raise TypeError(f"port must be an int, not {type(port).__name__}")
    if isinstance(port, str):
        if not (port.isascii() and port.isdigit()):
            raise ValueError(f"port is not a number{_NOT_REPEATED}")
        port = int(port)
    if not 1 <= port <= 65535:
        raise ValueError(f"port is outside 1..65535{_NOT_REPEATED}")
    return port


@attrs.frozen
class ConnectionParts:
    """Everything needed to connect, validated. `sid` says whether `database` is a SID.

    The password is optional (None: read it from the keyring) and hidden from repr.
    """

    user: str = attrs.field(converter=_check_user)
    server: str = attrs.field(converter=_check_server)
    port: int = attrs.field(default=DEFAULT_PORT, converter=coerce_port)
    database: str = attrs.field(default=DEFAULT_DATABASE, converter=_check_database)
    sid: bool = False
    password: str | None = attrs.field(default=None, repr=False, converter=_check_password)

    @property
    def is_schema_owner(self) -> bool:
        return self.user.upper() == "PS"


def _host_text(server: str) -> str:
    return f"[{server}]" if ":" in server else server


def build_dsn(parts: ConnectionParts) -> str:
    """The DSN for oracledb: Easy Connect `host:port/service`, or a descriptor for a SID.

    It never contains the user or the password (those go to oracledb as separate arguments).
    """
    if parts.sid:
        return (
            f"(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST={parts.server})(PORT={parts.port}))"
            f"(CONNECT_DATA=(SID={parts.database})))"
        )
    return f"{_host_text(parts.server)}:{parts.port}/{parts.database}"


def build_connection_string(parts: ConnectionParts) -> str:
    """The connection string for `parts`: `user[/password]@server:port/service` or
    `user[/password]@server:port:SID`. Contains the password when `parts` has one."""
    who = parts.user if parts.password is None else f"{parts.user}/{parts.password}"
    sep = ":" if parts.sid else "/"
    return f"{who}@{_host_text(parts.server)}:{parts.port}{sep}{parts.database}"


def _split_host_port(text: str) -> tuple[str, str | None, str | None, bool]:
    """'server[:port][/service]' or 'server:port:SID' -> (server, port, database, sid)."""
    if text.startswith("["):
        end = text.find("]")
        if end < 0:
            raise ValueError("unclosed '[' in the server part of the connection string")
        server, rest = text[: end + 1], text[end + 1 :]
    else:
        cut = min((i for i in (text.find(":"), text.find("/")) if i >= 0), default=len(text))
        server, rest = text[:cut], text[cut:]
    if not rest:
        return server, None, None, False
    if rest.startswith("/"):
        return server, None, rest[1:], False
    if not rest.startswith(":"):
        raise ValueError("expected ':port' or '/database' after the server")
    rest = rest[1:]
    for sep, is_sid in (("/", False), (":", True)):
        if sep in rest:
            port, database = rest.split(sep, 1)
            return server, port, database, is_sid
    return server, rest, None, False


def parse_connection_string(text: str) -> ConnectionParts:
    """Parse `user[/password]@server[:port][/service]` or `user[/password]@server:port:SID`.

    The password may hold '/' and '@' (the last '@' ends it). Port and database default to 1521
    and psproddb. Raises ValueError (never anything else) when `text` is not such a string; the
    message never repeats the password.
    """
    if not isinstance(text, str):
        raise ValueError(f"connectionstring must be a str, not {type(text).__name__}")
    if "@" not in text:
        raise ValueError(
            "connectionstring needs the form user/password@server:port/database "
            "(or user@server:port/database to use the keyring): no '@' found"
        )
    who, where = text.rsplit("@", 1)
    user, slash, password = who.partition("/")
    if slash and not password:
        raise ValueError("connectionstring has an empty password after '/'")
    server, port, database, is_sid = _split_host_port(where)
    try:
        return ConnectionParts(
            user=user,
            server=server,
            port=DEFAULT_PORT if port is None else port,
            database=DEFAULT_DATABASE if database is None else database,
            sid=is_sid,
            password=password if slash else None,
        )
    except TypeError as exc:  # pragma: no cover - every field is a str here
        raise ValueError(str(exc)) from None


def resolve_parts(
    *,
    server: str | None,
    user: str | None,
    password: str | None,
    port: int | str,
    database: str,
    connectionstring: str | None,
    sid: str | bool | None,
) -> ConnectionParts:
    """Combine odbc()'s arguments into one validated ConnectionParts.

    Either `connectionstring` or `server` and `user` (TypeError naming what is missing). `sid`
    True means "`database` is a SID"; a string is the SID itself.
    """
    if connectionstring is not None:
        if server is not None or user is not None:
            raise TypeError("pass either connectionstring= or server= and user=, not both")
        parts = parse_connection_string(connectionstring)
        if password is not None:
            if parts.password is not None:
                raise TypeError("the password is both in connectionstring and in password=")
            parts = attrs.evolve(parts, password=password)
    else:
        missing = [name for name, value in (("server", server), ("user", user)) if value is None]
        if missing:
            raise TypeError(
                f"odbc() needs {' and '.join(missing)}= (or a complete connectionstring=): "
                "server is the PowerSchool Oracle host, user the Oracle account"
            )
        assert server is not None and user is not None
        parts = ConnectionParts(
            user=user, server=server, port=port, database=database, password=password
        )
    if isinstance(sid, str):
        parts = attrs.evolve(parts, database=sid, sid=True)
    elif sid:
        parts = attrs.evolve(parts, sid=True)
    return parts


def keyring_set_command(server: str, user: str) -> str:
    """The shell command that stores (or, left blank, clears) the password in the keyring."""
    return f"python -m keyring set {shlex.quote(server)} {shlex.quote(user)}"


def missing_password_message(parts: ConnectionParts) -> str:
    return (
        f"no password for Oracle user {parts.user!r} on {parts.server} in the keyring, and "
        "stdin is not a terminal to ask for one. Store it once from a terminal with: "
        f"{keyring_set_command(parts.server, parts.user)}"
    )


class ConnectProblem(enum.Enum):
    """The causes of a failed connect that we recognise and explain."""

    NATIVE_ENCRYPTION = "native_encryption"
    SERVICE_UNKNOWN = "service_unknown"
    SID_UNKNOWN = "sid_unknown"
    WRONG_PASSWORD = "wrong_password"
    ACCOUNT_LOCKED = "account_locked"
    PASSWORD_EXPIRED = "password_expired"
    PORT_REFUSED = "port_refused"
    HOST_UNREACHABLE = "host_unreachable"
    HOST_UNKNOWN = "host_unknown"
    NO_ANSWER = "no_answer"


# What identifies each problem: driver/database codes anywhere in the exception chain, or the
# Python exception types of its causes. Checked in this order; the first match wins (the
# specific listener and login answers come before the generic network symptoms).
_PROBLEM_EVIDENCE: tuple[tuple[ConnectProblem, frozenset[str], frozenset[str]], ...] = (
    (ConnectProblem.NATIVE_ENCRYPTION, frozenset({"DPY-3001"}), frozenset()),
    (ConnectProblem.SERVICE_UNKNOWN, frozenset({"DPY-6001", "ORA-12514"}), frozenset()),
    (ConnectProblem.SID_UNKNOWN, frozenset({"DPY-6003", "ORA-12505"}), frozenset()),
    (ConnectProblem.WRONG_PASSWORD, frozenset({"ORA-01017", "ORA-1017"}), frozenset()),
    (ConnectProblem.ACCOUNT_LOCKED, frozenset({"ORA-28000"}), frozenset()),
    (ConnectProblem.PASSWORD_EXPIRED, frozenset({"ORA-28001"}), frozenset()),
    (
        ConnectProblem.PORT_REFUSED,
        frozenset({"ORA-12541"}),
        frozenset({"ConnectionRefusedError"}),
    ),
    (
        ConnectProblem.HOST_UNREACHABLE,
        frozenset({"ORA-12170"}),
        frozenset({"TimeoutError", "timeout", "HostUnreachableError"}),
    ),
    (
        ConnectProblem.HOST_UNKNOWN,
        frozenset({"ORA-12545"}),
        frozenset({"gaierror"}),
    ),
)

_MESSAGES: dict[ConnectProblem, str] = {
    ConnectProblem.NATIVE_ENCRYPTION: (
        "the Oracle server at {server}:{port} requires Native Network Encryption, which "
        "python-oracledb's thin mode does not support. Fix: ask for a TLS (TCPS) listener and "
        "connect over TLS, or use thick mode by calling oracledb.init_oracle_client() (needs "
        "Oracle Instant Client) before acme_powerschool.odbc()."
    ),
    ConnectProblem.SERVICE_UNKNOWN: (
        "the listener at {server}:{port} does not know the service name {database!r}. "
        "If {database!r} is a SID, try the SID form: odbc(..., sid=True) or the connection "
        "string form user@server:port:{database}."
    ),
    ConnectProblem.SID_UNKNOWN: (
        "the listener at {server}:{port} does not know the SID {database!r}. If {database!r} "
        "is a service name, try the service-name form: odbc(...) without sid=, or the "
        "connection string form user@server:port/{database}."
    ),
    ConnectProblem.WRONG_PASSWORD: (
        "Oracle refused the user name or password for {user!r} on {server} (ORA-01017)."
    ),
    ConnectProblem.ACCOUNT_LOCKED: (
        "the Oracle account {user!r} on {server} is locked (ORA-28000): ask the DBA to unlock it."
    ),
    ConnectProblem.PASSWORD_EXPIRED: (
        "the password of Oracle account {user!r} on {server} has expired (ORA-28001): change "
        "it (oracledb.connect(..., newpassword=...)) or ask the DBA."
    ),
    ConnectProblem.PORT_REFUSED: (
        "{server} refused the connection on port {port}: no Oracle listener there. Check the "
        "port (PowerSchool uses 1521 unless told otherwise) and the firewall."
    ),
    ConnectProblem.HOST_UNREACHABLE: (
        "{server}:{port} did not answer within {timeout:g} seconds: the host is unreachable "
        "from here. Check the VPN or network route and the firewall (tcp_connect_timeout= "
        "sets the wait)."
    ),
    ConnectProblem.HOST_UNKNOWN: (
        "the host name {server!r} could not be resolved: check its spelling and DNS (or VPN)."
    ),
    ConnectProblem.NO_ANSWER: (
        "{server}:{port} accepted the connection but did not complete the Oracle login within "
        "{timeout:g} seconds: check that an Oracle listener (not a proxy or another service) "
        "answers on that port (connect_timeout= sets the wait)."
    ),
}


def error_codes_in(text: str) -> frozenset[str]:
    """The DPY-/ORA- codes named in an error text, e.g. {'DPY-6005', 'DPY-6001'}."""
    return frozenset(f"{prefix}-{number}" for prefix, number in _CODE.findall(text))


def classify_connect_error(
    texts: Iterable[str], type_names: Iterable[str]
) -> ConnectProblem | None:
    """Recognise a failed connect from the texts and type names of its exception chain."""
    codes: set[str] = set()
    for text in texts:
        codes |= error_codes_in(text)
    types = frozenset(type_names)
    for problem, problem_codes, problem_types in _PROBLEM_EVIDENCE:
        if codes & problem_codes or types & problem_types:
            return problem
    return None


def connect_error_message(
    problem: ConnectProblem | None,
    parts: ConnectionParts,
    *,
    timeout: float,
    password_from_keyring: bool = False,
    driver_summary: str = "",
) -> str:
    """Our message for a failed connect; never contains the password.

    `driver_summary` (used only for unrecognised problems) is the first line of oracledb's own
    message, which names a code but no secret.
    """
    if problem is None:
        if parts.password:  # oracledb never echoes it; make sure, as this text is not ours
            driver_summary = driver_summary.replace(parts.password, "***")
        detail = f": {driver_summary}" if driver_summary else ""
        message = f"could not connect to Oracle at {parts.server}:{parts.port}{detail}"
    else:
        message = _MESSAGES[problem].format(
            server=parts.server,
            port=parts.port,
            database=parts.database,
            user=parts.user,
            timeout=timeout,
        )
    if problem is ConnectProblem.WRONG_PASSWORD and password_from_keyring:
        message += (
            " The password came from the keyring; if it changed, store the new one with: "
            f"{keyring_set_command(parts.server, parts.user)}"
        )
    return message
