"""The pure Oracle rules (core.oracle_dsn): connection strings, DSNs, error classification.

Plain values and hypothesis; oracledb appears only as the judge of our DSNs (its own
connect-string parser, which needs no database). Also checks the import walls.
"""

from __future__ import annotations

import ast
import contextlib
import subprocess
import sys
from pathlib import Path

import attrs
import oracledb
import pytest
from hypothesis import given
from hypothesis import strategies as st

from acme_powerschool.core import oracle_dsn
from acme_powerschool.core.oracle_dsn import (
    ConnectionParts,
    ConnectProblem,
    Tuning,
    build_connection_string,
    build_dsn,
    classify_connect_error,
    connect_error_message,
    parse_connection_string,
    resolve_parts,
)

users = st.from_regex(r"[A-Za-z0-9_$#.-]+", fullmatch=True)
hostnames = st.from_regex(r"[A-Za-z0-9](?:[A-Za-z0-9._-]{0,30}[A-Za-z0-9])?", fullmatch=True)
servers = st.one_of(
    hostnames,
    st.ip_addresses(v=4).map(str),
    st.ip_addresses(v=6).map(str),
)
databases = st.from_regex(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,30}", fullmatch=True)
passwords = st.one_of(st.none(), st.text(min_size=1))
parts_strategy = st.builds(
    ConnectionParts,
    user=users,
    server=servers,
    port=st.integers(1, 65535),
    database=databases,
    sid=st.booleans(),
    password=passwords,
)


@given(parts_strategy)
def test_parse_inverts_build(parts: ConnectionParts) -> None:
    """Any valid parts, password with '@' and '/' included, survive a trip through text."""
    assert parse_connection_string(build_connection_string(parts)) == parts


@given(st.text())
def test_parse_raises_only_value_error(text: str) -> None:
    with contextlib.suppress(ValueError):
        parse_connection_string(text)


# Passwords in these tests carry a marker no host, user or database name can contain, so
# "the password is not in the text" is exact.
MARK = "\u00a7"
marked_passwords = st.text().map(lambda tail: MARK + tail)


@given(st.text().filter(lambda t: MARK not in t), marked_passwords)
def test_parse_errors_never_repeat_the_password(host: str, password: str) -> None:
    try:
        parse_connection_string(f"reader/{password}@{host}")
    except ValueError as exc:
        assert MARK not in str(exc)


@given(parts_strategy)
def test_oracledb_reads_our_dsn_back(parts: ConnectionParts) -> None:
    """oracledb's own parser finds exactly our host, port and service name or SID."""
    params = oracledb.ConnectParams()
    params.parse_connect_string(build_dsn(parts))
    assert (params.host, params.port) == (parts.server, parts.port)
    if parts.sid:
        assert (params.sid, params.service_name) == (parts.database, None)
    else:
        assert (params.service_name, params.sid) == (parts.database, None)


@given(parts_strategy, marked_passwords)
def test_dsn_and_repr_never_hold_the_password(parts: ConnectionParts, password: str) -> None:
    parts = attrs.evolve(parts, password=password)
    assert MARK not in repr(parts)
    assert MARK not in build_dsn(parts)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "reader/pw@ps.example.org:1521/psproddb",
            ("reader", "pw", "ps.example.org", 1521, "psproddb", False),
        ),
        (
            "reader@ps.example.org:1521/psproddb",
            ("reader", None, "ps.example.org", 1521, "psproddb", False),
        ),
        ("reader@ps.example.org", ("reader", None, "ps.example.org", 1521, "psproddb", False)),
        ("reader@ps.example.org/PSTEST", ("reader", None, "ps.example.org", 1521, "PSTEST", False)),
        ("reader@ps.example.org:1600", ("reader", None, "ps.example.org", 1600, "psproddb", False)),
        (
            "reader@ps.example.org:1521:PSSID",
            ("reader", None, "ps.example.org", 1521, "PSSID", True),
        ),
        ("reader/a@b/c@[::1]:1521/db", ("reader", "a@b/c", "::1", 1521, "db", False)),
    ],
)
def test_connection_string_forms(text: str, expected: tuple[object, ...]) -> None:
    p = parse_connection_string(text)
    assert (p.user, p.password, p.server, p.port, p.database, p.sid) == expected


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("ps.example.org:1521/psproddb", "no '@'"),
        ("reader/@ps.example.org", "empty password"),
        ("@ps.example.org", "user is empty"),
        ("reader@", "server is empty"),
        ("reader@ps.example.org:port/db", "not a number"),
        ("reader@ps.example.org:99999/db", "outside 1..65535"),
        ("reader@host/db)(SID=x", "not a valid Oracle service name"),
        ("reader@[::1/db", "unclosed"),
    ],
)
def test_bad_connection_strings_say_why(text: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason.replace("(", r"\(").replace(".", r"\.")):
        parse_connection_string(text)


