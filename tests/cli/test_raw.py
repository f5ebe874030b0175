"""The raw verbs: pretty body on stdout, status and time on stderr, 4 for 4xx and 5 for 5xx."""

from __future__ import annotations

import json
from pathlib import Path

from acme_powerschool.testing import Simulator
from tests.cli.conftest import Cli, one_error_line


def test_get_prints_pretty_json_and_the_status_on_stderr(run: Cli, sim_env: dict) -> None:
    result = run(["get", "ws/v1/student/2", "--param", "expansions=contact_info"], env=sim_env)
    assert result.exit_code == 0, result.stderr
    body = json.loads(result.stdout)
    assert body["student"]["id"] == 2
    assert "contact_info" in body["student"]
    assert result.stdout.startswith("{\n  ")
    status = result.stderr.strip().splitlines()[-1]
    assert status.startswith("200 ") and "GET /ws/v1/student/2" in status and status.endswith(" s")


def test_get_xml_prints_xml(run: Cli, sim_env: dict) -> None:
    result = run(["get", "ws/v1/district/school", "--xml"], env=sim_env)
    assert result.exit_code == 0, result.stderr
    assert result.stdout.lstrip().startswith("<")
    assert "<schools" in result.stdout


def test_post_data_from_a_file(run: Cli, sim_env: dict, tmp_path: Path) -> None:
    body = tmp_path / "args.json"
    body.write_text("{}", encoding="utf-8")
    result = run(
        ["post", "ws/schema/query/com.acme.sdk.students.flat", "--data", f"@{body}",
         "--param", "pagesize=5"],
        env=sim_env,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert len(json.loads(result.stdout)["record"]) == 5


def test_not_found_exits_4_with_the_body(run: Cli, sim_env: dict) -> None:
    result = run(["get", "ws/v1/student/99999999"], env=sim_env)
    assert result.exit_code == 4
    assert result.stderr.strip().startswith("404 ")


def test_forbidden_exits_4_and_names_the_missing_field(run: Cli, sim_env: dict) -> None:
    result = run(
        ["post", "ws/schema/query/com.pearson.core.attendance.daily_attendance_template",
         "--data", '{"studentid": "2"}'],
        env=sim_env,
    )  # fmt: skip
    assert result.exit_code == 4
    assert json.loads(result.stdout)["message"] == "Validation Failed"
    assert 'table="attendance" field="studentid"' in result.stderr
    assert "PowerSchoolWarning" not in result.stderr


def test_server_error_exits_5(run: Cli, sim_env: dict, sim: Simulator) -> None:
    sim.inject("GET /ws/v1/district", "500", times=1)
    try:
        result = run(["get", "ws/v1/district"], env=sim_env)
    finally:
        sim.clear_faults()
    assert result.exit_code == 5
    assert result.stderr.strip().splitlines()[-1].startswith("500 ")


def test_invalid_json_data_is_refused_before_sending(
    run: Cli, sim_env: dict, sim: Simulator
) -> None:
    before = sim.stats.requests
    result = run(["post", "ws/v1/student", "--data", "{nope"], env=sim_env)
    assert result.exit_code == 2
    assert "Invalid value for --data: not valid JSON" in one_error_line(result)
    assert sim.stats.requests == before


def test_unreadable_data_file(run: Cli, sim_env: dict, tmp_path: Path) -> None:
    result = run(["post", "ws/v1/student", "--data", f"@{tmp_path / 'no.json'}"], env=sim_env)
    assert result.exit_code == 2
    assert "cannot read --data file" in one_error_line(result)


def test_malformed_param(run: Cli, sim_env: dict) -> None:
    result = run(["get", "ws/v1/district", "--param", "novalue"], env=sim_env)
    assert result.exit_code == 2
    assert "KEY=VALUE" in one_error_line(result)
