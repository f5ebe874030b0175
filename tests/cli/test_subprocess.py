"""The real command in real processes: `python -m acme_powerschool simulate` serves, other
processes query it on 127.0.0.1; a real file keyring for login. Loopback only, no sleeps."""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.cli.conftest import CLEAN_ENV, check_contract

STUDENTS = 30


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    env.update(extra)
    return env


def acme(args: list[str], env: dict[str, str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "acme_powerschool", *args],
        input=stdin, capture_output=True, text=True, env=env, timeout=60, check=False,
    )  # fmt: skip


@pytest.fixture(scope="module")
def served() -> Iterator[dict[str, str]]:
    """`acme-powerschool simulate` in its own process; its three export lines as a dict."""
    process = subprocess.Popen(
        [sys.executable, "-m", "acme_powerschool", "simulate", "--port", "0", "--students", str(STUDENTS)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_env(),
    )  # fmt: skip
    assert process.stdout is not None
    exports = {}
    for _ in range(3):
        line = process.stdout.readline()
        assert line.startswith("export "), line
        key, _, value = line[len("export ") :].strip().partition("=")
        exports[key] = value
    try:
        yield exports
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=20)
        assert process.returncode == 0, err
        assert "stopping" in err and "Traceback" not in err


def test_simulate_prints_a_loopback_server(served: dict[str, str]) -> None:
    assert served["ACME_POWERSCHOOL_SERVER"].startswith("http://127.0.0.1:")
    assert served["ACME_POWERSCHOOL_CLIENT_ID"] and served["ACME_POWERSCHOOL_CLIENT_SECRET"]


def test_query_csv_in_a_subprocess(served: dict[str, str]) -> None:
    done = acme(
        ["query", "com.acme.sdk.students.flat", "--format", "csv", "--pagesize", "7"],
        _env(**served),
    )
    check_contract(
        done.returncode, done.stdout, done.stderr, [served["ACME_POWERSCHOOL_CLIENT_SECRET"]]
    )
    assert done.returncode == 0, done.stderr
    rows = list(csv.DictReader(io.StringIO(done.stdout)))
    assert len(rows) == STUDENTS
    assert done.stderr.strip() == f"{STUDENTS} records"  # stderr is a pipe: no progress bar


def test_typed_get_and_raw_404_in_a_subprocess(served: dict[str, str]) -> None:
    env = _env(**served)
    done = acme(["students", "get", "2", "--format", "jsonl"], env)
    assert done.returncode == 0 and json.loads(done.stdout)["id"] == 2
    missing = acme(["get", "ws/v1/student/99999999"], env)
    assert missing.returncode == 4 and missing.stderr.startswith("404 ")
    check_contract(
        missing.returncode,
        missing.stdout,
        missing.stderr,
        [served["ACME_POWERSCHOOL_CLIENT_SECRET"]],
    )


def test_errors_in_a_subprocess_are_one_line(served: dict[str, str]) -> None:
    missing_server = acme(["students", "get", "2"], _env())
    assert missing_server.returncode == 1
    assert missing_server.stderr.count("\n") == 1 and missing_server.stderr.startswith("error: ")
    forbidden = acme(
        ["query", "com.pearson.core.attendance.daily_attendance_template", "--arg", "studentid=2"],
        _env(**served),
    )
    assert forbidden.returncode == 4 and forbidden.stderr.startswith("error: access denied")
    assert forbidden.stderr.count("\n") == 1
    unknown = acme(["nope"], _env())
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1


def test_login_with_a_real_file_keyring_in_subprocesses(
    served: dict[str, str], tmp_path: Path
) -> None:
    env = _env(
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        XDG_DATA_HOME=str(tmp_path),
        ACME_POWERSCHOOL_SERVER=served["ACME_POWERSCHOOL_SERVER"],
        ACME_POWERSCHOOL_PLUGIN="Sub Plugin",
    )
    secret = served["ACME_POWERSCHOOL_CLIENT_SECRET"]
    login = acme(["login"], env, stdin=f"{served['ACME_POWERSCHOOL_CLIENT_ID']}\n{secret}\n")
    check_contract(login.returncode, login.stdout, login.stderr, [secret])
    assert login.returncode == 0, login.stderr
    stored = list(tmp_path.rglob("keyring_pass.cfg"))
    assert stored, "the login was stored in the file keyring under XDG_DATA_HOME"
    count = acme(["schools", "count"], env)
    assert count.returncode == 0 and count.stdout.strip() == "3"
    token = acme(["token"], env)
    assert token.returncode == 0 and "valid token" in token.stderr and token.stdout == ""
    assert acme(["logout"], env).returncode == 0
    after = acme(["schools", "count"], env)
    assert after.returncode == 1 and after.stderr.startswith("error: ") and "login" in after.stderr


def _checked(done: subprocess.CompletedProcess[str], served: dict[str, str]) -> None:
    check_contract(
        done.returncode, done.stdout, done.stderr, [served["ACME_POWERSCHOOL_CLIENT_SECRET"]]
    )


