"""Benchmark of the simulator alone: requests per second over keep-alive, and a 100-student page.

Run with `python bench/bench_simulator.py`. Not a test (pytest never collects it); it measures
the simulator with plain `requests`, never the SDK, so SDK benchmarks can subtract its cost.
"""

from __future__ import annotations

import argparse
import json
import socket
import statistics
import sys
import time
from collections.abc import Callable

import requests

from acme_powerschool.testing import Simulator


def _timed(fn: Callable[[], object], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def _raw_rate(sim: Simulator, path: str, n: int) -> float:
    """Requests per second over one raw keep-alive socket: the server's cost without requests."""
    request = (
        f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {sim.issue_token()}"
        "\r\nAccept: application/json\r\n\r\n"
    ).encode()
    with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as sock:

        def one() -> None:
            sock.sendall(request)
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            while len(body) < length:
                body += sock.recv(65536)

        for _ in range(100):
            one()
        start = time.perf_counter()
        for _ in range(n):
            one()
        return n / (time.perf_counter() - start)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=5000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--pages", type=int, default=200)
    args = parser.parse_args(argv)
    with Simulator(students=args.students, seed=1) as sim:
        session = requests.Session()  # keep-alive: one connection for the whole run
        session.headers.update(
            {"Authorization": f"Bearer {sim.issue_token()}", "Accept": "application/json"}
        )
        small = sim.base_url + "/ws/v1/student/2"
        page = sim.base_url + "/ws/v1/district/student"

        def get_small() -> None:
            session.get(small, timeout=10).raise_for_status()

        page_number = [0]

        def get_page() -> None:
            # Walk through the district so every page is generated afresh.
            page_number[0] = page_number[0] % (args.students // 100) + 1
            r = session.get(page, params={"page": page_number[0], "pagesize": 100}, timeout=10)
            r.raise_for_status()
            assert len(r.json()["students"]["student"]) == 100

        _timed(get_small, 50)  # warm up
        small_samples = _timed(get_small, args.requests)
        page_samples = _timed(get_page, args.pages)
        expanded = sim.base_url + "/ws/v1/district/student"

        def get_expanded() -> None:
            r = session.get(
                expanded,
                params={
                    "pagesize": "100",
                    "expansions": "demographics,addresses,school_enrollment",
                },
                timeout=10,
            )
            r.raise_for_status()

        expanded_samples = _timed(get_expanded, args.pages)
        session.close()
        raw_small = _raw_rate(sim, "/ws/v1/student/2", args.requests)
    start_100k = time.perf_counter()
    with Simulator(students=100_000, seed=1):
        pass
    build_100k = time.perf_counter() - start_100k
    figures = {
        "students": args.students,
        "small_get_requests_per_second": round(len(small_samples) / sum(small_samples)),
        "small_get_median_ms": round(statistics.median(small_samples) * 1000, 3),
        "small_get_raw_socket_requests_per_second": round(raw_small),
        "page_100_students_median_ms": round(statistics.median(page_samples) * 1000, 3),
        "page_100_students_p95_ms": round(
            sorted(page_samples)[int(len(page_samples) * 0.95)] * 1000, 3
        ),
        "page_100_students_3_expansions_median_ms": round(
            statistics.median(expanded_samples) * 1000, 3
        ),
        "start_and_stop_100k_students_s": round(build_100k, 3),
    }
    for key, value in figures.items():
        print(f"# {key}: {value}", file=sys.stderr)
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
