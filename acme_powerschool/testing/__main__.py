"""`python -m acme_powerschool.testing`: run the simulator in the foreground until interrupted.

Prints the base URL and the plugin credentials, then serves; Ctrl-C (or SIGTERM) stops it
cleanly. Only argument parsing and printing live here; the simulator is in server.py.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Sequence
from types import FrameType

from acme_powerschool.testing.server import Simulator, is_loopback

__all__ = ["is_loopback", "main", "serve"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m acme_powerschool.testing",
        description="A local PowerSchool SIS simulator on 127.0.0.1.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address (default)")
    parser.add_argument(
        "--allow-remote",
        action="store_true",
        help="serve on a non-loopback --host although the credentials are predictable",
    )
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--students", type=int, default=500)
    parser.add_argument("--schools", type=int, default=3)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--throttle-ms", type=float, default=0.0)
    parser.add_argument("--max-page-size", type=int, default=100)
    parser.add_argument("--token-lifetime", type=float, default=30 * 24 * 3600.0)
    parser.add_argument("--xml-quirks", action="store_true", help="numeric strings as numbers")
    parser.add_argument("--client-id")
    parser.add_argument("--client-secret")
    args = parser.parse_args(argv)
    if not is_loopback(args.host):
        if not args.allow_remote:
            parser.error(
                f"--host {args.host} is not a loopback address; the simulator's credentials are "
                "derived from the seed, so anyone who can reach it can read and write its data. "
                "Use 127.0.0.1, ::1 or localhost, or pass --allow-remote to serve it anyway."
            )
        print(
            f"warning: serving on non-loopback host {args.host} (--allow-remote): the "
            "credentials are predictable from the seed; anyone who can reach this port "
            "can use it.",
            file=sys.stderr,
        )
    try:
        sim = Simulator(
            students=args.students,
            schools=args.schools,
            seed=args.seed,
            host=args.host,
            port=args.port,
            allow_remote=args.allow_remote,
            client_id=args.client_id,
            client_secret=args.client_secret,
            max_page_size=args.max_page_size,
            token_lifetime=args.token_lifetime,
            latency_ms=args.latency_ms,
            throttle_ms=args.throttle_ms,
            xml_quirks=args.xml_quirks,
        )
    except ValueError as exc:
        parser.error(str(exc))
    try:
        serve(sim, args.seed)
    except OSError as exc:  # the address cannot be resolved or bound: a message, no traceback
        print(f"error: cannot serve on {args.host}:{args.port}: {exc}", file=sys.stderr)
        return 1
    return 0


def serve(sim: Simulator, seed: int) -> None:
    """Print where the simulator serves, then serve until Ctrl-C or SIGTERM."""
    stop = threading.Event()

    def on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    with sim:
        print(f"PowerSchool simulator: {sim.base_url}")
        print(f"client_id:     {sim.client_id}")
        print(f"client_secret: {sim.client_secret}")
        print(f"students: {sim.district.student_count}, seed: {seed} (Ctrl-C to stop)")
        sys.stdout.flush()
        try:
            while not stop.wait(0.5):
                pass
        except KeyboardInterrupt:
            pass
    print("stopped")


if __name__ == "__main__":
    sys.exit(main())
