"""`logout` through a symlinked credential file (issue 11 item 9: the link stays, its target
loses the secret) and `login` naming the keyring backend (item 14)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from acme_powerschool.testing import Simulator
from tests.cli.conftest import Cli


def test_logout_through_a_symlink_removes_the_secret_from_the_target(
    run: Cli, sim: Simulator, tmp_path: Path
) -> None:
    target = tmp_path / "mount" / "real.json"
    target.parent.mkdir()
    target.write_text(
        json.dumps({"client_id": sim.client_id, "client_secret": sim.client_secret}),
        encoding="utf-8",
    )
    target.chmod(0o600)
    link = tmp_path / "creds.json"
    link.symlink_to(target)
    out = run(["logout", "--server", sim.base_url, "--credential-file", str(link)])
    assert out.exit_code == 0, out.stderr
    assert "logged out" in out.stderr and str(target) in out.stderr
    assert link.is_symlink()
    assert sim.client_secret not in target.read_text(encoding="utf-8")


def test_login_names_the_keyring_backend(run: Cli, sim: Simulator, file_keyring: Any) -> None:
    """Issue 11 item 14: not "the OS keyring" when the backend is keyrings.alt's plaintext file."""
    result = run(
        ["login", "--server", sim.base_url, "--plugin", "Backend Check"],
        input=f"{sim.client_id}\n{sim.client_secret}\n",
    )
    assert result.exit_code == 0, result.stderr
    assert "keyrings.alt.file.PlaintextKeyring" in result.stderr
    assert "OS keyring" not in result.stderr
