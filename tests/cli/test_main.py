"""The command's contract as a whole: help everywhere, one-line errors, missing options named,
the click-missing hint, and `import acme_powerschool` never loading the CLI."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest

from acme_powerschool.cli import main
from acme_powerschool.cli.app import cli
from tests.cli.conftest import Cli, one_error_line


def _all_commands(group: click.Group, path: list[str]) -> list[list[str]]:
    found = []
    ctx = click.Context(group)
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        found.append([*path, name])
        if isinstance(command, click.Group):
            found.extend(_all_commands(command, [*path, name]))
    return found


def test_every_command_has_help_with_an_example(run: Cli) -> None:
    commands = _all_commands(cli, [])
    assert len(commands) > 20
    for words in [[], *commands]:
        result = run([*words, "--help"])
        assert result.exit_code == 0, words
        assert "Example" in result.stdout, words


def test_unknown_command(run: Cli) -> None:
    result = run(["frobnicate"])
    assert result.exit_code == 2
    assert "No such command 'frobnicate'" in one_error_line(result)


def test_missing_server_names_the_option_and_the_variable(run: Cli) -> None:
    for args in (["get", "ws/v1/district"], ["students", "get", "2"], ["query", "x"]):
        line = one_error_line(run(args))
        assert "--server" in line and "ACME_POWERSCHOOL_SERVER" in line


def test_missing_credentials_names_every_way_to_give_them(run: Cli) -> None:
    line = one_error_line(run(["students", "get", "2", "--server", "ps.example.org"]))
    for name in (
        "--plugin",
        "--credential-file",
        "ACME_POWERSCHOOL_CLIENT_ID",
        "ACME_POWERSCHOOL_CLIENT_SECRET",
    ):
        assert name in line


def test_half_client_credentials(run: Cli) -> None:
    env = {"ACME_POWERSCHOOL_SERVER": "ps.example.org", "ACME_POWERSCHOOL_CLIENT_ID": "id"}
    assert "ACME_POWERSCHOOL_CLIENT_SECRET" in one_error_line(run(["schools", "count"], env=env))


def test_bad_server_address_is_one_line(run: Cli) -> None:
    env = {"ACME_POWERSCHOOL_CLIENT_ID": "a", "ACME_POWERSCHOOL_CLIENT_SECRET": "b"}
    line = one_error_line(run(["schools", "count", "--server", "http://ps.example.org"], env=env))
    assert "http:// is only allowed for loopback" in line


def test_unreachable_server_is_one_line(run: Cli) -> None:
    env = {"ACME_POWERSCHOOL_SERVER": "http://127.0.0.1:9", "ACME_POWERSCHOOL_CLIENT_ID": "a",
           "ACME_POWERSCHOOL_CLIENT_SECRET": "b"}  # fmt: skip
    line = one_error_line(run(["get", "ws/v1/district"], env=env))
    assert line.startswith("error: ")


def test_missing_credential_file_is_one_line(run: Cli, tmp_path: object) -> None:
    line = one_error_line(
        run(
            [
                "schools",
                "count",
                "--server",
                "ps.example.org",
                "--credential-file",
                "/nonexistent/c.json",
            ]
        )
    )
    assert "credential file not found" in line


def test_version(run: Cli) -> None:
    from acme_powerschool import __version__

    assert __version__ in run(["--version"]).stdout


def test_main_without_click_prints_the_install_hint(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setitem(sys.modules, "click", None)
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "pip install 'acme-powerschool[cli]'" in err


def test_main_runs_the_group(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--version"])
    assert exit_info.value.code == 0
    assert "acme-powerschool" in capsys.readouterr().out


def test_importing_the_package_does_not_load_the_cli() -> None:
    code = "import sys, acme_powerschool; print(any(m.startswith('acme_powerschool.cli') or m in ('click', 'rich') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
