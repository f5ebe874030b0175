"""`make bench`: acme_powerschool against plain requests and the peer SDKs, on the simulator.

The simulator runs in this process; every contender runs in a child process of its own (the
peers with bench/.peers's python), so the CPU and memory figures are the client's alone.
Writes bench/results.json, bench/results.md and bench/results.png. Never a test.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from bench import bench_report as report
from bench.bench_measure import DENIED_POWERQUERY, PAGE_SIZE, POWERQUERY, single_ids

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
PEERS_DIR = BENCH / ".peers"
PEERS_PY = PEERS_DIR / "bin" / "python"
PEER_PACKAGES = [
    "pypowerschool==0.2.0",
    "powerschool==4.0.1",
    "powerschool-adapter==1.0.3",
    "matplotlib",
    "pyinstrument",
]
PEER_IMPORTS = "import pypowerschool.powerschool, powerschool.client, powerschool_adapter"

STUDENTS = 50_000
SCHOOLS = 10
LATENCIES = (0.0, 20.0)
WORKLOADS = ("all_students", "powerquery", "single_student")
OURS = ("baseline", "raw", "typed", "typed_default", "typed_nested", "typed_prefetch8")
PEERS = ("pypowerschool", "teamschools", "adapter")
LABELS = {
    "baseline": "requests.Session loop (baseline)",
    "raw": "acme_powerschool raw verbs",
    "typed": "acme_powerschool typed pager, prefetch=0 (sequential)",
    "typed_default": "acme_powerschool typed pager, default settings (adaptive window)",
    "typed_nested": "acme_powerschool typed pager, default settings, a loop over schools",
    "typed_prefetch8": "acme_powerschool typed pager, prefetch=8",
    "pypowerschool": "pypowerschool 0.2.0",
    "teamschools": "powerschool 4.0.1 (TEAMSchools)",
    "adapter": "powerschool-adapter 1.0.3",
}
CHILD_TIMEOUT = 240


# -- environments ------------------------------------------------------------------------------


def ensure_peers_venv() -> str | None:
    """Create bench/.peers (never a project dependency) and install the peers; None if it works,
    else why not."""
    if PEERS_PY.exists():
        check = subprocess.run([str(PEERS_PY), "-c", PEER_IMPORTS], capture_output=True)
        if check.returncode == 0:
            return None
    print("# creating bench/.peers and installing the peer SDKs", file=sys.stderr)
    base = getattr(sys, "_base_executable", sys.executable)
    made = subprocess.run([base, "-m", "venv", str(PEERS_DIR)], capture_output=True, text=True)
    if made.returncode != 0:
        return f"could not create bench/.peers: {made.stderr.strip()[-300:]}"
    pip = [str(PEERS_PY), "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    installed = subprocess.run([*pip, *PEER_PACKAGES], capture_output=True, text=True)
    if installed.returncode != 0:
        return f"pip install failed: {installed.stderr.strip()[-500:]}"
    return None


def child_env(profile: bool = False) -> dict[str, str]:
    env = dict(os.environ)
    paths = [str(ROOT)]
    if profile:  # pyinstrument lives in the peers venv; our packages come from .venv
        paths += [str(p) for p in (ROOT / ".venv" / "lib").glob("python3*/site-packages")]
    env["PYTHONPATH"] = os.pathsep.join(paths)
    return env


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "date": time.strftime("%Y-%m-%d"),
    }


# -- running one child -------------------------------------------------------------------------


def run_child(
    sim: Any,
    contender: str,
    workload: str,
    *,
    cwd: str | None = None,
    extra: Iterable[str] = (),
    profile: str = "",
) -> dict[str, Any]:
    """One measurement in a fresh process, with the simulator's counts for exactly that run."""
    peer = contender in PEERS
    python = str(PEERS_PY) if peer or profile else sys.executable
    module = "bench.peers" if peer else "bench.bench_client"
    with tempfile.TemporaryDirectory() as scratch:
        out = os.path.join(scratch, "out.json")
        command = [
            python,
            "-m",
            module,
            "--contender",
            contender,
            "--workload",
            workload,
            "--base-url",
            sim.base_url,
            "--client-id",
            sim.client_id,
            "--client-secret",
            sim.client_secret,
            "--students",
            str(STUDENTS),
            "--out",
            out,
            *extra,
        ]
        if profile:
            command += ["--profile", profile]
        sim.stats.reset()
        server_cpu = time.process_time()  # this process is the simulator's: all its threads
        try:
            done = subprocess.run(
                command,
                cwd=cwd or scratch,  # the adapter writes ./.cache: never into the repo
                env=child_env(profile=bool(profile)),
                capture_output=True,
                text=True,
                timeout=CHILD_TIMEOUT,
            )
        except subprocess.TimeoutExpired:
            return {"status": "error", "reason": f"timed out after {CHILD_TIMEOUT} s"}
        try:
            with open(out, encoding="utf-8") as handle:
                result: dict[str, Any] = json.load(handle)
        except (OSError, ValueError):
            tail = (done.stderr or "").strip()[-400:]
            return {"status": "error", "reason": f"child failed ({done.returncode}): {tail}"}
    result["server_cpu_s"] = time.process_time() - server_cpu
    result["requests"] = sim.stats.requests
    result["token_requests"] = sim.stats.token_requests
    result["by_route"] = sim.stats.by_route
    result["statuses"] = {str(k): v for k, v in sim.stats.statuses.items()}
    return result


