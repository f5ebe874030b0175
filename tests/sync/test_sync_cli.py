"""`acme-powerschool sync` against the simulator: a summary per resource, a second run that
moves nothing, one `error:` line and the CLI's exit codes for what goes wrong."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from click.testing import CliRunner

from acme_powerschool.cli.app import cli


def _run(sim: Any, tmp_path: Path, *args: str) -> Any:
    env = {
        "ACME_POWERSCHOOL_SERVER": sim.base_url,
        "ACME_POWERSCHOOL_CLIENT_ID": sim.client_id,
        "ACME_POWERSCHOOL_CLIENT_SECRET": sim.client_secret,
        "ACME_POWERSCHOOL_PLUGIN": None,
        "ACME_POWERSCHOOL_CREDENTIAL_FILE": None,
    }
    common = ["--destination", str(tmp_path / "district.duckdb")]
    common += ["--pipelines-dir", str(tmp_path / "pipelines")]
    result = CliRunner().invoke(cli, ["sync", *common, *args], env=env)
    assert "Traceback" not in result.output
    assert sim.client_secret not in result.output
    return result


def test_sync_prints_a_summary_and_a_second_run_moves_nothing(sim: Any, tmp_path: Path) -> None:
    first = _run(sim, tmp_path, "--resource", "schools", "--table", "u_studentsuserfields")
    assert first.exit_code == 0, first.output
    lines = first.stdout.splitlines()
    assert lines[0].split() == ["resource", "method", "read", "inserted", "updated", "deleted"]
    assert lines[1].split() == ["schools", "full", "read", "3", "3", "0", "0"]
    assert lines[-1].startswith("requests: ")
    second = _run(sim, tmp_path, "--resource", "schools", "--table", "u_studentsuserfields")
    assert second.exit_code == 0, second.output
    assert second.stdout.splitlines()[1].split() == ["schools", "full", "read", "3", "0", "0", "0"]


def test_sync_errors_are_one_line_with_the_cli_exit_codes(sim: Any, tmp_path: Path) -> None:
    missing = _run(sim, tmp_path, "--table", "no_such_table")
    assert missing.exit_code == 4
    assert missing.stderr.strip().startswith("error: ") and "no_such_table" in missing.stderr
    twin = CliRunner().invoke(
        cli,
        ["sync", "--server", sim.base_url, "--dataset", "district",
         "--destination", str(tmp_path / "district.duckdb")],
        env={"ACME_POWERSCHOOL_CLIENT_ID": sim.client_id,
             "ACME_POWERSCHOOL_CLIENT_SECRET": sim.client_secret},
    )  # fmt: skip
    assert twin.exit_code == 2 and "same name" in twin.stderr
    bad_args = _run(sim, tmp_path, "--powerquery", "com.acme.sdk.students.by_school:[1]")
    assert bad_args.exit_code == 2 and "JSON object" in bad_args.stderr
