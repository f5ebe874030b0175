"""One exit-status rule for every command (4 for a 4xx, 5 for a 5xx or no answer, 1 otherwise),
error lines that carry PowerSchool's field errors, `--out` errors naming the file asked for,
and a progress bar that costs no count request."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import requests

from acme_powerschool.cli.common import CliState
from acme_powerschool.core.errors import (
    AccessDenied,
    AuthenticationError,
    BadRequest,
    NotFound,
    PowerSchoolError,
    RateLimited,
    ResponseFormatError,
    ServerError,
)
from acme_powerschool.testing import Simulator
from tests.cli.conftest import STUDENTS, Cli, one_error_line, records

FAKE_ENV: dict[str, str | None] = {
    "ACME_POWERSCHOOL_SERVER": "http://127.0.0.1:1",
    "ACME_POWERSCHOOL_CLIENT_ID": "id",
    "ACME_POWERSCHOOL_CLIENT_SECRET": "fake-secret",
}


def _transport_failure() -> Exception:
    try:
        raise requests.exceptions.ConnectionError("refused")
    except requests.exceptions.ConnectionError as cause:
        try:
            raise AuthenticationError(
                "could not obtain an access token from 127.0.0.1:1: ConnectionError"
            ) from cause
        except AuthenticationError as exc:
            return exc


def failing_client(error: BaseException) -> CliState:
    """A CliState whose client raises `error` from every typed helper."""

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise error

    family = SimpleNamespace(get=fail, list=fail, count=fail)
    return CliState(make_client=lambda *a, **k: SimpleNamespace(students=family))


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ServerError("Service Unavailable", status=503), 5),
        (ServerError("Bad Gateway", status=502), 5),
        (ServerError("the server did not answer (gave up after 5 attempts)"), 5),
        (requests.exceptions.ConnectionError("refused"), 5),
        (requests.exceptions.ReadTimeout("slow"), 5),
        (_transport_failure(), 5),
        (NotFound("Not Found", status=404), 4),
        (AccessDenied("Forbidden", status=403), 4),
        (BadRequest("Validation Failed", status=400), 4),
        (RateLimited("Too Many Requests", status=429), 5),
        (AuthenticationError("invalid_client", status=401), 4),
        (AuthenticationError("no credentials for this plugin"), 1),
        (ResponseFormatError("not a student", status=200), 1),
        (PowerSchoolError("odd"), 1),
    ],
)
def test_typed_errors_exit_by_status_like_the_raw_verbs(error: Exception, code: int) -> None:
    result = Cli(secrets=["fake-secret"])(
        ["students", "get", "2"], env=FAKE_ENV, obj=failing_client(error)
    )
    assert result.exit_code == code, result.stderr
    one_error_line(result)


def test_field_errors_reach_the_error_line() -> None:
    error = BadRequest(
        "Validation Failed",
        status=400,
        errors=[
            {"resource": "q", "field": "schoolid", "code": "Invalid number"},
            {"field": "grade", "code": "Missing required argument"},
            "plain text entry",
        ],
    )
    line = one_error_line(Cli()(["students", "get", "2"], env=FAKE_ENV, obj=failing_client(error)))
    assert line == (
        "error: Validation Failed (HTTP 400): schoolid: Invalid number; "
        "grade: Missing required argument; plain text entry"
    )


def test_a_powerquery_400_names_the_field_and_code(run: Cli, sim_env: dict) -> None:
    result = run(["query", "com.acme.sdk.students.by_school", "--arg", "schoolid=abc"], env=sim_env)
    assert result.exit_code == 4
    line = one_error_line(result)
    assert "Validation Failed (HTTP 400)" in line
    assert "schoolid: Invalid number" in line


def test_a_typed_404_on_the_simulator_exits_4(run: Cli, sim_env: dict) -> None:
    result = run(["students", "get", "99999999"], env=sim_env)
    assert result.exit_code == 4 and "404" in one_error_line(result)


def test_out_in_a_missing_folder_names_the_file_asked_for(
    run: Cli, sim_env: dict, tmp_path: Path
) -> None:
    target = tmp_path / "no-such-dir" / "students.csv"
    result = run(["query", "com.acme.sdk.students.flat", "--out", str(target)], env=sim_env)
    assert result.exit_code == 1
    line = one_error_line(result)
    assert f"cannot write {target}: " in line and ".tmp" not in line
    assert ".students.csv." not in line
    typed = run(["schools", "list", "--out", str(target)], env=sim_env)
    assert typed.exit_code == 1 and str(target) in one_error_line(typed)


def test_query_progress_takes_the_total_from_the_first_page(
    run: Cli, sim: Simulator, sim_env: dict
) -> None:
    sim.stats.reset()
    result = run(
        ["query", "com.acme.sdk.students.flat", "--format", "jsonl", "--pagesize", "50"],
        env=sim_env,
        obj=CliState(progress=True),
    )
    assert result.exit_code == 0, result.stderr
    assert len(records(result, "jsonl")) == STUDENTS
    assert f"/{STUDENTS}" in result.stderr  # the bar knew the total
    routes = sim.stats.by_route
    assert not [route for route in routes if route.endswith("/count")], routes
    assert sum(n for route, n in routes.items() if "/ws/schema/query/" in route) == 3
