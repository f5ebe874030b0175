"""`query` streams every page in each format; `access-requests` prints the plugin.xml block."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from acme_powerschool.cli.common import CliState
from acme_powerschool.core.access import parse_access_requests
from tests.cli.conftest import STUDENTS, Cli, one_error_line, records

FLAT = "com.acme.sdk.students.flat"
ATTENDANCE = "com.pearson.core.attendance.daily_attendance_template"


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_query_reads_every_page_in_each_format(run: Cli, sim_env: dict, fmt: str) -> None:
    result = run(["query", FLAT, "--format", fmt, "--pagesize", "25"], env=sim_env)
    assert result.exit_code == 0, result.stderr
    rows = records(result, fmt)
    assert len(rows) == STUDENTS
    assert len({row["dcid"] for row in rows}) == STUDENTS
    assert set(rows[0]) >= {"dcid", "last_name", "first_name", "school_name"}
    assert result.stderr.strip() == f"{STUDENTS} records"  # no bar: stderr is not a terminal


def test_query_table(run: Cli, sim_env: dict) -> None:
    result = run(["query", FLAT, "--format", "table"], env=sim_env)
    assert result.exit_code == 0 and "school_name" in result.stdout


def test_query_args_reach_the_query(run: Cli, sim_env: dict) -> None:
    everyone = records(
        run(
            [
                "query",
                "com.acme.sdk.students.by_school",
                "--arg",
                "schoolid:=100",
                "--format",
                "jsonl",
            ],
            env=sim_env,
        ),
        "jsonl",
    )
    some = records(
        run(["query", "com.acme.sdk.students.by_school", "--arg", "schoolid=100",
             "--arg", "grade_levels:=[9]", "--format", "jsonl"], env=sim_env),
        "jsonl",
    )  # fmt: skip
    assert everyone and len(some) < len(everyone)
    assert {row["students.grade_level"] for row in some} == {"9"}


def test_query_to_a_file(run: Cli, sim_env: dict, tmp_path: Path) -> None:
    out = tmp_path / "students.csv"
    result = run(["query", FLAT, "--out", str(out)], env=sim_env)
    assert result.exit_code == 0 and result.stdout == ""
    assert out.read_text(encoding="utf-8").count("\n") == STUDENTS + 1
    assert [p.name for p in tmp_path.iterdir()] == ["students.csv"]


def test_failed_query_leaves_no_output_file(run: Cli, sim_env: dict, tmp_path: Path) -> None:
    out = tmp_path / "attendance.csv"
    result = run(["query", ATTENDANCE, "--arg", "studentid=2", "--out", str(out)], env=sim_env)
    assert result.exit_code == 4  # a 403, exit 4 as for `get`
    assert list(tmp_path.iterdir()) == []


def test_progress_bar_shows_records_of_the_count(run: Cli, sim_env: dict) -> None:
    result = run(["query", FLAT, "--format", "jsonl", "--progress"], env=sim_env)
    assert result.exit_code == 0
    assert len(records(result, "jsonl")) == STUDENTS
    assert f"/{STUDENTS}" in result.stderr and "records" in result.stderr


def test_progress_can_be_forced_through_the_state(run: Cli, sim_env: dict) -> None:
    result = run(["query", FLAT, "--format", "jsonl"], env=sim_env, obj=CliState(progress=True))
    assert f"/{STUDENTS}" in result.stderr


def test_query_403_is_one_line_naming_the_field(run: Cli, sim_env: dict) -> None:
    line = one_error_line(run(["query", ATTENDANCE, "--arg", "studentid=2"], env=sim_env))
    assert "403" in line and 'table="attendance" field="studentid"' in line


def test_unknown_query_is_one_line(run: Cli, sim_env: dict) -> None:
    assert "404" in one_error_line(run(["query", "com.acme.sdk.no.such"], env=sim_env))


@pytest.mark.parametrize("bad", ["novalue", "=x", "n:=[1,"])
def test_malformed_arg_is_a_usage_error(run: Cli, sim_env: dict, bad: str) -> None:
    result = run(["query", FLAT, "--arg", bad], env=sim_env)
    assert result.exit_code == 2
    assert "--arg" in one_error_line(result)


def test_access_requests_from_the_server(run: Cli, sim_env: dict) -> None:
    result = run(["access-requests", ATTENDANCE, "--arg", "studentid=2"], env=sim_env)
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "<access_request>" and lines[-1] == "</access_request>"
    fields = parse_access_requests(result.stdout)
    assert [(f.table, f.field, f.access) for f in fields] == [
        ("attendance", "studentid", "ViewOnly")
    ]


def test_access_requests_when_nothing_is_missing(run: Cli, sim_env: dict) -> None:
    result = run(["access-requests", FLAT], env=sim_env)
    assert result.exit_code == 0 and result.stdout == ""
    assert "already has access" in result.stderr


def test_access_requests_from_a_file_sorted_and_deduplicated(run: Cli, tmp_path: Path) -> None:
    body = {
        "message": "Validation Failed",
        "errors": [
            {
                "resource": "q",
                "field": "pssis_stu_contact_act.studentdcid",
                "code": "No access to the field",
            },
            {
                "resource": "q",
                "field": "PSSIS_PERSON_PHONE.phonetype",
                "code": "No access to the field",
            },
            {
                "resource": "q",
                "field": "pssis_person_phone.phonetype",
                "code": "No access to the field",
            },
        ],
    }
    saved = tmp_path / "response.json"
    saved.write_text(json.dumps(body), encoding="utf-8")
    result = run(["access-requests", "--from-file", str(saved)])
    assert result.exit_code == 0, result.stderr
    assert result.stdout == (
        "<access_request>\n"
        '    <field table="pssis_person_phone" field="phonetype" access="ViewOnly" />\n'
        '    <field table="pssis_stu_contact_act" field="studentdcid" access="ViewOnly" />\n'
        "</access_request>\n"
    )
    piped = run(["access-requests", "--from-file", "-"], input=json.dumps(body))
    assert piped.stdout == result.stdout


def test_access_requests_bad_input(run: Cli, tmp_path: Path) -> None:
    assert "cannot read response file" in one_error_line(
        run(["access-requests", "--from-file", str(tmp_path / "missing.json")])
    )
    empty = tmp_path / "ok.json"
    empty.write_text('{"record": []}', encoding="utf-8")
    assert "names no field" in one_error_line(run(["access-requests", "--from-file", str(empty)]))
    neither = run(["access-requests"])
    assert neither.exit_code == 2 and "--from-file" in one_error_line(neither)
