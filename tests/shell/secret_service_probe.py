"""Run inside `dbus-run-session` with gnome-keyring unlocked: exercise KeyringStore on the
real Linux Secret Service and print what happened as JSON (read by test_secret_service.py)."""

from __future__ import annotations

import json
import warnings

import keyring
from keyring.backends import SecretService

from acme_powerschool.core.token import Credentials, TokenState
from acme_powerschool.shell.credentials import KeyringStore

keyring.set_keyring(SecretService.Keyring())
answers = iter(["ss-id", "ss-secret"])
store = KeyringStore(
    "ps.example.org", "SS Plugin", prompt=lambda _: next(answers), interactive=lambda: True
)
first = store.load()
before_save = keyring.get_password("ps.example.org", "SS Plugin")
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    store.save_token(Credentials("ss-id", "ss-secret"), TokenState("tok-ss", expires_at=99.0))
again = KeyringStore("ps.example.org", "SS Plugin", interactive=lambda: False).load()
print(
    json.dumps(
        {
            "backend": type(keyring.get_keyring()).__module__,
            "prompted_id": first.client_id,
            "before_save": before_save,
            "reloaded_id": again.client_id,
            "reloaded_token": again.token.access_token if again.token else None,
            "description": store.description,
            "encrypted_os_store": store.backend.encrypted_os_store,
            "warnings": [str(w.message) for w in caught],
            "forgotten": store.forget().changed,
            "after_forget": keyring.get_password("ps.example.org", "SS Plugin"),
        }
    )
)
