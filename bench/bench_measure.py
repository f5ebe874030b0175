"""How one benchmark child measures itself: wall, CPU and memory of its own process.

Standard library only: both the project's venv and the peers venv (bench/.peers) import it.
"""

from __future__ import annotations

import argparse
import gc
import json
import resource
import sys
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

POWERQUERY = "com.acme.sdk.students.flat"
DENIED_POWERQUERY = "com.pearson.core.attendance.daily_attendance_template"
PAGE_SIZE = 100
SINGLE_GETS = 1000


class Unsupported(Exception):
    """The contender has no documented way to do this work."""


def single_ids(students: int, n: int = SINGLE_GETS) -> list[int]:
    """n student DCIDs spread over the district (a stride, so pages are not cached anywhere)."""
    return [(i * 37) % students + 1 for i in range(n)]


def child_arguments(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="one benchmark measurement (a child process)")
    parser.add_argument("--contender", required=True)
    parser.add_argument("--workload", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--client-id", required=True)
    parser.add_argument("--client-secret", required=True)
    parser.add_argument("--students", type=int, required=True)
    parser.add_argument("--limit", type=int, default=0, help="stop after this many records")
    parser.add_argument("--tracemalloc", action="store_true", help="also trace Python heap peak")
    parser.add_argument("--credential-file", default="")
    parser.add_argument("--profile", default="", help="write a pyinstrument text profile here")
    parser.add_argument("--out", required=True)
    return parser.parse_args(argv)


def measure(work: Callable[[], int], *, trace: bool = False, profile: str = "") -> dict[str, Any]:
    """Run `work` (which returns the records it read) and time it in this process alone."""
    gc.collect()
    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    profiler = None
    if profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.0005)
        profiler.start()
    if trace:
        tracemalloc.start()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    records = work()
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    heap_peak = tracemalloc.get_traced_memory()[1] if trace else None
    if trace:
        tracemalloc.stop()
    if profiler is not None:
        profiler.stop()
        with open(profile, "w", encoding="utf-8") as handle:
            handle.write(profiler.output_text(unicode=False, color=False, show_all=False))
    rss_after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return {
        "status": "ok",
        "records": records,
        "wall_s": wall,
        "cpu_s": cpu,
        "peak_rss_mb": rss_after / 1024,
        "rss_growth_mb": (rss_after - rss_before) / 1024,
        "heap_peak_mb": heap_peak / 2**20 if heap_peak is not None else None,
    }


def run_child(
    works: Callable[[argparse.Namespace], Callable[[], int]],
    argv: list[str],
    extras: Callable[[], dict[str, Any]] | None = None,
) -> int:
    """Parse the arguments, build the work, measure it, and write the figures as JSON (plus
    `extras()`, figures the contender reports about itself after the run)."""
    args = child_arguments(argv)
    try:
        work = works(args)
        result = measure(work, trace=args.tracemalloc, profile=args.profile)
        if extras is not None:
            result.update(extras())
    except Unsupported as exc:
        result = {"status": "unsupported", "reason": str(exc)}
    except Exception as exc:  # a peer that breaks is a finding, not a crash of the bench
        result = {"status": "error", "reason": f"{type(exc).__name__}: {exc}"[:500]}
    with open(args.out, "w", encoding="utf-8") as handle:
        json.dump(result, handle)
    return 0


class Enough(Exception):
    """Raised by `counted` to stop reading once --limit records have been seen."""


def counted(records: Any, limit: int, seen: list[int]) -> None:
    """Count records into seen[0], stopping (Enough) at `limit` when it is set."""
    for _ in records:
        seen[0] += 1
        if limit and seen[0] >= limit:
            raise Enough


if __name__ == "__main__":
    sys.exit("bench_measure is a helper module; run `python -m bench`")
