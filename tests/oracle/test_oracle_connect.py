"""odbc() with an injected connect: what it passes to oracledb, and the keyring/prompt flow.

No database: `connect=` is a recorder, so these tests prove the arguments odbc() hands to
oracledb.connect (user, DSN, service or SID, port, tuning) and the password handling. The
keyring is a real file-backed keyring (keyrings.alt PlaintextKeyring) in a temporary folder;
the terminal (sys.stdin.isatty) and getpass.getpass are replaced, as they are our own seam.
"""

from __future__ import annotations

import getpass
import sys
import types
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import oracledb
import pytest
from keyring.backends import fail
from keyrings.alt.file import PlaintextKeyring
from oracledb import errors as driver_errors

from acme_powerschool.core.errors import PowerSchoolWarning
from acme_powerschool.core.oracle_dsn import (
    ConnectProblem,
    MissingPasswordError,
    OracleConnectError,
    SchemaOwnerWarning,
)
from acme_powerschool.shell.oracle import odbc

SERVER = "applegrove.powerschool.com"
USER = "oracle_readonly_account"


class FakeConnection:
    """Stands in for an oracledb.Connection; records that it was closed."""

    closed = False

    def close(self) -> None:
        self.closed = True


class RecordingConnect:
    """Records each call's keywords; raises the queued exceptions first, then connects."""

    def __init__(self, *failures: BaseException) -> None:
        self.calls: list[dict[str, Any]] = []
        self.failures = list(failures)
        self.connection = FakeConnection()

    def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        if self.failures:
            raise self.failures.pop(0)
        return self.connection


def wrong_password() -> oracledb.DatabaseError:
    """ORA-01017 as the thin driver builds it from a server error packet (see the driver tests)."""
    error = driver_errors._Error(
        "ORA-01017: invalid credential or not authorized; logon denied", code=1017
    )
    exc: oracledb.DatabaseError = error.exc_type(error)
    return exc


@pytest.fixture
def file_keyring(tmp_path: Path) -> Iterator[PlaintextKeyring]:
    """A real file-backed keyring in tmp_path, installed as the active backend, then restored."""
    previous = keyring.get_keyring()
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


class Terminal:
    """A pretend terminal: `answers` are what the user types at each getpass prompt."""

    def __init__(self) -> None:
        self.answers: list[str] = []
        self.prompts: list[str] = []

    def getpass(self, prompt: str = "Password: ", stream: Any = None) -> str:
        self.prompts.append(prompt)
        return self.answers.pop(0)


@pytest.fixture
def terminal(monkeypatch: pytest.MonkeyPatch) -> Terminal:
    """stdin claims to be a terminal, and getpass.getpass answers from the queue."""
    fake = Terminal()
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(isatty=lambda: True))
    monkeypatch.setattr(getpass, "getpass", fake.getpass)
    return fake


@pytest.fixture
def no_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", types.SimpleNamespace(isatty=lambda: False))

    def must_not_prompt(*args: Any, **kwargs: Any) -> str:
        raise AssertionError("getpass must not be called without a terminal")

    monkeypatch.setattr(getpass, "getpass", must_not_prompt)


# --- what reaches oracledb.connect -------------------------------------------------------


def test_parts_become_user_easy_connect_dsn_and_tuning() -> None:
    """Defaults: port 1521, service psproddb as Easy Connect; tuning and timeout passed."""
    connect = RecordingConnect()
    conn = odbc(SERVER, USER, "pw", connect=connect)
    assert conn is connect.connection
    (call,) = connect.calls
    conn_class = call.pop("conn_class")
    assert call == {
        "user": USER,
        "password": "pw",
        "dsn": f"{SERVER}:1521/psproddb",
        "tcp_connect_timeout": 10.0,
    }
    assert issubclass(conn_class, oracledb.Connection)
    assert (conn_class.acme_arraysize, conn_class.acme_prefetchrows) == (1000, 1000)


def test_port_as_string_and_other_service_name() -> None:
    """The original README passes port="1521"; a string port is accepted and normalised."""
    connect = RecordingConnect()
    odbc(server=SERVER, user=USER, password="pw", port="1522", database="PSTEST", connect=connect)
    assert connect.calls[0]["dsn"] == f"{SERVER}:1522/PSTEST"


def test_sid_flag_switches_to_a_sid_descriptor() -> None:
    connect = RecordingConnect()
    odbc(SERVER, USER, "pw", database="PSPROD", sid=True, connect=connect)
    assert connect.calls[0]["dsn"] == (
        f"(DESCRIPTION=(ADDRESS=(PROTOCOL=TCP)(HOST={SERVER})(PORT=1521))"
        "(CONNECT_DATA=(SID=PSPROD)))"
    )


