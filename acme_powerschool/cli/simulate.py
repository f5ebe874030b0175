"""`simulate`: run the PowerSchool simulator on 127.0.0.1 until interrupted, and print how to
reach it. The one place the library side loads `acme_powerschool.testing` (DESIGN.md, walls),
and only when this command runs.
"""

from __future__ import annotations

import signal
import sys
import threading
from typing import Any

import click

from acme_powerschool.cli.common import (
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_SERVER,
    echo_err,
)


def _load_simulator() -> Any:
    # Inside the command only: DESIGN.md allows the CLI's `simulate` exactly this one use.
    from acme_powerschool.testing import Simulator

    return Simulator


@click.command(
    help=(
        "Run a simulated PowerSchool on 127.0.0.1 until Ctrl-C.\n\n"
        "Prints three `export` lines (server, client id, client secret of the simulator's "
        "made-up plugin) on stdout; paste them into another shell, or use them in a test "
        "script. The simulated credentials are the only secrets this tool ever prints.\n\n"
        "\b\nExample:\n"
        "  acme-powerschool simulate --port 8765 --students 2000\n"
        "  # in another shell, after pasting the three export lines:\n"
        "  acme-powerschool students list --school 100 --format table"
    ),
    short_help="Run the local PowerSchool simulator.",
)
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="Port on 127.0.0.1 (0: any free port).")  # fmt: skip
@click.option("--students", default=500, show_default=True, type=click.IntRange(min=0))
@click.option("--schools", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the district.")
def simulate(port: int, students: int, schools: int, seed: int) -> None:
    simulator_class = _load_simulator()
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with simulator_class(
            students=students, schools=schools, seed=seed, host="127.0.0.1", port=port
        ) as sim:
            click.echo(f"export {ENV_SERVER}={sim.base_url}")
            click.echo(f"export {ENV_CLIENT_ID}={sim.client_id}")
            click.echo(f"export {ENV_CLIENT_SECRET}={sim.client_secret}")
            sys.stdout.flush()
            echo_err(
                f"simulator running at {sim.base_url} ({students} students, {schools} schools, "
                f"seed {seed}); Ctrl-C to stop"
            )
            stop.wait()
            echo_err(f"stopping; {sim.stats.requests} requests served")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