def lower_bounds(sim: Any) -> dict[str, int]:
    pages = sum(math.ceil(len(school.students) / PAGE_SIZE) for school in sim.district.schools)
    return {
        "all_students": math.ceil(SCHOOLS / PAGE_SIZE) + pages,
        "powerquery": math.ceil(STUDENTS / PAGE_SIZE),
        "single_student": len(single_ids(STUDENTS)),
    }


def repeats_for(latency: float, workload: str, contender: str, base: int) -> int:
    """The slowest runs (20 ms x 1,000 sequential GETs, ~20 s each) run once; results.md says so."""
    if workload == "single_student" and (latency > 0 or contender == "pypowerschool"):
        return 1
    if latency > 0:
        return max(1, base - 1)
    return base


MEDIAN_KEYS = (
    "wall_s",
    "cpu_s",
    "server_cpu_s",
    "peak_rss_mb",
    "rss_growth_mb",
    "requests",
    "token_requests",
)
WINDOW_KEYS = ("window_peak", "window_limit")


def summarise(runs: list[dict[str, Any]]) -> dict[str, Any]:
    ok = [r for r in runs if r.get("status") == "ok"]
    if not ok:
        first = runs[0] if runs else {"status": "error", "reason": "not run"}
        return {"status": first.get("status"), "reason": first.get("reason"), "runs": len(runs)}
    summary: dict[str, Any] = {"status": "ok", "runs": len(ok), "records": ok[0]["records"]}
    for key in MEDIAN_KEYS:
        summary[key] = statistics.median(r[key] for r in ok)
    for key in WINDOW_KEYS:
        if all(key in r for r in ok):
            summary[key] = statistics.median(r[key] for r in ok)
    summary["wall_s_all"] = [round(r["wall_s"], 3) for r in ok]
    summary["by_route"] = ok[0]["by_route"]
    summary["statuses"] = ok[0].get("statuses", {})
    return summary


