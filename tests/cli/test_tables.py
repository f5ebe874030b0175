"""`table list|count|get|insert|update|delete`, `get --paginate` and `query --prefetch` against
the simulator: the records the library reads, in the CLI's formats."""

from __future__ import annotations

import json

import pytest

from acme_powerschool.testing import Simulator
from tests.cli.conftest import STUDENTS, Cli, records

TABLE = "u_studentsuserfields"


def test_table_round_trip(run: Cli, sim_env: dict) -> None:
    inserted = run(
        ["table", "insert", TABLE, "--set", "studentsdcid=4", "--data", '{"favorite_color": "teal"}'],
        env=sim_env,
    )  # fmt: skip
    assert inserted.exit_code == 0, inserted.stderr
    new_id = str(json.loads(inserted.stdout)["result"][0]["success_message"]["id"])
    row = records(run(["table", "get", TABLE, new_id], env=sim_env), "json")[0]
    assert row["favorite_color"] == "teal" and row["studentsdcid"] == "4"
    assert str(row["id"]) == new_id

    updated = run(["table", "update", TABLE, new_id, "--set", "favorite_color=plum"], env=sim_env)
    assert updated.exit_code == 0, updated.stderr
    rows = records(
        run(["table", "list", TABLE, "--q", "favorite_color==plum", "--format", "jsonl"], env=sim_env),
        "jsonl",
    )  # fmt: skip
    assert [str(r["id"]) for r in rows] == [new_id]

    deleted = run(["table", "delete", TABLE, new_id], env=sim_env)
    assert deleted.exit_code == 0 and f"deleted row {new_id}" in deleted.stderr
    assert run(["table", "get", TABLE, new_id], env=sim_env).exit_code == 4


def test_table_list_pages_and_counts(run: Cli, sim_env: dict) -> None:
    total = int(run(["table", "count", TABLE], env=sim_env).stdout)
    for extra in ([], ["--pagesize", "3"], ["--pagesize", "3", "--prefetch", "4"]):
        result = run(["table", "list", TABLE, "--format", "csv", *extra], env=sim_env)
        assert result.exit_code == 0, result.stderr
        assert len(records(result, "csv")) == total
    limited = run(["table", "list", TABLE, "--limit", "2", "--format", "jsonl"], env=sim_env)
    assert len(records(limited, "jsonl")) == 2


@pytest.mark.parametrize("pagesize", [None, "7", "100"])
def test_get_paginate_reads_every_page_of_a_v1_listing(
    run: Cli, sim_env: dict, sim: Simulator, pagesize: str | None
) -> None:
    extra = ["--pagesize", pagesize] if pagesize else []
    result = run(
        ["get", "ws/v1/district/student", "--paginate", "--format", "jsonl", *extra], env=sim_env
    )
    assert result.exit_code == 0, result.stderr
    ids = [row["id"] for row in records(result, "jsonl")]
    assert len(ids) == len(set(ids)) == STUDENTS
    assert f"{STUDENTS} records" in result.stderr


def test_get_paginate_reads_a_schema_listing(run: Cli, sim_env: dict) -> None:
    total = int(run(["table", "count", "students"], env=sim_env).stdout)
    result = run(
        ["get", "ws/schema/table/students", "--paginate", "--pagesize", "25",
         "--param", "projection=id,last_name", "--format", "csv"],
        env=sim_env,
    )  # fmt: skip
    assert result.exit_code == 0, result.stderr
    assert len(records(result, "csv")) == total


def test_get_paginate_refuses_what_is_not_a_listing(run: Cli, sim_env: dict) -> None:
    result = run(["get", "ws/v1/student/2", "--paginate"], env=sim_env)
    assert result.exit_code == 1
    assert "--paginate reads listings" in result.stderr


def test_query_prefetch_gives_the_same_rows(run: Cli, sim_env: dict) -> None:
    plain = run(["query", "com.acme.sdk.students.flat", "--format", "jsonl"], env=sim_env)
    ahead = run(
        ["query", "com.acme.sdk.students.flat", "--format", "jsonl", "--prefetch", "4",
         "--pagesize", "10"],
        env=sim_env,
    )  # fmt: skip
    assert ahead.exit_code == 0, ahead.stderr
    assert records(ahead, "jsonl") == records(plain, "jsonl")
    assert len(records(plain, "jsonl")) == STUDENTS


def test_ids_follow_the_library_rule(run: Cli, sim_env: dict, sim: Simulator) -> None:
    # '²' is a digit to Python but no id: a usage error naming it (core/ids.py), not a crash.
    before = sim.stats.requests
    for args in (["students", "get", "²"], ["table", "get", TABLE, "²"]):
        odd = run(args, env=sim_env)
        assert odd.exit_code == 2, odd.stderr
        assert "not an ASCII digit" in odd.stderr and "invalid literal" not in odd.stderr
    assert sim.stats.requests == before
    # '03001' stays text (the library's rule), so it is looked up as such and not found.
    assert run(["students", "get", "03001"], env=sim_env).exit_code == 4
