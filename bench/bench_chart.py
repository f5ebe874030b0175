"""Draws bench/results.png from bench/results.json. Run with the peers venv's python, where
matplotlib lives (never a project dependency): `bench/.peers/bin/python -m bench.bench_chart`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

WORKLOAD_TITLES = {
    "all_students": "all students of all schools",
    "powerquery": "50,000-row PowerQuery",
    "single_student": "one student, 1,000 times",
}


def main(argv: list[str]) -> int:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    source = Path(argv[0]) if argv else Path(__file__).with_name("results.json")
    results = json.loads(source.read_text())
    rows = [r for r in results["rows"] if r.get("status") == "ok"]
    latencies = sorted({r["latency_ms"] for r in results["rows"]})
    labels = list(dict.fromkeys(r["label"] for r in results["rows"]))
    figure, axes = plt.subplots(
        len(latencies), len(WORKLOAD_TITLES), figsize=(16, 4.2 * len(latencies)), squeeze=False
    )
    colours = plt.get_cmap("tab10")
    for i, latency in enumerate(latencies):
        for j, (workload, title) in enumerate(WORKLOAD_TITLES.items()):
            axis = axes[i][j]
            found = {
                r["label"]: r
                for r in rows
                if r["workload"] == workload and r["latency_ms"] == latency
            }
            names = [name for name in labels if name in found]
            walls = [found[name]["wall_s"] for name in names]
            cpus = [found[name]["cpu_s"] for name in names]
            positions = range(len(names))
            axis.barh(
                list(positions),
                walls,
                color=[colours(labels.index(n)) for n in names],
                label="wall",
            )
            axis.barh(list(positions), cpus, color="none", edgecolor="black", hatch="//")
            axis.set_yticks(list(positions), names, fontsize=8)
            axis.invert_yaxis()
            axis.set_title(f"{title}, {latency:g} ms/request", fontsize=10)
            axis.set_xlabel("seconds (bar: wall; hatched: client CPU)", fontsize=8)
            for position, wall in zip(positions, walls, strict=True):
                axis.text(wall, position, f" {wall:.2f}", va="center", fontsize=7)
    machine = results.get("machine", {})
    figure.suptitle(
        f"acme_powerschool benchmarks on the simulator ({results['setup']['students']:,} "
        f"students), {machine.get('nproc')} CPUs, {machine.get('cpu')}, "
        f"Python {machine.get('python')}; median of runs",
        fontsize=11,
    )
    figure.tight_layout()
    figure.savefig(source.with_name("results.png"), dpi=90)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
