"""Issue 11 item 3: control characters a server sends (OSC 52 writes the clipboard, BEL rings,
CSI moves the cursor, 0x9b is an 8-bit CSI) are escaped in everything the CLI prints, in
every format, piped or not; JSON output stays the same JSON value."""

from __future__ import annotations

import json

import pytest

from acme_powerschool.testing import Simulator
from tests.cli.conftest import Cli, one_error_line

HOSTILE = "a\x1b]52;c;cHduZWQ=\x07b\x1b[2J\x9b31m\u202ec"
RAW = ("\x1b", "\x07", "\x9b", "\u202e")


def _clean(text: str) -> bool:
    return not any(ch in text for ch in RAW)


@pytest.fixture
def hostile_row(run: Cli, sim_env: dict) -> str:
    """Row 1 of the extension table with a hostile favourite colour (written through the CLI)."""
    args = ["table", "update", "u_studentsuserfields", "1", "--set", f"favorite_color={HOSTILE}"]
    assert run(args, env=sim_env).exit_code == 0
    return "1"


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv", "table"])
def test_table_cells_in_every_format(run: Cli, sim_env: dict, hostile_row: str, fmt: str) -> None:
    result = run(
        ["table", "list", "u_studentsuserfields", "--limit", "3", "--format", fmt], env=sim_env
    )
    assert result.exit_code == 0, result.stderr
    assert _clean(result.stdout), repr(result.stdout)
    assert "\\x1b]52" in result.stdout or "\\u001b]52" in result.stdout


def test_json_output_keeps_the_value(run: Cli, sim_env: dict, hostile_row: str) -> None:
    result = run(["table", "get", "u_studentsuserfields", hostile_row], env=sim_env)
    assert _clean(result.stdout)
    assert json.loads(result.stdout)["favorite_color"] == HOSTILE


@pytest.mark.parametrize("as_xml", [False, True])
def test_raw_bodies_json_and_xml(run: Cli, sim_env: dict, hostile_row: str, as_xml: bool) -> None:
    args = ["get", f"ws/schema/table/u_studentsuserfields/{hostile_row}", "--param", "projection=*"]
    result = run(args + (["--xml"] if as_xml else []), env=sim_env)
    assert result.exit_code == 0, result.stderr
    assert "52;c;cHduZWQ=" in result.stdout
    assert _clean(result.stdout), repr(result.stdout)


def test_the_error_line(run: Cli, sim_env: dict) -> None:
    result = run(["query", f"com.acme.{HOSTILE}"], env=sim_env)
    line = one_error_line(result)
    assert "52;c;cHduZWQ=" in line  # the server echoed the name: shown, not obeyed
    assert _clean(result.stderr), repr(result.stderr)


def test_access_requests_from_a_hostile_body(run: Cli, tmp_path: object) -> None:
    from pathlib import Path

    body = {
        "message": "Validation Failed",
        "errors": [{"resource": "x", "field": f"students.dob{HOSTILE}", "code": "ViewOnly"}],
    }
    path = Path(str(tmp_path)) / "403.json"
    path.write_text(json.dumps(body))
    result = run(["access-requests", "--from-file", str(path)])
    assert _clean(result.stdout + result.stderr)


def test_piped_raw_text_body(run: Cli, sim_env: dict, sim: Simulator) -> None:
    # A body that is neither JSON nor XML (a proxy's page) is printed as text, escaped.
    result = run(["get", f"ws/v1/student/{HOSTILE}"], env=sim_env)
    assert _clean(result.stdout + result.stderr)
