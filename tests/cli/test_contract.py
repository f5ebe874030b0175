"""Issue 13's CLI contract: one exit-status table (documented, and the same for every command),
global options from the command line, the environment or a profile, and output rules (csv
header for nothing, umask, one-line warnings, 80 columns, --debug without secrets)."""

from __future__ import annotations

import base64
import io
import os
import re
import stat
import warnings
from pathlib import Path

import pytest
from click.testing import CliRunner

from acme_powerschool.cli.app import _run_safely, cli
from acme_powerschool.cli.common import EXIT_CODES, CliState
from acme_powerschool.cli.output import Progress
from acme_powerschool.testing import Simulator
from tests.cli.conftest import STUDENTS, Cli, one_error_line, quick_retries, records

ROOT = Path(__file__).resolve().parents[2]


# -- the exit-status table ----------------------------------------------------------------


def test_the_exit_table_in_the_docs_is_the_one_the_code_uses() -> None:
    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    section = text.split("## Exit status", 1)[1].split("\n## ", 1)[0]
    documented = {int(code) for code in re.findall(r"^\| (\d+) \|", section, re.MULTILINE)}
    assert documented == set(EXIT_CODES)


TRY_LATER_FAULTS = [
    # (command, fault pattern, fault kind): each must exit 5, "try again later".
    (["students", "get", "2"], "GET /ws/v1/student/*", "503"),
    (["students", "list", "--school", "100"], "/ws/v1/school", "502"),
    (["get", "ws/v1/student/2"], "/ws/v1/student", "503"),
    (["get", "ws/v1/student/2"], "/ws/v1/student", "truncated"),
    (["get", "ws/v1/student/2"], "/ws/v1/student", "429"),
    (["get", "ws/v1/district/student", "--paginate"], "/ws/v1/district/student", "500"),
    (["query", "com.acme.sdk.students.flat"], "/ws/schema/query", "reset"),
    (["table", "list", "u_studentsuserfields"], "/ws/schema/table", "503"),
    (["table", "get", "u_studentsuserfields", "1"], "/ws/schema/table", "500"),
    (["students", "get", "2"], "/oauth", "500"),
    (["login", "--credential-file", "c.json"], "/oauth", "500"),
]


