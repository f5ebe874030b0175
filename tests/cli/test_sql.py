"""`sql` with an injected fake connection: there is no Oracle database here, so these tests
check the command's own work (read-only guard and transaction, binds, formats, cleanup), not
oracledb. The real connect path is tested in tests/oracle/."""

from __future__ import annotations

import datetime
import decimal
from typing import Any

import pyarrow
import pytest

from acme_powerschool.cli.common import CliState
from tests.cli.conftest import Cli, one_error_line, records


class FakeCursor:
    def __init__(self, conn: FakeConnection) -> None:
        self.conn = conn

    def execute(self, statement: str) -> None:
        self.conn.log.append(("execute", statement))

    def close(self) -> None:
        self.conn.log.append(("cursor.close", ""))


class FakeConnection:
    """What the command uses of an oracledb.Connection."""

    def __init__(self) -> None:
        self.log: list[tuple[str, Any]] = []

    def cursor(self) -> FakeCursor:
        return FakeCursor(self)

    def fetch_df_all(self, statement: str, parameters: Any, arraysize: int) -> pyarrow.Table:
        self.log.append(("fetch", (statement, parameters)))
        return pyarrow.table({
            "SCHOOL_NUMBER": [100, 600],
            "NAME": ["Apple Grove High School", "Cherry Hill Middle School"],
            "OPENED": [datetime.date(1990, 9, 1), None],
            "GPA": [decimal.Decimal("3.50"), decimal.Decimal("2.75")],
        })  # fmt: skip

    def rollback(self) -> None:
        self.log.append(("rollback", ""))

    def close(self) -> None:
        self.log.append(("close", ""))


@pytest.fixture
def fake() -> tuple[FakeConnection, CliState, list[dict[str, Any]]]:
    conn = FakeConnection()
    calls: list[dict[str, Any]] = []

    def connect(**kwargs: Any) -> FakeConnection:
        calls.append(kwargs)
        return conn

    return conn, CliState(oracle_connect=connect), calls


SQL = "select school_number, name from schools where school_number > :low"
ARGS = ["--server", "ps.example.org", "--user", "psnavigator"]


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "json"])
def test_sql_rows_in_each_format(run: Cli, fake: Any, fmt: str) -> None:
    conn, state, calls = fake
    result = run(["sql", SQL, *ARGS, "--param", "low:=50", "--format", fmt], obj=state)
    assert result.exit_code == 0, result.stderr
    rows = records(result, fmt)
    assert [str(row["SCHOOL_NUMBER"]) for row in rows] == ["100", "600"]
    assert str(rows[0]["OPENED"]) == "1990-09-01" and str(rows[0]["GPA"]) == "3.50"
    assert calls == [
        {"server": "ps.example.org", "user": "psnavigator", "port": 1521, "database": "psproddb"}
    ]
    assert conn.log[0] == ("execute", "set transaction read only")
    assert ("fetch", (SQL, {"low": 50})) in conn.log
    assert conn.log[-2:] == [("rollback", ""), ("close", "")]


def test_sql_table_is_the_default(run: Cli, fake: Any) -> None:
    result = run(["sql", SQL, *ARGS], obj=fake[1])
    assert "Apple Grove High School" in result.stdout and "SCHOOL_NUMBER" in result.stdout


@pytest.mark.parametrize(
    "statement",
    [
        "delete from students",
        "  update students set x=1",
        "/* select */ drop table x",
        "begin null; end;",
    ],
)
def test_sql_refuses_anything_but_a_query(run: Cli, fake: Any, statement: str) -> None:
    result = run(["sql", statement, *ARGS], obj=fake[1])
    assert result.exit_code == 2 and "read-only" in one_error_line(result)
    assert fake[2] == []  # never connected


def test_sql_accepts_with_and_comments(run: Cli, fake: Any) -> None:
    result = run(
        ["sql", "/* report */ with s as (select 1 from dual) select * from s;", *ARGS], obj=fake[1]
    )
    assert result.exit_code == 0, result.stderr


def test_sql_needs_server_and_user(run: Cli, fake: Any) -> None:
    assert "--server" in one_error_line(run(["sql", SQL, "--user", "u"], obj=fake[1]))
    assert "--user" in one_error_line(run(["sql", SQL, "--server", "h"], obj=fake[1]))


def test_sql_connect_failure_is_one_line(run: Cli) -> None:
    def refuse(**kwargs: Any) -> Any:
        raise RuntimeError("cannot reach ps.example.org:1521 (connection refused)")

    line = one_error_line(run(["sql", SQL, *ARGS], obj=CliState(oracle_connect=refuse)))
    assert "connection refused" in line