def test_resolve_parts_combines_arguments() -> None:
    common = {"password": None, "port": 1521, "database": "psproddb", "connectionstring": None}
    parts = resolve_parts(server="h", user="u", sid="PSSID", **common)  # type: ignore[arg-type]
    assert (parts.database, parts.sid) == ("PSSID", True)
    with_pw = resolve_parts(
        server=None,
        user=None,
        password="pw",
        port=1521,
        database="psproddb",
        connectionstring="u@h/db",
        sid=None,
    )
    assert with_pw.password == "pw"
    with pytest.raises(TypeError, match="both in connectionstring and in password"):
        resolve_parts(
            server=None,
            user=None,
            password="pw",
            port=1521,
            database="psproddb",
            connectionstring="u/x@h/db",
            sid=None,
        )


def test_port_rejects_bools_and_floats() -> None:
    with pytest.raises(TypeError):
        ConnectionParts(user="u", server="h", port=True)
    with pytest.raises(TypeError):
        ConnectionParts(user="u", server="h", port=1521.0)


def test_tuning_defaults_and_validation() -> None:
    assert Tuning() == Tuning(arraysize=1000, prefetchrows=1000, tcp_connect_timeout=10.0)
    with pytest.raises(ValueError):
        attrs.evolve(Tuning(), arraysize=0)


@pytest.mark.parametrize(
    ("texts", "types", "problem"),
    [
        (
            ["DPY-6005: cannot connect", "DPY-3001: Native Network Encryption ..."],
            [],
            ConnectProblem.NATIVE_ENCRYPTION,
        ),
        (["DPY-6005: x\nDPY-6001: Service"], [], ConnectProblem.SERVICE_UNKNOWN),
        (
            ["ORA-12514: TNS:listener does not currently know of service"],
            [],
            ConnectProblem.SERVICE_UNKNOWN,
        ),
        (["DPY-6003: SID"], [], ConnectProblem.SID_UNKNOWN),
        (
            ["ORA-12505: TNS:listener does not currently know of SID"],
            [],
            ConnectProblem.SID_UNKNOWN,
        ),
        (["ORA-01017: invalid credential"], [], ConnectProblem.WRONG_PASSWORD),
        (["ORA-28000: the account is locked"], [], ConnectProblem.ACCOUNT_LOCKED),
        (["ORA-28001: the password has expired"], [], ConnectProblem.PASSWORD_EXPIRED),
        (
            ["DPY-6005: x", "[Errno 111] Connection refused"],
            ["OperationalError", "ConnectionRefusedError"],
            ConnectProblem.PORT_REFUSED,
        ),
        (
            ["DPY-6005: x", "timed out"],
            ["OperationalError", "TimeoutError"],
            ConnectProblem.HOST_UNREACHABLE,
        ),
        (["[Errno -2] Name or service not known"], ["gaierror"], ConnectProblem.HOST_UNKNOWN),
        (["DPY-6000: Listener refused connection. (Similar to ORA-12520)"], [], None),
        (["something else"], ["ValueError"], None),
    ],
)
def test_error_table(texts: list[str], types: list[str], problem: ConnectProblem | None) -> None:
    assert classify_connect_error(texts, types) is problem


@given(marked_passwords)
def test_messages_never_contain_the_password(password: str) -> None:
    parts = ConnectionParts(user="reader", server="ps.example.org", password=password)
    for problem in [*ConnectProblem, None]:
        message = connect_error_message(
            problem,
            parts,
            timeout=10.0,
            password_from_keyring=True,
            driver_summary=f"DPY-9999: odd text {password}",  # as if a driver echoed it
        )
        assert MARK not in message


def test_core_module_imports_no_io() -> None:
    forbidden = {"oracledb", "keyring", "os", "socket", "time", "random", "getpass", "sys"}
    tree = ast.parse(Path(oracle_dsn.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & forbidden


def test_importing_the_shell_loads_no_heavy_module() -> None:
    code = (
        "import sys, acme_powerschool, acme_powerschool.shell.oracle\n"
        "acme_powerschool.odbc; acme_powerschool.read_dataframe\n"
        "heavy = {'oracledb', 'keyring', 'pandas', 'pyarrow', 'polars'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"
