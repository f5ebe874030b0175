"""odbc() cases found by mutation testing (make mutate): a keyring that cannot store, an empty
answer at the prompt, a closed stdin, a driver error without text. Real file keyrings."""

from __future__ import annotations

import getpass
import os
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from keyrings.alt.file import PlaintextKeyring
from test_oracle_connect import SERVER, USER, RecordingConnect, Terminal

from acme_powerschool.core.oracle_dsn import MissingPasswordError, OracleConnectError
from acme_powerschool.shell.oracle import odbc


@pytest.fixture
def broken_keyring(tmp_path: Path) -> Iterator[PlaintextKeyring]:
    """A real file keyring whose file cannot be created (its folder is a regular file)."""
    (tmp_path / "not-a-folder").write_text("")
    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "not-a-folder" / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


def _terminal(monkeypatch: pytest.MonkeyPatch, *answers: str) -> Terminal:
    fake = Terminal()
    fake.answers.extend(answers)
    monkeypatch.setattr(sys, "stdin", type("TTY", (), {"isatty": staticmethod(lambda: True)})())
    monkeypatch.setattr(getpass, "getpass", fake.getpass)
    return fake


def test_a_keyring_that_cannot_store_keeps_the_connection_and_warns(
    broken_keyring: PlaintextKeyring, monkeypatch: pytest.MonkeyPatch
) -> None:
    _terminal(monkeypatch, "typed-right")
    connect = RecordingConnect()
    with pytest.warns(RuntimeWarning, match="could not store the password in the keyring"):
        conn: Any = odbc(SERVER, USER, connect=connect)
    assert conn is connect.connection


def test_an_empty_answer_at_the_prompt_is_refused(
    file_keyring: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _terminal(monkeypatch, "")
    connect = RecordingConnect()
    with pytest.raises(ValueError, match="no password entered"):
        odbc(SERVER, USER, connect=connect)
    assert connect.calls == []


def test_a_closed_stdin_is_no_terminal(file_keyring: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    closed = open(os.devnull)  # noqa: SIM115 - closed on purpose: isatty() then raises
    closed.close()
    monkeypatch.setattr(sys, "stdin", closed)
    with pytest.raises(MissingPasswordError):
        odbc(SERVER, USER, connect=RecordingConnect())


def test_a_driver_error_without_text_is_named_by_its_type() -> None:
    with pytest.raises(OracleConnectError) as info:
        odbc(SERVER, USER, "pw", connect=RecordingConnect(OSError()))
    assert str(info.value) == f"could not connect to Oracle at {SERVER}:1521: OSError"