@pytest.mark.parametrize(("args", "pattern", "kind"), TRY_LATER_FAULTS)
def test_try_again_later_exits_5_for_every_command(
    run: Cli,
    sim_env: dict,
    sim: Simulator,
    args: list[str],
    pattern: str,
    kind: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    sim.inject(pattern, kind, times=20)
    try:
        result = run(args, env=sim_env, obj=quick_retries())
    finally:
        sim.clear_faults()
    assert result.exit_code == 5, result.stderr


def test_a_maintenance_page_on_the_token_endpoint_exits_5(
    run: Cli, sim_env: dict, sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    sim.inject("/oauth", "503", times=40)
    try:
        typed = run(["students", "get", "2"], env=sim_env, obj=quick_retries())
        login = run(["login", "--credential-file", "c.json"], env=sim_env, obj=quick_retries())
    finally:
        sim.clear_faults()
    assert typed.exit_code == login.exit_code == 5, typed.stderr + login.stderr
    assert "gave up after 5 attempts (gave up" not in typed.stderr


REFUSED = [
    ["students", "get", "999999"],
    ["get", "ws/v1/student/999999"],
    ["query", "com.acme.sdk.no.such.query"],
    ["table", "get", "u_studentsuserfields", "999999"],
    ["table", "delete", "u_studentsuserfields", "999999"],
    ["get", "ws/v1/district/nothing", "--paginate"],
]


@pytest.mark.parametrize("args", REFUSED)
def test_a_refused_request_exits_4_for_every_command(
    run: Cli, sim_env: dict, args: list[str]
) -> None:
    assert run(args, env=sim_env).exit_code == 4


def test_a_bad_secret_on_login_exits_like_typed_commands(
    run: Cli, sim_env: dict, tmp_path: Path
) -> None:
    env = {**sim_env, "ACME_POWERSCHOOL_CLIENT_SECRET": "wrong-secret"}
    typed = run(["students", "get", "2"], env=env)
    login = run(["login", "--credential-file", str(tmp_path / "c.json")], env=env)
    assert typed.exit_code == login.exit_code == 4
    assert "nothing was stored" in one_error_line(login)
    assert "api()" not in login.stderr and "ACME_POWERSCHOOL_CLIENT_SECRET" in login.stderr
    assert not (tmp_path / "c.json").exists()


@pytest.mark.parametrize(
    "args",
    [
        ["query", "com.acme.sdk.students.flat", "--pagesize", "0"],
        ["query", "com.acme.sdk.students.flat", "--pagesize", "-5"],
        ["query", "com.acme.sdk.students.flat", "--prefetch", "100"],
        ["students", "list", "--pagesize", "0"],
        ["students", "list", "--pagesize", "-5"],
        ["students", "list", "--prefetch", "100"],
        ["table", "list", "u_studentsuserfields", "--pagesize", "0"],
        ["table", "list", "u_studentsuserfields", "--prefetch", "100"],
        ["get", "ws/v1/district/student", "--paginate", "--pagesize", "-5"],
        ["post", "ws/schema/query/com.acme.sdk.students.flat", "--data", "{nope"],
        ["table", "insert", "u_studentsuserfields", "--data", "[1, 2]"],
        ["table", "update", "u_studentsuserfields", "1", "--data", "{nope"],
        ["table", "update", "u_studentsuserfields", "1"],
        ["--timeout", "soon", "students", "get", "2"],
        ["--timeout", "0", "students", "get", "2"],
        ["--ca-bundle", "/no/such/ca.pem", "students", "get", "2"],
        ["--profile", "nowhere", "students", "get", "2"],
    ],
)
def test_bad_numbers_and_data_are_usage_errors(
    run: Cli, sim_env: dict, sim: Simulator, args: list[str]
) -> None:
    before = sim.stats.requests
    result = run(args, env=sim_env)
    assert result.exit_code == 2, result.stderr
    one_error_line(result)
    assert sim.stats.requests == before


def test_an_untrusted_certificate_names_the_cli_option(run: Cli, sim: Simulator) -> None:
    env = {
        "ACME_POWERSCHOOL_SERVER": sim.base_url.replace("http://", "https://"),
        "ACME_POWERSCHOOL_CLIENT_ID": sim.client_id,
        "ACME_POWERSCHOOL_CLIENT_SECRET": sim.client_secret,
    }
    result = run(["students", "get", "2"], env=env)
    line = one_error_line(result)
    assert result.exit_code == 1  # no retry heals it: not "try again later"
    assert "--ca-bundle" in line and "ACME_POWERSCHOOL_CA_BUNDLE" in line
    assert "verify=" not in line


# -- global options, variables and profiles -------------------------------------------------


def _config(tmp_path: Path, text: str) -> dict[str, str]:
    path = tmp_path / "config.ini"
    path.write_text(text, encoding="utf-8")
    return {"ACME_POWERSCHOOL_CONFIG": str(path)}


def test_global_options_go_before_the_command(run: Cli, sim: Simulator) -> None:
    env = {
        "ACME_POWERSCHOOL_CLIENT_ID": sim.client_id,
        "ACME_POWERSCHOOL_CLIENT_SECRET": sim.client_secret,
    }
    result = run(["--server", sim.base_url, "--timeout", "30", "students", "get", "2"], env=env)
    assert result.exit_code == 0, result.stderr
    assert records(result, "json")[0]["id"] == 2


def test_a_profile_gives_the_connection(run: Cli, sim: Simulator, tmp_path: Path) -> None:
    credentials = tmp_path / "creds.json"
    credentials.write_text(
        f'{{"client_id": "{sim.client_id}", "client_secret": "{sim.client_secret}"}}'
    )
    os.chmod(credentials, 0o600)
    env = _config(
        tmp_path,
        "[default]\nserver = http://127.0.0.1:1\n\n"
        f"[profile sim]\nserver = {sim.base_url}\ncredential_file = {credentials}\ntimeout = 20\n",
    )
    assert run(["--profile", "sim", "students", "get", "2"], env=env).exit_code == 0
    chosen = {**env, "ACME_POWERSCHOOL_PROFILE": "sim"}
    assert run(["students", "count"], env=chosen).stdout.strip() == str(STUDENTS)
    # [default] applies without a profile; the variable and the option beat it, in that order.
    assert run(["students", "get", "2"], env=env).exit_code == 1  # no credentials in [default]
    overridden = {**env, "ACME_POWERSCHOOL_SERVER": "http://127.0.0.1:1"}
    result = run(["--profile", "sim", "students", "get", "2"], env=overridden, obj=quick_retries())
    assert result.exit_code == 5  # the variable's server (nothing listens) beat the profile's
    result = run(["--profile", "sim", "--server", sim.base_url, "students", "get", "2"], env=env)
    assert result.exit_code == 0


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("[profile a]\nclient_secret = x\n", "secrets never go in the config file"),
        ("[profile a]\nsever = x\n", "unknown key(s) sever"),
        ("[district]\nserver = x\n", "[default] or [profile NAME]"),
        ("not ini at all\n", "not a valid INI file"),
    ],
)
def test_a_bad_config_file_is_a_usage_error(run: Cli, tmp_path: Path, text: str, says: str) -> None:
    result = run(["--profile", "a", "students", "get", "2"], env=_config(tmp_path, text))
    assert result.exit_code == 2
    assert says in one_error_line(result)


