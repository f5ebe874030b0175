"""The dlt sync (issue 15) against the fastest pager read of the same data, on the simulator.

A full sync of N students (with demographics, every school) and an N-row PowerQuery into DuckDB
at 20 ms latency, next to reading the same data with the pagers at prefetch 8 (target: sync at
most 1.5x the read); then 1% of the students change and an incremental sync (data versions)
runs (targets: at most 5% of the full sync's requests and 10% of its time). The simulator runs
in this process, each contender in a child process of its own. Never a test.

    python -m bench.bench_sync [--students 50000] [--latency-ms 20]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
QUERY = "com.acme.sdk.students.roster"
APP = "acme_sync"
PREFETCH = 8
EXPANSIONS = ("demographics",)
TARGETS = {"full_vs_read": 1.5, "incremental_requests": 0.05, "incremental_time": 0.10}


def _client() -> Any:
    import acme_powerschool

    return acme_powerschool.api(
        os.environ["BENCH_SIM_URL"],
        client_id=os.environ["BENCH_SIM_ID"],
        client_secret=os.environ["BENCH_SIM_SECRET"],
    )


def _count_requests(client: Any) -> list[int]:
    counter = [0]
    client.session.hooks.setdefault("response", []).append(
        lambda *args, **kwargs: counter.__setitem__(0, counter[0] + 1)
    )
    return counter


def child_read() -> dict[str, Any]:
    """Every student (demographics) school by school, then every PowerQuery row: typed pagers
    at prefetch 8, nothing kept."""
    client = _client()
    requests = _count_requests(client)
    started = time.perf_counter()
    rows = 0
    for school in client.schools.list():
        pager = client.schools.students(school.id, expansions=list(EXPANSIONS), prefetch=PREFETCH)
        for page in pager.iter_pages():
            rows += len(page)
    for page in client.powerquery(QUERY, prefetch=PREFETCH).iter_pages():
        rows += len(page)
    return {"seconds": time.perf_counter() - started, "rows": rows, "requests": requests[0]}


def child_sync(folder: str) -> dict[str, Any]:
    """One sync into the DuckDB file in `folder`. Its time starts once dlt and the sync are
    imported (as the read's starts once the SDK is); the import is reported on its own."""
    before_import = time.perf_counter()
    import acme_powerschool.sync.source  # noqa: F401  (dlt with it)
    from acme_powerschool.sync import (
        PowerQuerySpec,
        SyncReport,
        make_pipeline,
        powerschool_source,
        run_sync,
    )

    imported = time.perf_counter() - before_import
    client = _client()
    started = time.perf_counter()
    report = SyncReport()
    pipeline = make_pipeline(
        dataset="bench",
        duckdb_file=Path(folder) / "bench_sync.duckdb",
        pipelines_dir=Path(folder) / "pipelines",
        pipeline_name="bench_sync",
        progress=None,
    )
    source = powerschool_source(
        client,
        ["students"],
        powerqueries=[PowerQuerySpec(QUERY)],
        student_expansions=EXPANSIONS,
        data_version_app=APP,
        reconcile_every=None,
        report=report,
        prefetch=PREFETCH,
    )
    result = run_sync(pipeline, source, client=client, report=report)
    seconds = time.perf_counter() - started
    steps = {"import": imported}
    trace = pipeline.last_trace
    for step in trace.steps if trace is not None else ():
        if step.step in ("extract", "normalize", "load") and step.finished_at:
            steps[step.step] = (step.finished_at - step.started_at).total_seconds()
    steps["other"] = seconds - sum(v for k, v in steps.items() if k != "import")
    return {
        "seconds": seconds,
        "steps": steps,
        "requests": result.requests,
        "resources": {
            name: {k: getattr(c, k) for k in ("method", "read", "inserted", "updated", "deleted")}
            for name, c in result.resources.items()
        },
    }


def _run_child(sim: Any, *args: str) -> dict[str, Any]:
    env = {
        **os.environ,
        "BENCH_SIM_URL": sim.base_url,
        "BENCH_SIM_ID": sim.client_id,
        "BENCH_SIM_SECRET": sim.client_secret,
        "PYTHONPATH": str(ROOT),
    }
    done = subprocess.run(
        [sys.executable, "-m", "bench.bench_sync", "--child", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(f"bench child {args} failed: {done.stderr.strip()[-2000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def run(students: int = 50_000, latency_ms: float = 20.0, schools: int = 10) -> dict[str, Any]:
    """Measure, print and return the figures (and write bench/sync_results.md)."""
    from acme_powerschool.testing import Simulator

    with (
        tempfile.TemporaryDirectory() as folder,
        Simulator(students=students, schools=schools, seed=1, latency_ms=latency_ms) as sim,
    ):
        # The simulator keeps the students it generated: one unmeasured read first, so the
        # measured read and the sync find it equally warm.
        _run_child(sim, "read")
        read = _run_child(sim, "read")
        full = _run_child(sim, "sync", folder)
        changed = max(1, students // 100)
        ids = sorted(sim.all_ids("students"))
        step = max(1, len(ids) // changed)
        for dcid in ids[::step][:changed]:
            sim.mutate("students", "update", dcid, {"last_name": "Changed"})
        incremental = _run_child(sim, "sync", folder)
    figures = {
        "students": students,
        "latency_ms": latency_ms,
        "changed_students": changed,
        "read": read,
        "full_sync": full,
        "incremental_sync": incremental,
        "full_vs_read": full["seconds"] / read["seconds"],
        "incremental_requests": incremental["requests"] / full["requests"],
        "incremental_time": incremental["seconds"] / full["seconds"],
        "targets": TARGETS,
    }
    (ROOT / "bench" / "sync_results.md").write_text(render(figures))
    print(render(figures))
    return figures


def render(f: dict[str, Any]) -> str:
    def mark(name: str) -> str:
        return "met" if f[name] <= TARGETS[name] else "MISSED"

    read, full, inc = f["read"], f["full_sync"], f["incremental_sync"]
    return (
        f"# Sync benchmark (`python -m bench.bench_sync`)\n\n"
        f"{f['students']:,} students (demographics, every school) and a {f['students']:,}-row "
        f"PowerQuery ({QUERY}), simulator at {f['latency_ms']:g} ms latency, prefetch "
        f"{PREFETCH}; DuckDB destination.\n\n"
        "| run | seconds | requests |\n|---|---:|---:|\n"
        f"| fastest pager read (baseline) | {read['seconds']:.1f} | {read['requests']} |\n"
        f"| full sync | {full['seconds']:.1f} | {full['requests']} |\n"
        f"| incremental sync after {f['changed_students']} students changed | "
        f"{inc['seconds']:.1f} | {inc['requests']} |\n\n"
        f"- full sync / read: {f['full_vs_read']:.2f}x (target <= 1.5x: {mark('full_vs_read')})\n"
        f"- incremental requests / full: {f['incremental_requests']:.1%} (target <= 5%: "
        f"{mark('incremental_requests')})\n"
        f"- incremental time / full: {f['incremental_time']:.1%} (target <= 10%: "
        f"{mark('incremental_time')})\n\n"
        "Where a sync's time goes (seconds, from dlt's trace; `other`: setting up the pipeline "
        "and the source, and `run_sync` outside dlt's steps; `import`: importing dlt and the "
        "sync before the timer starts, not in the times above):\n\n"
        "| run | extract | normalize | load | other | import |\n|---|---:|---:|---:|---:|---:|\n"
        + "".join(
            f"| {label} | "
            + " | ".join(
                f"{run['steps'].get(step, 0.0):.1f}"
                for step in ("extract", "normalize", "load", "other", "import")
            )
            + " |\n"
            for label, run in (("full", full), ("incremental", inc))
        )
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.bench_sync", description=__doc__)
    parser.add_argument("--students", type=int, default=50_000)
    parser.add_argument("--latency-ms", type=float, default=20.0)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        kind, *rest = args.child
        out = child_read() if kind == "read" else child_sync(rest[0])
        print(json.dumps(out, default=str))
        return 0
    run(args.students, args.latency_ms)
    return 0


if __name__ == "__main__":
    sys.exit(main())
