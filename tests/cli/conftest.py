"""Fixtures for the CLI tests: one simulator on 127.0.0.1 for the module, a CliRunner wrapper
that checks the output contract (no traceback, no secret) on every invocation."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import pytest
from click.testing import CliRunner, Result

from acme_powerschool.cli.app import cli
from acme_powerschool.cli.common import CliState
from acme_powerschool.testing import Simulator

STUDENTS = 120

# Every variable the command reads, cleared so the developer's own settings never leak in.
CLEAN_ENV: dict[str, str | None] = {
    "ACME_POWERSCHOOL_SERVER": None,
    "ACME_POWERSCHOOL_PLUGIN": None,
    "ACME_POWERSCHOOL_CREDENTIAL_FILE": None,
    "ACME_POWERSCHOOL_CLIENT_ID": None,
    "ACME_POWERSCHOOL_CLIENT_SECRET": None,
    "ACME_POWERSCHOOL_ORACLE_USER": None,
}


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(students=STUDENTS, seed=1) as simulator:
        yield simulator


@pytest.fixture
def sim_env(sim: Simulator) -> dict[str, str | None]:
    """Environment that points the command at the simulator with client credentials."""
    return {
        **CLEAN_ENV,
        "ACME_POWERSCHOOL_SERVER": sim.base_url,
        "ACME_POWERSCHOOL_CLIENT_ID": sim.client_id,
        "ACME_POWERSCHOOL_CLIENT_SECRET": sim.client_secret,
    }


class Cli:
    """Runs the command in-process and checks what every run must honour."""

    def __init__(self, secrets: Sequence[str] = ()) -> None:
        self.secrets = list(secrets)

    def __call__(
        self,
        args: Sequence[str],
        *,
        env: dict[str, str | None] | None = None,
        input: str | None = None,
        obj: CliState | None = None,
    ) -> Result:
        runner = CliRunner()
        result = runner.invoke(
            cli, list(args), env={**CLEAN_ENV, **(env or {})}, input=input, obj=obj
        )
        check_contract(result.exit_code, result.stdout, result.stderr, self.secrets)
        # An exception that escaped the command (not SystemExit) would be a traceback for users.
        assert result.exception is None or isinstance(result.exception, SystemExit), result.exc_info
        return result


def check_contract(code: int, stdout: str, stderr: str, secrets: Sequence[str]) -> None:
    """No traceback, no secret, and a failure says so in exactly one `error:` line (or, for
    the raw verbs, in their one status line)."""
    both = stdout + stderr
    assert "Traceback" not in both, both
    for secret in secrets:
        assert secret not in both, "a secret reached the output"
    if code != 0 and "error:" in stderr:
        errors = [line for line in stderr.splitlines() if line.startswith("error:")]
        assert len(errors) == 1, stderr
        assert stderr.strip().splitlines()[-1].startswith("error:"), stderr


@pytest.fixture
def run(sim: Simulator) -> Cli:
    return Cli(secrets=[sim.client_secret])


def one_error_line(result: Result) -> str:
    """The single stderr line of a failed run."""
    assert result.exit_code != 0, result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    return lines[0]


def records(result: Result, fmt: str) -> list[dict[str, Any]]:
    """Parse the command's stdout back in the format it claims."""
    import csv
    import io
    import json

    if fmt == "json":
        value = json.loads(result.stdout)
        return value if isinstance(value, list) else [value]
    if fmt == "jsonl":
        return [json.loads(line) for line in result.stdout.splitlines() if line.strip()]
    if fmt == "csv":
        return list(csv.DictReader(io.StringIO(result.stdout)))
    raise ValueError(fmt)


def quick_retries() -> CliState:
    """A CliState whose clients retry as usual but without waiting between tries (the exit
    status after the retries gave up is what these tests look at, not the backoff)."""
    from acme_powerschool.client import api
    from acme_powerschool.core.retry import RetryPolicy

    policy = RetryPolicy(backoff_base=0.0, backoff_max=0.0, respect_retry_after=False)
    return CliState(make_client=lambda *args, **kwargs: api(*args, retry=policy, **kwargs))