def test_the_store_said_most_directly_wins(run: Cli, sim: Simulator, tmp_path: Path) -> None:
    env = {
        **_config(tmp_path, f"[default]\nserver = {sim.base_url}\nplugin = Nobody\n"),
        "ACME_POWERSCHOOL_CREDENTIAL_FILE": str(tmp_path / "missing.json"),
    }
    # The variable's credential file beats the profile's plugin: the error names the file.
    assert "missing.json" in one_error_line(run(["students", "get", "2"], env=env))
    both = run(["--plugin", "X", "--credential-file", "y.json", "students", "get", "2"], env=env)
    assert both.exit_code == 2
    assert "--plugin and --credential-file" in one_error_line(both)


def test_debug_logs_requests_and_never_a_secret(sim_env: dict, sim: Simulator) -> None:
    seen: list[object] = []

    def make_client(*args: object, **kwargs: object) -> object:
        from acme_powerschool.client import api

        client = api(*args, **kwargs)  # type: ignore[arg-type]
        seen.append(client)
        return client

    basic = base64.b64encode(f"{sim.client_id}:{sim.client_secret}".encode()).decode()
    result = Cli(secrets=[sim.client_secret, basic])(
        ["--debug", "students", "get", "2"], env=sim_env, obj=CliState(make_client=make_client)
    )
    assert result.exit_code == 0, result.stderr
    assert "debug: acme_powerschool" in result.stderr
    token = seen[0].token_state.access_token  # type: ignore[attr-defined]
    assert token not in result.stdout + result.stderr
    assert all(len(line) < 2100 for line in result.stderr.splitlines())


# -- output -------------------------------------------------------------------------------


def test_an_empty_csv_still_has_its_header(run: Cli, sim_env: dict) -> None:
    result = run(
        ["students", "list", "--q", "name.last_name==Zzzzzz*", "--format", "csv"], env=sim_env
    )
    assert result.exit_code == 0, result.stderr
    header = result.stdout.splitlines()
    assert len(header) == 1 and header[0].startswith("id,") and "name.first_name" in header[0]
    table = run(
        ["table", "list", "u_studentsuserfields", "--q", "favorite_color==nope",
         "--projection", "studentsdcid,favorite_color", "--format", "csv"],
        env=sim_env,
    )  # fmt: skip
    assert table.stdout == "id,studentsdcid,favorite_color\n"


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_out_files_honour_the_umask(
    run: Cli, sim_env: dict, tmp_path: Path, umask: int, mode: int
) -> None:
    previous = os.umask(umask)
    try:
        result = run(
            ["query", "com.acme.sdk.students.flat", "--out", str(tmp_path / "s.csv")], env=sim_env
        )
    finally:
        os.umask(previous)
    assert result.exit_code == 0, result.stderr
    assert stat.S_IMODE((tmp_path / "s.csv").stat().st_mode) == mode