def test_access_requests_in_a_subprocess(served: dict[str, str], tmp_path: Path) -> None:
    env = _env(**served)
    block = acme(
        [
            "access-requests",
            "com.pearson.core.attendance.daily_attendance_template",
            "--arg",
            "studentid=2",
        ],
        env,
    )
    _checked(block, served)
    assert block.returncode == 0, block.stderr
    assert block.stdout.startswith("<access_request>")
    assert '<field table="attendance" field="studentid" access="ViewOnly" />' in block.stdout
    saved = tmp_path / "denied.json"
    saved.write_text(
        json.dumps({"message": "Access denied", "errors": [{"field": "students.last_name"}]})
    )
    offline = acme(["access-requests", "--from-file", str(saved)], _env())
    assert offline.returncode == 0 and 'field="last_name"' in offline.stdout, offline.stderr
    unknown = acme(["access-requests", "com.acme.sdk.no.such"], env)
    _checked(unknown, served)
    assert unknown.returncode == 4 and unknown.stderr.startswith("error: ")
    assert unknown.stderr.count("\n") == 1


def test_token_and_logout_with_a_credential_file_in_subprocesses(
    served: dict[str, str], tmp_path: Path
) -> None:
    creds = tmp_path / "creds.json"
    env = _env(
        ACME_POWERSCHOOL_SERVER=served["ACME_POWERSCHOOL_SERVER"],
        ACME_POWERSCHOOL_CREDENTIAL_FILE=str(creds),
    )
    secret = served["ACME_POWERSCHOOL_CLIENT_SECRET"]
    none = acme(["token"], env)
    _checked(none, served)
    # No file yet: exit 1, one line naming the file.
    assert none.returncode == 1 and none.stdout == "" and str(creds) in none.stderr
    assert none.stderr.count("\n") == 1
    login = acme(["login"], env, stdin=f"{served['ACME_POWERSCHOOL_CLIENT_ID']}\n{secret}\n")
    _checked(login, served)
    assert login.returncode == 0, login.stderr
    stored = json.loads(creds.read_text())
    token = acme(["token"], env)
    _checked(token, served)
    assert token.returncode == 0 and "valid token" in token.stderr and token.stdout == ""
    assert stored["access_token"] not in token.stdout + token.stderr
    shown = acme(["token", "--show"], env)
    assert shown.returncode == 0 and shown.stdout.strip() == stored["access_token"]
    out = acme(["logout"], env)
    _checked(out, served)
    assert out.returncode == 0 and "logged out" in out.stderr and not creds.exists()
    again = acme(["logout"], env)
    assert again.returncode == 0 and "nothing was stored" in again.stderr
    gone = acme(["token"], env)
    assert gone.returncode == 1 and gone.stdout == "" and str(creds) in gone.stderr


def test_post_put_delete_in_subprocesses(served: dict[str, str], tmp_path: Path) -> None:
    env = _env(**served)
    posted = acme(
        ["post", "ws/schema/query/com.acme.sdk.students.flat", "--data", "{}",
         "--param", "pagesize=3"],
        env,
    )  # fmt: skip
    _checked(posted, served)
    assert posted.returncode == 0, posted.stderr
    assert len(json.loads(posted.stdout)["record"]) == 3
    assert posted.stderr.startswith("200 ") and "POST /ws/schema/query/" in posted.stderr

    row = tmp_path / "row.json"
    row.write_text(json.dumps({"tables": {"u_studentsuserfields": {"favorite_color": "teal"}}}))
    put = acme(["put", "ws/schema/table/u_studentsuserfields/1", "--data", f"@{row}"], env)
    _checked(put, served)
    assert put.returncode == 0, put.stderr
    assert json.loads(put.stdout)["result"][0]["status"] == "SUCCESS"
    read = acme(["get", "ws/schema/table/u_studentsuserfields/1", "--param", "projection=*"], env)
    assert read.returncode == 0 and "teal" in read.stdout, read.stderr

    deleted = acme(["delete", "ws/schema/table/u_studentsuserfields/1"], env)
    _checked(deleted, served)
    assert deleted.returncode == 0 and deleted.stderr.startswith("204 "), deleted.stderr
    again = acme(["delete", "ws/schema/table/u_studentsuserfields/1"], env)
    _checked(again, served)
    assert again.returncode == 4 and again.stderr.startswith("404 ")

    bad = acme(["put", "ws/schema/table/u_studentsuserfields/2", "--data", "{nope"], env)
    assert bad.returncode == 2, bad.stderr
    assert bad.stderr.startswith("error: Invalid value for --data: not valid JSON")


def test_typed_and_query_errors_exit_like_raw_ones_in_subprocesses(
    served: dict[str, str],
) -> None:
    env = _env(**served)
    missing = acme(["students", "get", "99999999"], env)
    _checked(missing, served)
    assert missing.returncode == 4 and missing.stderr.startswith("error: ")
    invalid = acme(["query", "com.acme.sdk.students.by_school", "--arg", "schoolid=abc"], env)
    _checked(invalid, served)
    assert invalid.returncode == 4
    assert "schoolid: Invalid number" in invalid.stderr and invalid.stderr.count("\n") == 1
    nowhere = acme(
        ["students", "get", "2"],
        _env(**{**served, "ACME_POWERSCHOOL_SERVER": "http://127.0.0.1:9"}),
    )
    assert nowhere.returncode == 5 and nowhere.stderr.startswith("error: "), nowhere.stderr