def test_sid_name_overrides_database() -> None:
    connect = RecordingConnect()
    odbc(SERVER, USER, "pw", port=1600, sid="PSSID", connect=connect)
    assert "(PORT=1600))(CONNECT_DATA=(SID=PSSID))" in connect.calls[0]["dsn"]


def test_complete_connection_string() -> None:
    connect = RecordingConnect()
    odbc(connectionstring=f"{USER}/p@ss/word@{SERVER}:1521/psproddb", connect=connect)
    call = connect.calls[0]
    assert (call["user"], call["password"], call["dsn"]) == (
        USER,
        "p@ss/word",
        f"{SERVER}:1521/psproddb",
    )


def test_tuning_and_extra_keywords_are_overridable() -> None:
    """arraysize/prefetchrows/tcp_connect_timeout override ours; other keywords pass through."""
    connect = RecordingConnect()
    odbc(
        SERVER,
        USER,
        "pw",
        arraysize=5000,
        prefetchrows=0,
        tcp_connect_timeout=3,
        expire_time=2,
        connect=connect,
    )
    call = connect.calls[0]
    assert call["tcp_connect_timeout"] == 3
    assert call["expire_time"] == 2
    assert (call["conn_class"].acme_arraysize, call["conn_class"].acme_prefetchrows) == (5000, 0)


def test_own_conn_class_is_kept_as_the_base() -> None:
    class MyConnection(oracledb.Connection):
        pass

    connect = RecordingConnect()
    odbc(SERVER, USER, "pw", conn_class=MyConnection, connect=connect)
    conn_class = connect.calls[0]["conn_class"]
    assert issubclass(conn_class, MyConnection) and conn_class is not MyConnection
    assert conn_class.acme_arraysize == 1000