def test_a_replaced_out_file_keeps_its_mode(run: Cli, sim_env: dict, tmp_path: Path) -> None:
    target = tmp_path / "s.csv"
    target.write_text("old")
    os.chmod(target, 0o640)
    assert run(["students", "list", "--format", "csv", "--out", str(target)], env=sim_env)
    assert stat.S_IMODE(target.stat().st_mode) == 0o640
    assert target.read_text().startswith("id,")


def test_a_warning_is_one_line_without_a_source_line(capfd: pytest.CaptureFixture[str]) -> None:
    def warn() -> int:
        warnings.warn("the plugin lacks\naccess to \x1b[2Jstudents.dob", UserWarning, stacklevel=1)
        return 0

    assert _run_safely(warn) == 0
    err = capfd.readouterr().err
    assert err == "warning: the plugin lacks access to \\x1b[2Jstudents.dob\n"


@pytest.mark.parametrize("label", ["q", "com.pearson.core.attendance.daily_attendance_template"])
def test_the_progress_bar_fits_80_columns(label: str) -> None:
    from rich.console import Console

    sink = io.StringIO()
    console = Console(file=sink, width=80, force_terminal=True, color_system=None)
    bar = Progress(label, None, enabled=True, console=console)
    bar.set_total(123_456_789)
    bar.advance(98_765_432)
    console.print(bar.renderable())
    lines = [line for line in sink.getvalue().splitlines() if line.strip()]
    assert len(lines) == 1, lines  # one row, never wrapped
    assert len(lines[0]) <= 80
    assert "98765432/123456789" in lines[0]


def test_shell_completion_is_clicks(run: Cli) -> None:
    env = {
        "_ACME_POWERSCHOOL_COMPLETE": "bash_complete",
        "COMP_WORDS": "acme-powerschool stu",
        "COMP_CWORD": "1",
    }
    result = CliRunner().invoke(cli, [], env=env, prog_name="acme-powerschool")
    assert "plain,students" in result.stdout
    script = CliRunner().invoke(cli, [], env={"_ACME_POWERSCHOOL_COMPLETE": "bash_source"})
    assert "_ACME_POWERSCHOOL_COMPLETE=bash_complete" in script.stdout


def test_debug_lines_redact_every_form_of_every_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    import logging

    from acme_powerschool.cli.logs import RedactingFormatter

    monkeypatch.setenv("ACME_POWERSCHOOL_CLIENT_ID", "client-id-1")
    monkeypatch.setenv("ACME_POWERSCHOOL_CLIENT_SECRET", "s3cret-value")
    basic = base64.b64encode(b"client-id-1:s3cret-value").decode()
    formatter = RedactingFormatter(lambda: ["issued-token-123"])
    record = logging.LogRecord(
        "acme_powerschool", logging.DEBUG, __file__, 1,
        "echo: %s %s %s Bearer other-token-9 access_token=zzz999\n\x1b]52;c;eA==\x07",
        ("s3cret-value", basic, "issued-token-123"), None,
    )  # fmt: skip
    line = formatter.format(record)
    for secret in ("s3cret-value", basic, "issued-token-123", "other-token-9", "zzz999"):
        assert secret not in line
    assert "\n" not in line and "\x1b" not in line and "\x07" not in line
    assert line.startswith("debug: acme_powerschool: echo: [redacted]")


def test_a_library_warning_is_one_cli_line(run: Cli, sim: Simulator, tmp_path: Path) -> None:
    credentials = tmp_path / "shared.json"
    credentials.write_text(
        f'{{"client_id": "{sim.client_id}", "client_secret": "{sim.client_secret}"}}'
    )
    os.chmod(credentials, 0o644)
    args = ["--server", sim.base_url, "--credential-file", str(credentials), "students", "get", "2"]
    result = run(args)
    assert result.exit_code == 0, result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: credential file"), lines
    assert "chmod 600" in lines[0] and ".py:" not in lines[0]
