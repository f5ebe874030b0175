"""Every example a `--help` page shows runs against the simulator and succeeds (docs that run),
and `simulate` takes the same options as `python -m acme_powerschool.testing`."""

from __future__ import annotations

import contextlib
import io
import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import click
import pytest

from acme_powerschool.cli.app import cli
from acme_powerschool.testing import Simulator
from tests.cli.conftest import Cli

SERVER = "district.powerschool.com"
NOT_HERE = {
    "sql": "needs an Oracle database",
    "simulate": "serves until stopped (tests/cli/test_subprocess.py runs it)",
    "sync": "runs dlt pipelines (shared state under ~/.dlt, a DuckDB file); tests/sync runs it",
}
FIRST, LAST = ("login",), ("logout",)


def _commands(group: click.Group, ctx: click.Context, path: tuple[str, ...]) -> Iterator[Any]:
    yield path, group
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        assert command is not None
        if isinstance(command, click.Group):
            yield from _commands(command, ctx, (*path, name))
        else:
            yield (*path, name), command


def examples() -> list[tuple[str, list[str]]]:
    """(where, argv) of every `acme-powerschool ...` line under an Example(s): heading."""
    found: list[tuple[str, list[str]]] = []
    with click.Context(cli) as ctx:
        for path, command in _commands(cli, ctx, ()):
            if path[:1] and path[0] in NOT_HERE:
                continue
            text = (command.help or "").split("Example", 1)
            lines = text[1].splitlines()[1:] if len(text) > 1 else []
            for line in lines:
                words = shlex.split(line.strip(), comments=True)
                if words[:1] == ["acme-powerschool"]:
                    found.append((" ".join(path) or "acme-powerschool", words[1:]))
    order = {name: i for i, name in enumerate((*FIRST, "", *LAST))}
    found.sort(key=lambda item: order.get(item[0], order[""]))
    return found


@pytest.fixture
def workdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """What an example expects to find in the current folder."""
    monkeypatch.chdir(tmp_path)
    (tmp_path / "row.json").write_text(
        json.dumps({"tables": {"u_studentsuserfields": {"favorite_color": "teal"}}})
    )
    body = {"message": "Validation Failed", "errors": [
        {"resource": "attendance", "field": "attendance.studentid", "code": "ViewOnly"}
    ]}  # fmt: skip
    (tmp_path / "response.json").write_text(json.dumps(body))
    return tmp_path


def test_every_help_example_runs_on_the_simulator(workdir: Path, file_keyring: Any) -> None:
    found = examples()
    assert len(found) >= 30
    with Simulator(students=40, seed=3) as sim:
        env = {
            "ACME_POWERSCHOOL_CLIENT_ID": sim.client_id,
            "ACME_POWERSCHOOL_CLIENT_SECRET": sim.client_secret,
            "ACME_POWERSCHOOL_SERVER": sim.base_url,
        }
        run = Cli(secrets=[sim.client_secret])
        failures = []
        for where, argv in found:
            argv = [word.replace(SERVER, sim.base_url) for word in argv]
            result = run(argv, env=env, input="")
            if result.exit_code != 0:
                failures.append(
                    f"{where}: {shlex.join(argv)} -> {result.exit_code} {result.stderr}"
                )
        assert failures == [], "\n".join(failures)


def _options(help_text: str) -> set[str]:
    return set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", help_text)) - {"--help"}


def test_simulate_takes_the_options_of_the_simulators_own_command() -> None:
    from acme_powerschool.testing.__main__ import main as simulator_main

    printed = io.StringIO()
    with contextlib.redirect_stdout(printed), pytest.raises(SystemExit):
        simulator_main(["--help"])
    with click.Context(cli) as ctx:
        command = cli.get_command(ctx, "simulate")
        assert command is not None
        ours = {opt for param in command.params for opt in param.opts if opt.startswith("--")}
    assert ours - {"--help"} == _options(printed.getvalue())
