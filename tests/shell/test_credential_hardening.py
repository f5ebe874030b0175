"""Credential files under attack and misuse (issue 11 items 10, 11, 12): owners, modes, links,
locks and odd content. Real files, real flock, real ownership (the root-only cases change
owners with chown, or drop to the `nobody` user with seteuid, and skip when not root).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import stat
import tempfile
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import acme_powerschool
from acme_powerschool.core.errors import AuthenticationError, PowerSchoolWarning
from acme_powerschool.core.token import Credentials, TokenState
from acme_powerschool.shell.credentials import JsonFileStore, KeyringStore
from acme_powerschool.testing import Simulator

CREDS = Credentials("id-1", "secret-1")
BASE = {"client_id": "id-1", "client_secret": "secret-1"}
OTHER_UID, OTHER_GID = 4242, 4243
NOBODY = 65534
root_only = pytest.mark.skipif(os.geteuid() != 0, reason="changing owners needs root")


def write(path: Path, payload: Any, mode: int = 0o600) -> None:
    text = payload if isinstance(payload, str) else json.dumps(payload)
    path.write_text(text, encoding="utf-8")
    os.chmod(path, mode)


def save(store: JsonFileStore, token: str = "tok-new") -> None:
    with store.refresh_lock():
        store.save_token(CREDS, TokenState(token, expires_at=5000.0))


# -- item 10: owner, group, read-only, readable by others -----------------------------------


@root_only
def test_a_root_refresh_keeps_the_owner_and_group(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    write(path, BASE)
    os.chown(path, OTHER_UID, OTHER_GID)
    save(JsonFileStore(path))
    info = path.stat()
    assert (info.st_uid, info.st_gid) == (OTHER_UID, OTHER_GID)
    assert stat.S_IMODE(info.st_mode) == 0o600
    assert json.loads(path.read_text())["access_token"] == "tok-new"


@contextlib.contextmanager
def as_nobody() -> Iterator[Path]:
    """A world-writable folder outside pytest's private tmp, and the effective user `nobody`
    while the block runs."""
    folder = Path(tempfile.mkdtemp(prefix="acme-creds-"))
    os.chmod(folder, 0o777)
    try:
        yield folder
    finally:
        os.seteuid(0)
        for child in folder.iterdir():
            child.unlink()
        folder.rmdir()


@root_only
def test_another_users_file_is_not_taken_over(tmp_path: Path) -> None:
    """A user who can write the folder (but is not the file's owner) must not replace the
    file with one of their own."""
    with as_nobody() as folder:
        path = folder / "creds.json"
        write(path, BASE, mode=0o666)  # owned by root
        os.seteuid(NOBODY)
        with pytest.warns(PowerSchoolWarning, match="belongs to another user"):
            save(JsonFileStore(path))
        os.seteuid(0)
        assert path.stat().st_uid == 0
        assert json.loads(path.read_text()) == BASE


def test_a_read_only_file_is_respected(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    write(path, BASE, mode=0o400)
    with pytest.warns(PowerSchoolWarning, match="read-only") as caught:
        save(JsonFileStore(path))
    assert str(path) in str(caught[0].message)
    assert stat.S_IMODE(path.stat().st_mode) == 0o400
    assert json.loads(path.read_text()) == BASE


def test_a_file_others_can_read_warns_once(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    write(path, {**BASE, "access_token": "tok-1"}, mode=0o644)
    store = JsonFileStore(path)
    with pytest.warns(PowerSchoolWarning, match="chmod 600") as caught:
        store.load()
        store.load()
    assert len([w for w in caught if "chmod 600" in str(w.message)]) == 1
    assert "0644" in str(caught[0].message) and str(path) in str(caught[0].message)
    os.chmod(path, 0o600)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        JsonFileStore(path).load()


# -- item 11: bounded lock wait, links not followed ------------------------------------------


@contextlib.contextmanager
def held(lock: Path) -> Iterator[None]:
    """Hold the flock another process would hold (a second open file description)."""
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def test_a_lock_held_too_long_means_no_caching_and_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    write(path, BASE)
    with (
        held(tmp_path / ".creds.json.lock"),
        pytest.warns(PowerSchoolWarning, match="held the lock file"),
    ):
        save(JsonFileStore(path, lock_wait=0))
    assert json.loads(path.read_text()) == BASE


def test_the_client_goes_on_with_a_fresh_token_while_the_lock_is_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(JsonFileStore, "lock_wait", 0.0)
    with Simulator(students=3, seed=4) as sim:
        path = tmp_path / "creds.json"
        write(path, {"client_id": sim.client_id, "client_secret": sim.client_secret})
        with (
            held(tmp_path / ".creds.json.lock"),
            pytest.warns(PowerSchoolWarning, match="used for this run only"),
        ):
            ps = acme_powerschool.api(sim.base_url, credential_file=path)
            assert ps.get("ws/v1/district").status_code == 200
        assert "access_token" not in json.loads(path.read_text())
        assert sim.stats.token_requests == 1


def test_a_planted_lock_symlink_is_not_followed(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    write(path, BASE)
    victim = tmp_path / "victim"
    (tmp_path / ".creds.json.lock").symlink_to(victim)
    with pytest.warns(PowerSchoolWarning, match="symbolic link"):
        save(JsonFileStore(path))
    assert not victim.exists()
    assert json.loads(path.read_text()) == BASE


@root_only
def test_a_lock_file_of_another_user_is_not_used(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    write(path, BASE)
    lock = tmp_path / ".creds.json.lock"
    lock.touch()
    os.chown(lock, OTHER_UID, OTHER_GID)
    with pytest.warns(PowerSchoolWarning, match=r"belongs to another user \(uid 4242\)"):
        save(JsonFileStore(path))
    assert json.loads(path.read_text()) == BASE


@root_only
def test_login_does_not_follow_a_dangling_link_planted_by_another_user(tmp_path: Path) -> None:
    elsewhere = tmp_path / "collected.json"
    link = tmp_path / "creds.json"
    link.symlink_to(elsewhere)
    os.lchown(link, OTHER_UID, OTHER_GID)
    with pytest.raises(OSError, match="owned by another user") as info:
        JsonFileStore(link).save_credentials(CREDS, TokenState("tok-1"))
    assert str(link) in str(info.value.strerror)
    assert not elsewhere.exists()
    with pytest.raises(AuthenticationError, match="not followed"):
        JsonFileStore(link).load()


def test_login_follows_a_dangling_link_of_our_own(tmp_path: Path) -> None:
    target = tmp_path / "mount" / "creds.json"
    target.parent.mkdir()
    link = tmp_path / "creds.json"
    link.symlink_to(target)
    JsonFileStore(link).save_credentials(CREDS, TokenState("tok-1"))
    assert link.is_symlink()
    assert json.loads(target.read_text())["client_secret"] == "secret-1"


def test_a_fifo_is_not_a_credential_file(tmp_path: Path) -> None:
    path = tmp_path / "creds.json"
    os.mkfifo(path)
    with pytest.raises(AuthenticationError, match="not a regular file"):
        JsonFileStore(path).load()


# -- item 12: odd content is an error naming the file -----------------------------------------

ODD_FILES = {
    "invalid UTF-8": (b'{"client_id": "\xff\xfe"}', "not UTF-8"),
    "400-digit expires_at": (
        json.dumps({**BASE, "access_token": "tok", "expires_at": int("9" * 400)}).encode(),
        "expires_at",
    ),
    "NaN expires_at": (b'{"client_id": "a", "access_token": "t", "expires_at": NaN}', "expires_at"),
    "text expires_at": (
        json.dumps({**BASE, "access_token": "t", "expires_at": "soon"}).encode(),
        "expires_at",
    ),
    "token with a space": (
        json.dumps({**BASE, "access_token": "tok en"}).encode(),
        "not a valid HTTP header value",
    ),
    "token with a newline": (
        json.dumps({**BASE, "access_token": "tok\nX-Evil: 1"}).encode(),
        "not a valid HTTP header value",
    ),
    "non-ASCII token": (
        json.dumps({**BASE, "access_token": "tök"}).encode(),
        "not a valid HTTP header value",
    ),
    "numeric token": (json.dumps({**BASE, "access_token": 12}).encode(), "access_token"),
    "deep nesting": (b"[" * 100_000 + b"]" * 100_000, "nested too deeply"),
    "deep nesting in an object": (
        b'{"client_id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
        "nested too deeply",
    ),
    "too large": (b" " * (1 << 20) + b"{}", "larger than"),
}


@pytest.mark.parametrize("case", sorted(ODD_FILES))
def test_an_odd_credential_file_is_an_error_naming_it(tmp_path: Path, case: str) -> None:
    content, reason = ODD_FILES[case]
    path = tmp_path / "creds.json"
    path.write_bytes(content)
    os.chmod(path, 0o600)
    for attempt in (
        lambda: JsonFileStore(path).load(),
        lambda: acme_powerschool.api("ps.example.org", credential_file=path),
    ):
        with pytest.raises(AuthenticationError) as info:
            attempt()
        assert str(path) in str(info.value) and reason in str(info.value)
        assert "secret-1" not in str(info.value)
    assert path.read_bytes() == content


@pytest.mark.parametrize("token", ["tök", "tok€", "tok\u200b"])
def test_a_token_that_is_no_header_value_is_never_saved(
    tmp_path: Path, file_keyring: Any, token: str
) -> None:
    """TokenState accepts these (no white space, no control character), but no HTTP header
    can carry them: saving one would break every later call."""
    path = tmp_path / "creds.json"
    write(path, BASE)
    store = JsonFileStore(path)
    with pytest.raises(AuthenticationError, match="not a valid HTTP header value"):
        save(store, token)
    assert json.loads(path.read_text()) == BASE
    with pytest.raises(AuthenticationError, match="not a valid HTTP header value"):
        store.save_credentials(CREDS, TokenState(token))
    assert json.loads(path.read_text()) == BASE
    keyring_store = KeyringStore("ps.example.org", "Sync", interactive=lambda: False)
    with pytest.raises(AuthenticationError, match="not a valid HTTP header value"):
        keyring_store.save_token(CREDS, TokenState(token))
    assert file_keyring.get_password("ps.example.org", "Sync") is None


@pytest.mark.parametrize("case", ["deep nesting in an object", "400-digit expires_at"])
def test_an_odd_keyring_value_is_an_error_naming_the_entry(file_keyring: Any, case: str) -> None:
    content, _ = ODD_FILES[case]
    file_keyring.set_password("ps.example.org", "Sync", content.decode())
    with pytest.raises(AuthenticationError) as info:
        KeyringStore("ps.example.org", "Sync", interactive=lambda: False).load()
    assert "keyring entry 'Sync'" in str(info.value)
    assert file_keyring.get_password("ps.example.org", "Sync") == content.decode()


# -- item 14: the keyring backend is named; a plaintext one warns ----------------------------


def test_a_plaintext_keyring_is_named_and_warned_about(file_keyring: Any) -> None:
    store = KeyringStore("ps.example.org", "Sync", interactive=lambda: False)
    assert store.backend.name == "keyrings.alt.file.PlaintextKeyring"
    assert not store.backend.encrypted_os_store
    assert "keyrings.alt.file.PlaintextKeyring" in store.description
    with pytest.warns(PowerSchoolWarning, match="not an encrypted OS store") as caught:
        store.save_token(CREDS, TokenState("tok-1"))
        store.save_token(CREDS, TokenState("tok-2"))
    assert len(caught) == 1
    assert "secret-1" not in str(caught[0].message)


def test_a_chain_of_backends_is_named_by_the_one_that_stores(file_keyring: Any) -> None:
    from keyring.backends.chainer import ChainerBackend

    from acme_powerschool.shell.keyrings import describe_backend

    chain = ChainerBackend.__new__(ChainerBackend)
    vars(chain)["backends"] = [file_keyring]
    assert describe_backend(chain).name == "keyrings.alt.file.PlaintextKeyring"
