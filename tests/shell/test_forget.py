"""forget(): the library verb behind `acme-powerschool logout`, on every store.

Real files in tmp_path and a real file-backed keyring (keyrings.alt); the client is a real
`acme_powerschool.api` against the simulator on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

import acme_powerschool
from acme_powerschool.core.errors import AuthenticationError
from acme_powerschool.core.token import Credentials, TokenState
from acme_powerschool.shell.credentials import (
    JsonFileStore,
    KeyringStore,
    MemoryStore,
    Stored,
)
from acme_powerschool.testing import Simulator

CREDS = {"client_id": "id-1", "client_secret": "secret-1", "access_token": "tok-1"}


def write(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload), encoding="utf-8")
    os.chmod(path, 0o600)


def test_forget_deletes_a_file_that_holds_only_credentials(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    write(path, {**CREDS, "expires_at": 99})
    forgotten = JsonFileStore(path).forget()
    assert forgotten.changed and "deleted" in forgotten.message
    assert not path.exists()
    assert not (tmp_path / ".creds.json.lock").exists()
    again = JsonFileStore(path).forget()
    assert not again.changed and "nothing was stored" in again.message


def test_forget_keeps_other_keys(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    write(path, {**CREDS, "note": [1]})
    assert JsonFileStore(path).forget().changed
    assert json.loads(path.read_text()) == {"note": [1]}
    assert not JsonFileStore(path).forget().changed


def test_forget_through_a_symlink_empties_the_target_and_keeps_the_link(tmp_path: Path) -> None:
    """Issue 11 item 9: the link used to be deleted while its target kept the secret."""
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    target = secrets / "real.json"
    write(target, CREDS)
    link = tmp_path / "creds.json"
    link.symlink_to(target)
    forgotten = JsonFileStore(link).forget()
    assert forgotten.changed and str(target) in forgotten.message
    assert link.is_symlink() and link.resolve() == target
    left = json.loads(target.read_text())
    assert left == {}
    assert "secret-1" not in target.read_text() and "tok-1" not in target.read_text()


def test_forget_refuses_a_read_only_file_and_leaves_it(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    write(path, CREDS)
    os.chmod(path, 0o400)
    with pytest.raises(AuthenticationError, match="read-only") as info:
        JsonFileStore(path).forget()
    assert str(path) in str(info.value)
    assert json.loads(path.read_text()) == CREDS


def test_forget_refuses_a_malformed_file(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    path.write_text('{"client_secret": "secret-1",', encoding="utf-8")
    with pytest.raises(AuthenticationError, match="not valid JSON") as info:
        JsonFileStore(path).forget()
    assert "secret-1" not in str(info.value)
    assert path.read_text() == '{"client_secret": "secret-1",'


def test_forget_a_keyring_entry(file_keyring: Any) -> None:
    file_keyring.set_password("ps.example.org", "Sync", json.dumps(CREDS))
    store = KeyringStore("ps.example.org", "Sync", interactive=lambda: False)
    forgotten = store.forget()
    assert forgotten.changed and "deleted" in forgotten.message
    assert file_keyring.get_password("ps.example.org", "Sync") is None
    assert not store.forget().changed


def test_forget_a_keyring_entry_keeps_other_keys(file_keyring: Any) -> None:
    file_keyring.set_password("ps.example.org", "Sync", json.dumps({**CREDS, "note": "mine"}))
    assert KeyringStore("ps.example.org", "Sync", interactive=lambda: False).forget().changed
    assert json.loads(file_keyring.get_password("ps.example.org", "Sync")) == {"note": "mine"}


def test_forget_leaves_a_foreign_keyring_value_alone(file_keyring: Any) -> None:
    file_keyring.set_password("ps.example.org", "Sync", "not ours")
    with pytest.raises(AuthenticationError, match="python -m keyring set"):
        KeyringStore("ps.example.org", "Sync", interactive=lambda: False).forget()
    assert file_keyring.get_password("ps.example.org", "Sync") == "not ours"


def test_forget_in_memory() -> None:
    store = MemoryStore(Stored("id-1", "secret-1", None))
    store.save_token(Credentials("id-1", "secret-1"), TokenState("tok-1"))
    assert store.forget().changed
    assert store.load() == Stored() and store.cached_token() is None
    assert not store.forget().changed


def test_client_forget_credentials_clears_the_file_and_the_client(tmp_path: Path) -> None:
    with Simulator(students=3, seed=2) as sim:
        path = tmp_path / "creds.json"
        write(path, {"client_id": sim.client_id, "client_secret": sim.client_secret})
        ps = acme_powerschool.api(sim.base_url, credential_file=path)
        assert ps.get("ws/v1/district").status_code == 200
        assert path.exists() and ps.token_state is not None
        forgotten = ps.forget_credentials()
        assert forgotten.changed and not path.exists()
        assert ps.token_state is None and "Authorization" not in ps.session.headers
        with pytest.raises(RuntimeError):
            ps._obtain_access_token()


def test_client_forget_credentials_through_a_symlink(tmp_path: Path) -> None:
    with Simulator(students=3, seed=2) as sim:
        target = tmp_path / "mount" / "real.json"
        target.parent.mkdir()
        write(target, {"client_id": sim.client_id, "client_secret": sim.client_secret})
        link = tmp_path / "creds.json"
        link.symlink_to(target)
        ps = acme_powerschool.api(sim.base_url, credential_file=link)
        ps.get("ws/v1/district")
        ps.forget_credentials()
        assert link.is_symlink()
        assert sim.client_secret not in target.read_text()