def benchmark(
    sim: Any, repeats: int, only: set[str] | None, workloads: tuple[str, ...] = WORKLOADS
) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    bounds = lower_bounds(sim)
    contenders = [c for c in (*OURS, *PEERS) if only is None or c in only or c == "baseline"]
    for latency in LATENCIES:
        sim.latency_ms = latency
        for workload in workloads:
            runs: dict[str, list[dict[str, Any]]] = {c: [] for c in contenders}
            most = max(repeats_for(latency, workload, c, repeats) for c in contenders)
            unsupported: set[str] = set()
            for attempt in range(most):  # interleaved, so drift hits every contender alike
                for contender in contenders:
                    if contender in unsupported:
                        continue
                    if attempt >= repeats_for(latency, workload, contender, repeats):
                        continue
                    result = run_child(sim, contender, workload)
                    runs[contender].append(result)
                    print(
                        f"# {latency:g} ms {workload:15} {contender:15} "
                        f"{result.get('status')} {result.get('wall_s', 0):.2f}s "
                        f"cpu {result.get('cpu_s', 0):.2f}s req {result.get('requests')}"
                        + (f" {result.get('reason', '')[:120]}" if result.get("reason") else ""),
                        file=sys.stderr,
                    )
                    if result.get("status") == "unsupported":
                        unsupported.add(contender)
            base = summarise(runs["baseline"])
            for contender in contenders:
                summary = summarise(runs[contender])
                row = {
                    "contender": contender,
                    "label": LABELS[contender],
                    "workload": workload,
                    "latency_ms": latency,
                    "lower_bound_requests": bounds[workload],
                    **summary,
                }
                if summary.get("status") == "ok" and base.get("status") == "ok":
                    row["ratio_to_baseline"] = {
                        key: (summary[key] / base[key] if base[key] else None)
                        for key in ("wall_s", "cpu_s", "peak_rss_mb", "requests")
                    }
                rows.append(row)
    return rows


# -- memory, import time, tokens across processes, fidelity, profiles ---------------------------


def memory_flatness(sim: Any) -> list[dict[str, Any]]:
    """Python heap peak (tracemalloc) after reading a tenth of the district vs all of it."""
    sim.latency_ms = 0.0
    rows = []
    for contender in ("baseline", "raw", "typed", "typed_default", *PEERS):
        for limit in (STUDENTS // 10, STUDENTS):
            result = run_child(
                sim, contender, "all_students", extra=["--limit", str(limit), "--tracemalloc"]
            )
            rows.append(
                {
                    "contender": contender,
                    "records": limit,
                    "status": result.get("status"),
                    "heap_peak_mb": result.get("heap_peak_mb"),
                    "peak_rss_mb": result.get("peak_rss_mb"),
                    "reason": result.get("reason"),
                }
            )
    return rows


def import_times(runs: int = 9) -> dict[str, Any]:
    """Median seconds to import a module in a fresh interpreter (the import alone)."""
    probes = {
        "requests": (sys.executable, "import requests"),
        "acme_powerschool": (sys.executable, "import acme_powerschool"),
        "acme_powerschool.api": (sys.executable, "import acme_powerschool; acme_powerschool.api"),
        "acme_powerschool typed": (
            sys.executable,
            "import acme_powerschool; acme_powerschool.api; "
            "import acme_powerschool.convert as c; c.default_converter()",
        ),
        TYPED_USE: (sys.executable, TYPED_USE_CODE),
    }
    if PEERS_PY.exists():
        probes["pypowerschool"] = (str(PEERS_PY), "import pypowerschool.powerschool")
        probes["powerschool (TEAMSchools)"] = (str(PEERS_PY), "import powerschool.client")
        probes["powerschool-adapter"] = (str(PEERS_PY), "import powerschool_adapter")
    # As installed: pip compiles a package's bytecode when it installs it, and the peers and
    # requests come compiled from their venvs. Our checkout may have none (PYTHONDONTWRITEBYTECODE
    # is set here), and compiling ~1 MB of source on every import is not what users pay.
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "acme_powerschool")],
        check=True,
        capture_output=True,
    )
    samples: dict[str, list[float]] = {name: [] for name in probes}
    for _ in range(runs):
        for name, (python, statement) in probes.items():
            code = (
                f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
            )
            done = subprocess.run(
                [python, "-c", code], capture_output=True, text=True, env=child_env(), cwd=ROOT
            )
            if done.returncode == 0:
                samples[name].append(float(done.stdout.strip().splitlines()[-1]))
    found: dict[str, Any] = {
        name: {"median_ms": statistics.median(v) * 1000 if v else None, "runs": len(v)}
        for name, v in samples.items()
    }
    found[TYPED_USE]["profile"] = import_profile(TYPED_USE_CODE)
    return found


