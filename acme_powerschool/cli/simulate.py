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
        "script. The simulated credentials are the only secrets this tool ever prints. It "
        "takes the options of `python -m acme_powerschool.testing`.\n\n"
        "\b\nExample:\n"
        "  acme-powerschool simulate --port 8765 --students 2000\n"
        "  # in another shell, after pasting the three export lines:\n"
        "  acme-powerschool students list --school 100 --format table"
    ),
    short_help="Run the local PowerSchool simulator.",
)
@click.option("--host", default="127.0.0.1", show_default=True, help="A loopback address.")
@click.option(
    "--allow-remote", is_flag=True,
    help="Serve on a non-loopback --host although the credentials are predictable.",
)  # fmt: skip
@click.option("--port", default=0, show_default=True, type=click.IntRange(0, 65535),
              help="Port (0: any free port).")  # fmt: skip
@click.option("--students", default=500, show_default=True, type=click.IntRange(min=0))
@click.option("--schools", default=3, show_default=True, type=click.IntRange(min=1))
@click.option("--seed", default=1, show_default=True, type=int, help="Seed of the district.")
@click.option("--latency-ms", default=0.0, show_default=True, type=click.FloatRange(min=0))
@click.option("--throttle-ms", default=0.0, show_default=True, type=click.FloatRange(min=0))
@click.option("--max-page-size", default=100, show_default=True, type=click.IntRange(min=1))
@click.option(
    "--token-lifetime", default=30 * 24 * 3600.0, show_default=True,
    type=click.FloatRange(min=0, min_open=True), help="Seconds a token lives.",
)  # fmt: skip
@click.option("--xml-quirks", is_flag=True, help="Numeric strings as numbers in XML.")
@click.option("--client-id", help="The plugin's client id (default: derived from the seed).")
@click.option("--client-secret", help="The plugin's client secret (default: from the seed).")
def simulate(host: str, allow_remote: bool, seed: int, **options: Any) -> None:
    from acme_powerschool.testing.__main__ import is_loopback

    if not is_loopback(host):
        if not allow_remote:
            raise click.BadParameter(
                f"{host} is not a loopback address; the simulator's credentials are derived "
                "from the seed. Use 127.0.0.1, ::1 or localhost, or pass --allow-remote.",
                param_hint="--host",
            )
        echo_err(f"warning: serving on non-loopback host {host} (--allow-remote)")
    simulator_class = _load_simulator()
    stop = threading.Event()

    def on_signal(signum: int, frame: Any) -> None:
        stop.set()

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        with simulator_class(seed=seed, host=host, **options) as sim:
            click.echo(f"export {ENV_SERVER}={sim.base_url}")
            click.echo(f"export {ENV_CLIENT_ID}={sim.client_id}")
            click.echo(f"export {ENV_CLIENT_SECRET}={sim.client_secret}")
            sys.stdout.flush()
            echo_err(
                f"simulator running at {sim.base_url} ({options['students']} students, "
                f"{options['schools']} schools, seed {seed}); Ctrl-C to stop"
            )
            stop.wait()
            echo_err(f"stopping; {sim.stats.requests} requests served")
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
