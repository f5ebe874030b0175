"""Credential stores: the JSON file (atomic, 0600, nothing lost) and the keyring entry."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from acme_powerschool.core.errors import AuthenticationError
from acme_powerschool.core.token import Credentials, TokenState
from acme_powerschool.shell.credentials import JsonFileStore, KeyringStore

CREDS = Credentials("id-123", "secret-456")


def write(path: Path, payload: Any) -> None:
    path.write_text(json.dumps(payload) if not isinstance(payload, str) else payload)


def test_file_store_reads_the_seed_format(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    write(path, {"client_id": "id-123", "client_secret": "secret-456"})
    stored = JsonFileStore(path).load()
    assert stored.credentials() == CREDS
    assert stored.token is None


def test_saving_a_token_keeps_every_other_key_and_sets_0600(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    write(path, {"client_id": "id-123", "client_secret": "secret-456", "note": {"a": [1]}})
    os.chmod(path, 0o644)
    JsonFileStore(path).save_token(CREDS, TokenState("tok-1", expires_at=2000.0))
    payload = json.loads(path.read_text())
    assert payload == {
        "client_id": "id-123",
        "client_secret": "secret-456",
        "note": {"a": [1]},
        "access_token": "tok-1",
        "expires_at": 2000,
    }
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    leftovers = [p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    assert leftovers == []
    again = JsonFileStore(path).load()
    assert again.token == TokenState("tok-1", expires_at=2000.0)


@pytest.mark.parametrize("content", ["{not json", "[1, 2]", '"text"', ""])
def test_malformed_file_is_an_error_naming_it_and_is_never_overwritten(
    tmp_path: Path, content: str
) -> None:
    path = tmp_path / "credentials.json"
    write(path, content)
    store = JsonFileStore(path)
    with pytest.raises(AuthenticationError, match=str(path)):
        store.load()
    with pytest.raises(AuthenticationError):
        store.save_token(CREDS, TokenState("tok"))
    assert path.read_text() == content


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(AuthenticationError, match="not found"):
        JsonFileStore(tmp_path / "nope.json").load()


def test_errors_never_carry_the_secret(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    write(path, '{"client_id": "id-123", "client_secret": "secret-456",')
    with pytest.raises(AuthenticationError) as info:
        JsonFileStore(path).load()
    assert "secret-456" not in str(info.value)


# -- keyring (a real file-backed backend from keyrings.alt) ------------------------------


def test_keyring_empty_and_no_terminal_names_the_command(file_keyring: Any) -> None:
    store = KeyringStore("applegrove.powerschool.com", "My Plugin", interactive=lambda: False)
    with pytest.raises(AuthenticationError) as info:
        store.load()
    message = str(info.value)
    assert 'python -m keyring set applegrove.powerschool.com "My Plugin"' in message
    assert isinstance(info.value, RuntimeError)


def test_keyring_prompts_and_stores_only_a_complete_value(file_keyring: Any) -> None:
    answers = iter(["id-123", "secret-456"])
    store = KeyringStore(
        "ps.example.org", "Sync", prompt=lambda _: next(answers), interactive=lambda: True
    )
    stored = store.load()
    assert stored.credentials() == CREDS
    assert file_keyring.get_password("ps.example.org", "Sync") is None  # not before a token
    store.save_token(CREDS, TokenState("tok-9", expires_at=123.0))
    value = json.loads(file_keyring.get_password("ps.example.org", "Sync"))
    assert value == {
        "client_id": "id-123",
        "client_secret": "secret-456",
        "access_token": "tok-9",
        "expires_at": 123,
    }
    again = KeyringStore("ps.example.org", "Sync", interactive=lambda: False).load()
    assert again.token == TokenState("tok-9", expires_at=123.0)


def test_keyring_blank_entry_means_ask_again(file_keyring: Any) -> None:
    file_keyring.set_password("ps.example.org", "Sync", "")
    answers = iter(["id-123", "secret-456"])
    stored = KeyringStore(
        "ps.example.org", "Sync", prompt=lambda _: next(answers), interactive=lambda: True
    ).load()
    assert stored.credentials() == CREDS


def test_keyring_foreign_value_is_an_error_not_overwritten(file_keyring: Any) -> None:
    file_keyring.set_password("ps.example.org", "Sync", "not json at all")
    store = KeyringStore("ps.example.org", "Sync", interactive=lambda: False)
    for verb in (store.load, store.forget):
        with pytest.raises(AuthenticationError, match="python -m keyring set"):
            verb()
    assert file_keyring.get_password("ps.example.org", "Sync") == "not json at all"


def test_no_backend_says_how_to_get_one() -> None:
    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    try:
        with pytest.raises(RuntimeError, match=r"keyrings\.alt"):
            KeyringStore("ps.example.org", "Sync")
    finally:
        keyring.set_keyring(previous)


def test_client_names_a_credential_file_without_credentials(tmp_path: Path) -> None:
    from acme_powerschool import api

    path = tmp_path / "credentials.json"
    write(path, {"client_id": "only-the-id"})
    with pytest.raises(AuthenticationError, match="has no client_id and client_secret"):
        api("ps.example.org", credential_file=path)


@pytest.mark.parametrize(
    ("name", "word"),
    [
        ("Sync", "Sync"),
        ("My Plugin", '"My Plugin"'),
        ('Say "hi" $HOME', "'Say \"hi\" $HOME'"),
        ("it's", '"it\'s"'),
    ],
)
def test_keyring_command_quotes_names_for_pasting(name: str, word: str) -> None:
    from acme_powerschool.shell.credentials import shell_word

    assert shell_word(name) == word