def import_profile(statement: str, top: int = 25) -> list[tuple[str, float, float]]:
    """`python -X importtime`: the modules that took longest, (name, self ms, cumulative ms)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", statement],
        capture_output=True,
        text=True,
        env=child_env(),
        cwd=ROOT,
    )
    rows = []
    for line in done.stderr.splitlines():
        parts = line.removeprefix("import time:").split("|")
        if len(parts) == 3 and parts[0].strip().isdigit():
            rows.append((parts[2].strip(), int(parts[0]) / 1000, int(parts[1]) / 1000))
    return sorted(rows, key=lambda row: -row[1])[:top]


TYPED_USE = "acme_powerschool typed use (api + students + its models)"
TYPED_USE_CODE = (
    "import acme_powerschool; acme_powerschool.api; "
    "import acme_powerschool.endpoints.students, acme_powerschool.models.students; "
    "import acme_powerschool.convert as c; c.default_converter()"
)


def tokens_across_processes(sim: Any) -> list[dict[str, Any]]:
    """Token requests over three consecutive processes that each read one student."""
    sim.latency_ms = 0.0
    rows = []
    for contender in ("baseline", "raw", "typed", *PEERS):
        with tempfile.TemporaryDirectory() as folder:
            extra: list[str] = []
            if contender in ("raw", "typed"):
                path = Path(folder) / "credentials.json"
                secret = {"client_id": sim.client_id, "client_secret": sim.client_secret}
                path.write_text(json.dumps(secret))
                path.chmod(0o600)
                extra = ["--credential-file", str(path)]
            tokens, statuses = 0, []
            for _ in range(3):
                result = run_child(sim, contender, "token_file", cwd=folder, extra=extra)
                tokens += result.get("token_requests", 0)
                statuses.append(result.get("status"))
            rows.append({"contender": contender, "token_requests": tokens, "statuses": statuses})
    return rows


def fidelity() -> dict[str, Any]:
    """The peers' documented calls on a small simulator, with what a correct client gets."""
    from acme_powerschool.testing import Simulator

    with Simulator(students=2_500, schools=3, seed=1) as sim:
        school = sim.district.schools[0]
        expected = {
            "school_id": school.id,
            "students_of_school": len(school.students),
            "one_match_list": 1,
            "powerquery_paged": sim.district.student_count,
            "powerquery_403": "403 Validation Failed: No access to the field attendance.studentid",
        }
        found: dict[str, Any] = {"expected": expected}
        for peer in PEERS:
            with tempfile.TemporaryDirectory() as folder:
                out = os.path.join(folder, "fidelity.json")
                command = [str(PEERS_PY), "-m", "bench.peers", "--fidelity"]
                command += ["--contender", peer, "--base-url", sim.base_url]
                command += ["--client-id", sim.client_id, "--client-secret", sim.client_secret]
                command += ["--school-id", str(school.id), "--one-id", "2", "--out", out]
                sim.stats.reset()
                done = subprocess.run(
                    command, cwd=folder, env=child_env(), capture_output=True, text=True
                )
                try:
                    with open(out, encoding="utf-8") as handle:
                        found[peer] = json.load(handle)
                except (OSError, ValueError):
                    found[peer] = {"setup": {"raised": done.stderr.strip()[-300:]}}
                found[peer]["_routes"] = sim.stats.by_route
                found[peer]["_statuses"] = {str(k): v for k, v in sim.stats.statuses.items()}
    return found