def test_tuned_cursor_gets_our_sizes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The tuned class's cursor() sets arraysize and prefetchrows on what the base returns.
    (oracledb's own cursor() needs a live connection, so the base method is replaced.)"""
    made = types.SimpleNamespace(arraysize=100, prefetchrows=2)
    monkeypatch.setattr(oracledb.Connection, "cursor", lambda self, *a, **k: made)
    connect = RecordingConnect()
    odbc(SERVER, USER, "pw", arraysize=777, prefetchrows=778, connect=connect)
    conn_class = connect.calls[0]["conn_class"]
    instance = conn_class.__new__(conn_class)
    assert instance.cursor() is made
    assert (made.arraysize, made.prefetchrows) == (777, 778)


@pytest.mark.parametrize("name", ["user", "password", "dsn", "host", "service_name"])
def test_keywords_odbc_owns_are_refused(name: str) -> None:
    with pytest.raises(TypeError, match=name):
        odbc(SERVER, USER, "pw", connect=RecordingConnect(), **{name: "x"})


@pytest.mark.parametrize(
    ("kwargs", "missing"),
    [
        ({}, "server and user"),
        ({"server": SERVER}, "user"),
        ({"user": USER}, "server"),
    ],
)
def test_missing_server_or_user_is_named(kwargs: dict[str, str], missing: str) -> None:
    with pytest.raises(TypeError, match=f"needs {missing}="):
        odbc(**kwargs, password="pw", connect=RecordingConnect())  # type: ignore[arg-type]


def test_connectionstring_and_parts_together_are_refused() -> None:
    with pytest.raises(TypeError, match="not both"):
        odbc(SERVER, connectionstring=f"{USER}@{SERVER}/psproddb", connect=RecordingConnect())


def test_schema_owner_ps_warns_in_any_case() -> None:
    for name in ("PS", "ps", "Ps"):
        with pytest.warns(SchemaOwnerWarning, match="schema owner"):
            odbc(SERVER, name, "pw", connect=RecordingConnect())
    assert issubclass(SchemaOwnerWarning, PowerSchoolWarning)
    assert issubclass(SchemaOwnerWarning, UserWarning)


def test_read_only_user_does_not_warn() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        odbc(SERVER, "psnavigator", "pw", connect=RecordingConnect())


# --- keyring and prompt ------------------------------------------------------------------


def test_password_comes_from_the_keyring(file_keyring: PlaintextKeyring, no_terminal: None) -> None:
    keyring.set_password(SERVER, USER, "from-keyring")
    connect = RecordingConnect()
    odbc(SERVER, USER, connect=connect)
    assert connect.calls[0]["password"] == "from-keyring"


def test_prompted_password_is_stored_after_success(
    file_keyring: PlaintextKeyring, terminal: Terminal
) -> None:
    terminal.answers.append("typed-right")
    connect = RecordingConnect()
    odbc(SERVER, USER, connect=connect)
    assert connect.calls[0]["password"] == "typed-right"
    assert keyring.get_password(SERVER, USER) == "typed-right"
    assert Path(file_keyring.file_path).exists()
    (prompt,) = terminal.prompts
    assert USER in prompt and SERVER in prompt


def test_a_typo_is_never_cached(file_keyring: PlaintextKeyring, terminal: Terminal) -> None:
    """ORA-01017 on the typed password: nothing stored; the next (right) one is stored."""
    terminal.answers.extend(["typo", "typed-right"])
    connect = RecordingConnect(wrong_password())
    with pytest.raises(OracleConnectError) as info:
        odbc(SERVER, USER, connect=connect)
    assert info.value.problem is ConnectProblem.WRONG_PASSWORD
    assert "typo" not in str(info.value)
    assert "came from the keyring" not in str(info.value)  # it was typed
    assert keyring.get_password(SERVER, USER) is None
    odbc(SERVER, USER, connect=connect)
    assert keyring.get_password(SERVER, USER) == "typed-right"


def test_a_failed_network_connect_does_not_cache_either(
    file_keyring: PlaintextKeyring, terminal: Terminal
) -> None:
    terminal.answers.append("maybe-right")
    with pytest.raises(OracleConnectError):
        odbc(SERVER, USER, connect=RecordingConnect(ConnectionRefusedError(111, "refused")))
    assert keyring.get_password(SERVER, USER) is None


def test_blank_keyring_entry_means_ask_again(
    file_keyring: PlaintextKeyring, terminal: Terminal
) -> None:
    """`python -m keyring set` with a blank answer stores ''; that means 'ask me again'."""
    keyring.set_password(SERVER, USER, "")
    terminal.answers.append("new-password")
    connect = RecordingConnect()
    odbc(SERVER, USER, connect=connect)
    assert connect.calls[0]["password"] == "new-password"
    assert keyring.get_password(SERVER, USER) == "new-password"


def test_wrong_stored_password_says_how_to_reset_it(
    file_keyring: PlaintextKeyring, no_terminal: None
) -> None:
    keyring.set_password(SERVER, USER, "stale")
    with pytest.raises(OracleConnectError) as info:
        odbc(SERVER, USER, connect=RecordingConnect(wrong_password()))
    message = str(info.value)
    assert f"python -m keyring set {SERVER} {USER}" in message
    assert "stale" not in message
    assert keyring.get_password(SERVER, USER) == "stale"  # we never delete what the user stored


def test_no_terminal_and_no_stored_password_names_the_command(
    file_keyring: PlaintextKeyring, no_terminal: None
) -> None:
    connect = RecordingConnect()
    with pytest.raises(MissingPasswordError) as info:
        odbc(SERVER, USER, connect=connect)
    assert str(info.value) == (
        f"no password for Oracle user '{USER}' on {SERVER} in the keyring, and stdin is not a "
        "terminal to ask for one. Store it once from a terminal with: "
        f"python -m keyring set {SERVER} {USER}"
    )
    assert isinstance(info.value, RuntimeError)
    assert connect.calls == []


def test_closed_or_missing_stdin_counts_as_no_terminal(
    file_keyring: PlaintextKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", None)
    with pytest.raises(MissingPasswordError):
        odbc(SERVER, USER, connect=RecordingConnect())


def test_no_keyring_backend_says_how_to_get_one(no_terminal: None) -> None:
    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(RuntimeError, match=r"keyrings\.alt"):
            odbc(SERVER, USER, connect=RecordingConnect())
    finally:
        keyring.set_keyring(previous)


def test_explicit_password_never_touches_the_keyring(
    file_keyring: PlaintextKeyring, no_terminal: None
) -> None:
    """A password passed in is neither read from nor stored in the keyring (this test once
    asserted nothing, and a mutation storing the explicit password survived)."""
    keyring.set_password(SERVER, "someone_else", "unrelated")
    before = Path(file_keyring.file_path).read_bytes()
    connect = RecordingConnect()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a failed keyring write would only warn
        odbc(SERVER, USER, "given", connect=connect)
    assert connect.calls[0]["password"] == "given"
    assert keyring.get_password(SERVER, USER) is None
    assert Path(file_keyring.file_path).read_bytes() == before


def test_explicit_password_wins_over_a_stored_one(
    file_keyring: PlaintextKeyring, no_terminal: None
) -> None:
    keyring.set_password(SERVER, USER, "stored")
    connect = RecordingConnect()
    odbc(SERVER, USER, "given", connect=connect)
    assert connect.calls[0]["password"] == "given"
    assert keyring.get_password(SERVER, USER) == "stored"


def test_repr_and_errors_never_show_the_password() -> None:
    secret = "S3cr3t-Value!"
    connect = RecordingConnect(wrong_password())
    with pytest.raises(OracleConnectError) as info:
        odbc(SERVER, USER, secret, connect=connect)
    assert secret not in str(info.value) and secret not in repr(info.value)
    assert secret not in connect.calls[0]["dsn"]
