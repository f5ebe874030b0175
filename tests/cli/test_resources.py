"""Typed families as commands: built from the generated helpers, output parsed back."""

from __future__ import annotations

import pytest

from acme_powerschool.cli import resources
from acme_powerschool.testing import Simulator
from tests.cli.conftest import STUDENTS, Cli, one_error_line, records


def test_every_family_of_the_client_is_a_command_group(run: Cli) -> None:
    result = run(["--help"])
    for family in ("students", "schools", "staff", "sections", "terms", "courses"):
        assert family in resources.family_names()
        assert f"  {family} " in result.stdout


def test_commands_come_from_the_helpers_signatures() -> None:
    ops = {op.method: op for op in resources.operations("students")}
    assert ops["get"].kind == "one" and [p.name for p in ops["get"].positional] == ["id"]
    assert ops["for_school"].kind == "many"
    assert ops["count"].kind == "count"
    assert "bulk_insert" not in ops  # writes are left to `acme-powerschool post`
    expansions = next(p for p in ops["get"].keywords if p.name == "expansions")
    assert expansions.multiple and "contact_info" in expansions.type.choices  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("family", "args"),
    [
        ("students", ["--school", "100"]),
        ("schools", []),
        ("staff", ["--school", "100"]),
        ("sections", ["--school", "100"]),
        ("terms", ["--school", "100"]),
        ("courses", ["--school", "100"]),
    ],
)
def test_list_of_each_family_round_trips_as_jsonl(
    run: Cli, sim_env: dict, family: str, args: list[str]
) -> None:
    result = run([family, "list", *args, "--format", "jsonl"], env=sim_env)
    assert result.exit_code == 0, result.stderr
    rows = records(result, "jsonl")
    assert rows and all("id" in row for row in rows)
    first = run([family, "get", str(rows[0]["id"])], env=sim_env)
    assert first.exit_code == 0, first.stderr
    assert records(first, "json")[0]["id"] == rows[0]["id"]


def test_students_get_with_expansions(run: Cli, sim_env: dict) -> None:
    result = run(["students", "get", "2", "--expansions", "contact_info,demographics"], env=sim_env)
    assert result.exit_code == 0, result.stderr
    student = records(result, "json")[0]
    assert student["id"] == 2
    assert "email" in student["contact_info"] and "gender" in student["demographics"]


def test_students_list_json_csv_and_table(run: Cli, sim_env: dict) -> None:
    as_json = records(run(["students", "list", "--school", "100"], env=sim_env), "json")
    csv_result = run(["students", "list", "--school", "100", "--format", "csv"], env=sim_env)
    as_csv = records(csv_result, "csv")
    assert [int(row["id"]) for row in as_csv] == [row["id"] for row in as_json]
    assert "name.first_name" in as_csv[0] and "name.middle_name" in as_csv[0]
    table = run(
        ["students", "list", "--school", "100", "--format", "table", "--limit", "3"], env=sim_env
    )
    assert table.exit_code == 0 and str(as_json[0]["id"]) in table.stdout


def test_district_wide_list_and_counts_agree(run: Cli, sim_env: dict) -> None:
    everyone = records(
        run(["students", "list", "--format", "jsonl", "--pagesize", "50"], env=sim_env), "jsonl"
    )
    assert len(everyone) == STUDENTS
    assert run(["students", "count"], env=sim_env).stdout.strip() == str(STUDENTS)
    in_school = run(["students", "count", "--school", "100"], env=sim_env).stdout.strip()
    assert int(in_school) == len(
        records(
            run(["students", "list", "--school", "100", "--format", "jsonl"], env=sim_env), "jsonl"
        )
    )


def test_limit_and_q(run: Cli, sim_env: dict) -> None:
    rows = records(
        run(["students", "list", "--limit", "7", "--format", "jsonl"], env=sim_env), "jsonl"
    )
    assert len(rows) == 7
    filtered = run(
        [
            "students",
            "list",
            "--school",
            "100",
            "--q",
            "name.last_name==Adair",
            "--format",
            "jsonl",
        ],
        env=sim_env,
    )
    assert {row["name"]["last_name"] for row in records(filtered, "jsonl")} <= {"Adair"}


def test_other_helpers_become_their_own_commands(run: Cli, sim_env: dict) -> None:
    district = run(["schools", "district"], env=sim_env)
    assert district.exit_code == 0 and "name" in records(district, "json")[0]
    flat = run(
        ["powerqueries", "students-flat", "--format", "csv", "--pagesize", "40"], env=sim_env
    )
    assert len(records(flat, "csv")) == STUDENTS


def test_list_without_a_needed_scope_says_which_option(run: Cli, sim_env: dict) -> None:
    line = one_error_line(run(["sections", "list"], env=sim_env))
    assert "--school ID" in line


def test_unknown_id_is_a_one_line_not_found(run: Cli, sim_env: dict) -> None:
    line = one_error_line(run(["students", "get", "99999999"], env=sim_env))
    assert "404" in line


def test_bad_expansion_is_a_usage_error(run: Cli, sim_env: dict) -> None:
    result = run(["students", "get", "2", "--expansions", "nonsense"], env=sim_env)
    assert result.exit_code == 2
    assert "nonsense" in one_error_line(result)


def test_server_error_is_one_line(run: Cli, sim_env: dict, sim: Simulator) -> None:
    sim.inject("GET /ws/v1/school/*", "500", times=5)
    try:
        line = one_error_line(run(["schools", "get", "100"], env=sim_env))
    finally:
        sim.clear_faults()
    assert "500" in line


def test_every_family_command_has_help_with_an_example(run: Cli) -> None:
    for family in resources.family_names():
        listing = run([family, "--help"])
        assert "Example" in listing.stdout
        for name in resources.family_commands(family):
            text = run([family, name, "--help"]).stdout
            assert "Example" in text and "acme-powerschool" in text, (family, name)