def profiles(sim: Any) -> dict[str, str]:
    """pyinstrument profiles of our client where it costs more CPU than the baseline."""
    sim.latency_ms = 0.0
    texts = {}
    for contender, workload, latency in PROFILED:
        sim.latency_ms = latency
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "profile.txt")
            result = run_child(sim, contender, workload, profile=path)
            name = f"{contender} {workload} {latency:g} ms"
            if result.get("status") == "ok" and os.path.exists(path):
                texts[name] = Path(path).read_text()
            else:
                texts[name] = f"(no profile: {result.get('reason')})"
    sim.latency_ms = 0.0
    return texts


PROFILED = (
    ("typed", "all_students", 0.0),  # typed CPU against raw dicts, sequential
    ("typed_default", "all_students", 0.0),  # ... and through the window
    ("typed_default", "powerquery", 20.0),  # the window against the latency bound
    ("typed_default", "all_students", 20.0),
    ("raw", "single_student", 0.0),
)


# -- the window against a throttling server -----------------------------------------------------

THROTTLES = ((25.0, 20_000, 10), (100.0, 4_000, 4))
"""(minimum gap ms, students, schools): a gap a sequential reader at 20 ms mostly keeps, on a
district big enough to amortise a throttle; a gap it breaks on every request, on a small one."""
THROTTLED = ("typed", "typed_default")


def throttled() -> list[dict[str, Any]]:
    """Default settings against sequential reading on a simulator that wants a minimum gap
    between requests (429 with Retry-After otherwise), at 20 ms; one run each."""
    from acme_powerschool.testing import Simulator

    rows: list[dict[str, Any]] = []
    for gap, students, schools in THROTTLES:
        with Simulator(students=students, schools=schools, seed=1) as sim:
            sim.latency_ms = 20.0
            sim.throttle_ms = gap
            for workload in ("all_students", "powerquery"):
                for contender in THROTTLED:
                    result = run_child(sim, contender, workload)
                    print(
                        f"# throttle {gap:g} ms {workload:15} {contender:15} "
                        f"{result.get('status')} {result.get('wall_s', 0):.2f}s "
                        f"req {result.get('requests')} {result.get('statuses')}",
                        file=sys.stderr,
                    )
                    setup = {"throttle_ms": gap, "students": students, "schools": schools}
                    rows.append(
                        {**setup, "workload": workload, "contender": contender}
                        | {k: result.get(k) for k in THROTTLE_KEYS}
                    )
    return rows


THROTTLE_KEYS = ("status", "reason", "wall_s", "records", "requests", "statuses", "window_peak")


# -- main --------------------------------------------------------------------------------------


def fault_soak() -> dict[str, Any] | None:
    """Run the fault soak test and keep the figures it prints on its `SOAK {...}` line."""
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "tests/soak/test_fault_soak.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    for line in done.stdout.splitlines():
        if line.startswith("SOAK "):
            figures: dict[str, Any] = json.loads(line[5:])
            figures["passed"] = done.returncode == 0
            return figures
    print(f"# fault soak printed no figures (exit {done.returncode})", file=sys.stderr)
    return None


SECTIONS = (
    "rows", "memory", "tokens", "profiles", "throttled", "imports", "soak", "fidelity", "sync",
)  # fmt: skip
SECTION_KEYS = {
    "rows": ("rows", "lower_bounds", "setup", "machine"),
    "memory": ("memory",),
    "tokens": ("tokens_across_processes",),
    "profiles": ("profiles",),
    "throttled": ("throttled",),
    "imports": ("import_ms",),
    "soak": ("soak",),
    "fidelity": ("fidelity",),
    "sync": ("sync",),
}


def updated(fresh: dict[str, Any], sections: set[str]) -> dict[str, Any]:
    """results.json with only `sections` replaced by this run's; the rest as it was measured
    (results.md says which sections were redone, and when)."""
    results: dict[str, Any] = json.loads((BENCH / "results.json").read_text())
    for section in sorted(sections & set(SECTION_KEYS)):
        for key in SECTION_KEYS[section]:
            results[key] = fresh[key]
    note = {"sections": sorted(sections), "date": fresh["machine"]["date"]}
    results["updates"] = [*results.get("updates", []), note | {"elapsed_s": fresh["elapsed_s"]}]
    return results


