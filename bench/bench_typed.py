"""Benchmark of the typed helpers (not a test): requests against the lower bound, CPU per 10,000
typed records against plain requests + json dicts, and peak memory iterating vs holding a list.

Runs the simulator in its own process (so its CPU and memory are not counted) on 127.0.0.1:
    .venv/bin/python bench/bench_typed.py [--students 50000] [--max-page-size 100]
        [--expansions school_enrollment,demographics]   (--expansions "" for none) [--repeat 5]
"""

from __future__ import annotations

import argparse
import gc
import math
import subprocess
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import requests

import acme_powerschool
from acme_powerschool.core.call import Call


class CountingApi(acme_powerschool.api):
    """The real client, counting what the typed layer sends."""

    sent = 0

    def send(self, call: Call) -> requests.Response:
        CountingApi.sent += 1
        return super().send(call)


@contextmanager
def simulator(students: int, max_page_size: int) -> Iterator[tuple[str, str, str]]:
    command = [
        sys.executable, "-m", "acme_powerschool.testing", "--students", str(students),
        "--max-page-size", str(max_page_size),
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        lines = [process.stdout.readline().split()[-1] for _ in range(3)]
        yield lines[0], lines[1], lines[2]
    finally:
        process.terminate()
        process.wait(10)


def measure(run: Callable[[], int]) -> tuple[int, float, float]:
    """(records, CPU seconds of this process, wall seconds)."""
    gc.collect()
    cpu, wall = time.process_time(), time.perf_counter()
    n = run()
    return n, time.process_time() - cpu, time.perf_counter() - wall


def peak_memory(run: Callable[[], Any]) -> float:
    """Peak traced memory in MiB while running."""
    gc.collect()
    tracemalloc.start()
    try:
        run()
        return tracemalloc.get_traced_memory()[1] / 2**20
    finally:
        tracemalloc.stop()


def plain_requests(
    base_url: str, client_id: str, secret: str, page_size: int, expansions: str
) -> int:
    """The baseline: requests + json dicts, with the single-record quirk handled by hand."""
    session = requests.Session()
    token = session.post(
        f"{base_url}/oauth/access_token",
        auth=(client_id, secret),
        data={"grant_type": "client_credentials"},
        headers={"Accept": "application/json"},
    ).json()["access_token"]
    session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
    total = session.get(f"{base_url}/ws/v1/district/student/count").json()["resource"]["count"]
    n = 0
    for page in range(1, math.ceil(total / page_size) + 1):
        body = session.get(
            f"{base_url}/ws/v1/district/student",
            params={"page": page, "pagesize": page_size, "expansions": expansions},
        ).json()
        records = body["students"].get("student", [])
        records = records if isinstance(records, list) else [records]
        for record in records:
            n += record["id"] > 0
    return n


EXPANSIONS = "school_enrollment,demographics"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--max-page-size", type=int, default=100)
    parser.add_argument("--expansions", default=EXPANSIONS, help="comma-separated; '' for none")
    parser.add_argument("--repeat", type=int, default=1, help="rounds; ratios of the least CPU")
    options = parser.parse_args()
    n, size = options.students, options.max_page_size
    with simulator(n, size) as (base_url, client_id, secret):
        ps = CountingApi(base_url, client_id=client_id, client_secret=secret)
        expansions: Any = [name for name in options.expansions.split(",") if name]
        ps.metadata()
        bound = math.ceil(n / size)
        print(
            f"{n} students, max page size {size}, expansions {options.expansions!r}:"
            f" lower bound {bound} page requests"
        )

        # Each round measures typed (prefetch 0 and 4) and plain one after the other; the
        # ratio is of the least CPU each took over the rounds (a shared machine only adds).
        typed_cpu: dict[int, float] = {0: math.inf, 4: math.inf}
        plain_cpu = math.inf
        for _ in range(options.repeat):
            for prefetch in typed_cpu:
                CountingApi.sent = 0
                pager = ps.students.list(expansions=expansions, prefetch=prefetch)
                count, cpu, wall = measure(lambda p=pager: sum(1 for _ in p))
                typed_cpu[prefetch] = min(typed_cpu[prefetch], cpu)
                print(
                    f"typed, prefetch={prefetch}: {count} records, {CountingApi.sent} requests"
                    f" (bound {bound} + 1), {cpu:.2f} s CPU"
                    f" ({cpu / count * 10_000:.2f} s per 10k), {wall:.2f} s wall"
                )
            count, cpu, wall = measure(
                lambda: plain_requests(base_url, client_id, secret, size, options.expansions)
            )
            plain_cpu = min(plain_cpu, cpu)
            print(
                f"plain requests + json dicts: {count} records, {cpu:.2f} s CPU"
                f" ({cpu / count * 10_000:.2f} s per 10k), {wall:.2f} s wall"
            )
        for prefetch, cpu in typed_cpu.items():
            print(f"typed CPU / plain CPU, prefetch={prefetch}: {cpu / plain_cpu:.2f}x (least CPU)")
        pager = ps.students.list(expansions=expansions)
        iterating = peak_memory(lambda: sum(1 for _ in pager))
        holding = peak_memory(pager.to_list)
        print(f"peak memory: iterating {iterating:.1f} MiB, holding the list {holding:.1f} MiB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
