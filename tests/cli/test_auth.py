"""login / logout / token on a real file-backed keyring and on credential files."""

from __future__ import annotations

import json
import stat
from pathlib import Path
from typing import Any

from acme_powerschool.cli.common import CliState
from acme_powerschool.core.config import parse_base_url
from acme_powerschool.testing import Simulator
from tests.cli.conftest import Cli, one_error_line

PLUGIN = "My Plugin"


def _keyring_value(backend: Any, sim: Simulator) -> dict[str, Any] | None:
    raw = backend.get_password(parse_base_url(sim.base_url).netloc, PLUGIN)
    return None if raw is None else json.loads(raw)


def test_login_checks_then_stores_in_the_keyring(
    run: Cli, sim: Simulator, file_keyring: Any
) -> None:
    args = ["--server", sim.base_url, "--plugin", PLUGIN]
    result = run(["login", *args], input=f"{sim.client_id}\n{sim.client_secret}\n")
    assert result.exit_code == 0, result.stderr
    stored = _keyring_value(file_keyring, sim)
    assert stored is not None
    assert stored["client_id"] == sim.client_id and stored["client_secret"] == sim.client_secret
    token = stored["access_token"]
    run.secrets.append(token)

    status = run(["token", *args])
    assert (
        status.exit_code == 0 and "valid token" in status.stderr and "expires at" in status.stderr
    )
    assert status.stdout == ""
    run.secrets.remove(token)
    shown = run(["token", *args, "--show"])
    assert shown.stdout.strip() == token
    run.secrets.append(token)

    # The stored credentials now serve the other commands.
    listed = run(["schools", "list", "--format", "jsonl", *args])
    assert listed.exit_code == 0 and listed.stdout.count("\n") == 3

    out = run(["logout", *args])
    assert out.exit_code == 0 and _keyring_value(file_keyring, sim) is None
    again = run(["logout", *args])
    assert again.exit_code == 0 and "nothing was stored" in again.stderr
    after = run(["token", *args])
    assert after.exit_code == 1 and "login" in one_error_line(after)


def test_login_with_wrong_secret_stores_nothing(
    run: Cli, sim: Simulator, file_keyring: Any
) -> None:
    run.secrets.append("not-the-secret")
    result = run(
        ["login", "--server", sim.base_url, "--plugin", PLUGIN],
        input=f"{sim.client_id}\nnot-the-secret\n",
    )
    line = one_error_line(result)
    assert "nothing was stored" in line and "refused" in line
    assert _keyring_value(file_keyring, sim) is None


def test_login_prompts_with_hidden_input_on_a_terminal(
    run: Cli, sim: Simulator, tmp_path: Path
) -> None:
    creds = tmp_path / "creds.json"
    result = run(
        ["login", "--server", sim.base_url, "--credential-file", str(creds)],
        input=f"{sim.client_id}\n{sim.client_secret}\n",
        obj=CliState(stdin_is_tty=lambda: True),
    )
    assert result.exit_code == 0, result.stderr
    assert "client secret" in result.stderr  # the prompt, shown on stderr without the answer
    assert sim.client_id not in result.stderr
    payload = json.loads(creds.read_text(encoding="utf-8"))
    assert payload["client_secret"] == sim.client_secret and payload["access_token"]
    assert stat.S_IMODE(creds.stat().st_mode) == 0o600


def test_credential_file_login_keeps_other_keys_and_logout_removes_only_credentials(
    run: Cli, sim: Simulator, tmp_path: Path
) -> None:
    creds = tmp_path / "creds.json"
    creds.write_text('{"note": "kept"}', encoding="utf-8")
    env = {"ACME_POWERSCHOOL_SERVER": sim.base_url, "ACME_POWERSCHOOL_CREDENTIAL_FILE": str(creds),
           "ACME_POWERSCHOOL_CLIENT_ID": sim.client_id, "ACME_POWERSCHOOL_CLIENT_SECRET": sim.client_secret}  # fmt: skip
    assert run(["login"], env=env).exit_code == 0
    payload = json.loads(creds.read_text(encoding="utf-8"))
    assert payload["note"] == "kept" and payload["client_id"] == sim.client_id
    run.secrets.append(payload["access_token"])
    assert run(["token"], env=env).exit_code == 0
    assert run(["logout"], env=env).exit_code == 0
    assert json.loads(creds.read_text(encoding="utf-8")) == {"note": "kept"}
    creds.write_text(json.dumps(payload), encoding="utf-8")
    del payload["note"]
    creds.write_text(json.dumps(payload), encoding="utf-8")
    assert run(["logout"], env=env).exit_code == 0
    assert not creds.exists()


def test_token_reports_an_expired_token(run: Cli, sim: Simulator, tmp_path: Path) -> None:
    creds = tmp_path / "creds.json"
    creds.write_text(json.dumps({"client_id": "a", "client_secret": "b", "access_token": "old-token",
                                 "expires_at": 1000}), encoding="utf-8")  # fmt: skip
    run.secrets.append("old-token")
    result = run(["token", "--server", sim.base_url, "--credential-file", str(creds)])
    assert result.exit_code == 1 and "expired" in result.stderr


def test_login_needs_a_store_and_a_server(run: Cli, sim: Simulator, tmp_path: Path) -> None:
    no_store = run(["login", "--server", sim.base_url], input="a\nb\n")
    assert no_store.exit_code == 2 and "--plugin NAME" in one_error_line(no_store)
    no_server = run(["login", "--credential-file", str(tmp_path / "c.json")], input="a\nb\n")
    assert "ACME_POWERSCHOOL_SERVER" in one_error_line(no_server)
    broken = tmp_path / "broken.json"
    broken.write_text("{not json", encoding="utf-8")
    line = one_error_line(
        run(["login", "--server", sim.base_url, "--credential-file", str(broken)],
            input=f"{sim.client_id}\n{sim.client_secret}\n")
    )  # fmt: skip
    assert "not valid JSON" in line and broken.read_text(encoding="utf-8") == "{not json"


def test_both_patterns_from_the_command_line_are_refused(
    run: Cli, sim: Simulator, tmp_path: Path
) -> None:
    result = run(
        ["token", "--server", sim.base_url, "--plugin", PLUGIN, "--credential-file", "x.json"]
    )
    assert result.exit_code == 2 and "not both" in one_error_line(result)


def test_command_line_beats_the_environment(run: Cli, sim: Simulator, tmp_path: Path) -> None:
    creds = tmp_path / "creds.json"
    creds.write_text(
        json.dumps({"client_id": sim.client_id, "client_secret": sim.client_secret}),
        encoding="utf-8",
    )
    env = {"ACME_POWERSCHOOL_PLUGIN": "ignored", "ACME_POWERSCHOOL_SERVER": sim.base_url}
    result = run(["schools", "count", "--credential-file", str(creds)], env=env)
    assert result.exit_code == 0, result.stderr and result.stdout.strip() == "3"