def main(argv: list[str] | None = None) -> int:
    global STUDENTS
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure (median)")
    parser.add_argument("--only", default="", help="comma-separated contenders (and baseline)")
    parser.add_argument("--skip-peers-install", action="store_true")
    parser.add_argument("--no-write", action="store_true", help="print, do not write results")
    parser.add_argument("--students", type=int, default=50_000, help="district size")
    parser.add_argument("--workloads", default=",".join(WORKLOADS), help="comma-separated")
    parser.add_argument(
        "--update", action="store_true", help="keep results.json's other sections, redo --sections"
    )
    parser.add_argument(
        "--sections", default=",".join(SECTIONS), help=f"comma-separated, of {','.join(SECTIONS)}"
    )
    args = parser.parse_args(argv)
    from acme_powerschool.testing import Simulator

    STUDENTS = args.students
    wanted = {part.strip() for part in args.sections.split(",")}

    started = time.perf_counter()
    peers_problem = None if args.skip_peers_install else ensure_peers_venv()
    only = {c.strip() for c in args.only.split(",") if c.strip()} or None
    if peers_problem:
        print(f"# peers unavailable: {peers_problem}", file=sys.stderr)
        only = set(OURS) if only is None else only - set(PEERS)
    results: dict[str, Any] = {
        "machine": machine(),
        "setup": {
            "students": STUDENTS,
            "schools": SCHOOLS,
            "seed": 1,
            "max_page_size": 100,
            "powerquery": POWERQUERY,
            "denied_powerquery": DENIED_POWERQUERY,
            "repeats": args.repeats,
            "simulator": "in the parent process (ThreadingHTTPServer); clients in child processes",
        },
        "peers_problem": peers_problem,
    }
    with Simulator(students=STUDENTS, schools=SCHOOLS, seed=1, max_page_size=100) as sim:
        results["setup"]["school_sizes"] = [len(s.students) for s in sim.district.schools]
        results["lower_bounds"] = lower_bounds(sim)
        workloads = tuple(w.strip() for w in args.workloads.split(",") if w.strip())
        results["setup"]["workloads"] = workloads
        rows = benchmark(sim, args.repeats, only, workloads) if "rows" in wanted else []
        results["rows"] = rows
        results["memory"] = memory_flatness(sim) if "memory" in wanted else []
        tokens = tokens_across_processes(sim) if "tokens" in wanted else []
        results["tokens_across_processes"] = tokens
        results["profiles"] = profiles(sim) if "profiles" in wanted else {}
    results["throttled"] = throttled() if "throttled" in wanted else []
    results["import_ms"] = import_times() if "imports" in wanted else {}
    results["soak"] = fault_soak() if "soak" in wanted else None
    wants_fidelity = "fidelity" in wanted and not peers_problem
    results["fidelity"] = fidelity() if wants_fidelity else {}
    if "sync" in wanted:  # issue 15: the dlt sync against the fastest pager read
        from bench import bench_sync

        results["sync"] = bench_sync.run()
    results["elapsed_s"] = round(time.perf_counter() - started, 1)
    if args.update:
        results = updated(results, wanted)
    if args.no_write:
        print(json.dumps(results, indent=2, default=str))
        return 0
    (BENCH / "results.json").write_text(json.dumps(results, indent=2, default=str) + "\n")
    (BENCH / "results.md").write_text(report.render(results))
    chart = subprocess.run(
        [str(PEERS_PY), "-m", "bench.bench_chart", str(BENCH / "results.json")],
        cwd=ROOT,
        env=child_env(),
        capture_output=True,
        text=True,
    )
    if chart.returncode != 0:
        print(f"# chart not drawn: {chart.stderr.strip()[-300:]}", file=sys.stderr)
    print(f"# bench done in {results['elapsed_s']} s: bench/results.md", file=sys.stderr)
    return 0
