"""KeyringStore on the real Linux Secret Service (gnome-keyring in a private D-Bus session).

Skipped where gnome-keyring or dbus-run-session is not installed; `make test` installs them
from Debian's packages when it runs as root with apt-get available.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PROBE = Path(__file__).with_name("secret_service_probe.py")


@pytest.mark.secret_service
@pytest.mark.skipif(
    not (shutil.which("dbus-run-session") and shutil.which("gnome-keyring-daemon")),
    reason="gnome-keyring / dbus-run-session not installed",
)
def test_keyring_store_on_the_secret_service(tmp_path: Path) -> None:
    script = (
        "echo -n acme-test | gnome-keyring-daemon --unlock --components=secrets >/dev/null; "
        f'exec "{sys.executable}" "{PROBE}"'
    )
    env = {
        "HOME": str(tmp_path),  # a fresh login keyring, never the user's own
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_RUNTIME_DIR": str(tmp_path),
        "PATH": "/usr/bin:/bin",
    }
    out = subprocess.run(
        ["dbus-run-session", "--", "sh", "-c", script],
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
        check=True,
    )
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["backend"] == "keyring.backends.SecretService"
    assert result["prompted_id"] == "ss-id"
    assert result["before_save"] is None
    assert result["reloaded_id"] == "ss-id"
    assert result["reloaded_token"] == "tok-ss"
    # issue 11 item 14: the backend is named, and an encrypted OS store draws no warning
    assert "keyring.backends.SecretService.Keyring" in result["description"]
    assert result["encrypted_os_store"] is True
    assert result["warnings"] == []
    assert result["forgotten"] is True and result["after_forget"] is None
