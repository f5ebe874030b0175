"""Safe to kill: a sync process SIGKILLed at any of >= 20 points spread over extract, normalise
and load, then run again (after one more change on the server), leaves DuckDB equal to the
server: no row lost or duplicated, no cursor past what was loaded.

The points are deterministic: the child counts its progress events (each page read, each dlt
progress update, each dlt step starting) and kills itself at the N-th. A dry run first records
the events of a first and of a later sync, so the points can be spread over the three steps.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
from pathlib import Path
from typing import Any

import pytest
from dlt.common.runtime.collector_base import Collector
from syncharness import Harness

from acme_powerschool.sync import PowerQuerySpec, TableSpec
from acme_powerschool.testing import Simulator

APP = "acme_sync"
ROSTER = "com.acme.sdk.students.roster"
FIELDS = "u_studentsuserfields"
SOURCE: dict[str, Any] = {
    "resources": ["students"],
    "powerqueries": [PowerQuerySpec(ROSTER)],
    "tables": [TableSpec(FIELDS, reconcile=True)],
    "data_version_app": APP,
    "reconcile_every": None,
}

pytestmark = pytest.mark.skipif(
    "fork" not in multiprocessing.get_all_start_methods(), reason="needs fork"
)


class _KillAt(Collector):
    """Counts progress events; SIGKILLs its own process at the `kill_at`-th (0: never)."""

    def __init__(self, kill_at: int) -> None:
        self.kill_at = kill_at
        self.events: list[str] = []
        self.stage = ""

    def event(self, what: str) -> None:
        self.events.append(what)
        if len(self.events) == self.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    def update(self, name: str, inc: int = 1, total: Any = None, inc_total: Any = None,
               message: Any = None, label: Any = None) -> None:  # fmt: skip
        self.event(self.stage)

    def _start(self, step: str) -> None:
        self.stage = step.split()[0].lower() if step.split() else step
        self.event(self.stage)

    def _stop(self) -> None:
        pass


def _child(sim: Any, folder: Path, kill_at: int, profile: Path | None) -> None:
    collector = _KillAt(kill_at)
    try:
        harness = Harness(sim, folder, progress=collector)
        harness.sync(on_progress=lambda resource, rows: collector.event("pages"), **SOURCE)
        if profile is not None:
            profile.write_text(json.dumps(collector.events))
    except BaseException:  # the parent sees a non-zero status and fails the test
        os._exit(3)
    os._exit(0)


def _run_child(sim: Any, folder: Path, kill_at: int, profile: Path | None = None) -> int:
    process = multiprocessing.get_context("fork").Process(
        target=_child, args=(sim, folder, kill_at, profile)
    )
    process.start()
    process.join(120)
    assert process.exitcode is not None, "the sync child hung"
    return process.exitcode


def _change(sim: Any, step: int) -> None:
    students = sorted(sim.all_ids("students"))
    sim.mutate("students", "update", students[step % len(students)], {"last_name": f"K{step}"})
    fields = sorted(sim.all_ids(FIELDS))
    if len(fields) < 3:
        sim.mutate(FIELDS, "insert", values={"studentsdcid": str(step), "favorite_color": "new"})
    elif step % 3 == 0:
        sim.mutate(FIELDS, "delete", fields[step % len(fields)])
    else:
        sim.mutate(FIELDS, "update", fields[step % len(fields)], {"favorite_color": f"c{step}"})
    if step % 4 == 1:
        sim.mutate("students", "insert", values={"first_name": f"Kid{step}", "last_name": "New"})
    if step % 5 == 2:
        sim.mutate("students", "delete", students[(step * 7) % len(students)])


def _assert_equal(harness: Harness) -> None:
    harness.assert_equal("students", harness.students())
    key = "students__dcid"
    harness.assert_equal("pq_com_acme_sdk_students_roster", harness.powerquery(ROSTER, key), key)
    harness.assert_equal(f"table_{FIELDS}", harness.table(FIELDS))


def _spread(events: list[str], count: int) -> list[int]:
    """`count` event numbers (1-based) spread over each step's events in proportion."""
    stages = ["extract", "normalize", "load"]
    per_stage = {s: [i + 1 for i, e in enumerate(events) if e in (s, "pages") and
                     (e != "pages" or s == "extract")] for s in stages}  # fmt: skip
    points: list[int] = []
    share = count // len(stages)
    for stage in stages:
        numbers = per_stage[stage]
        assert numbers, f"no {stage} event to kill at: {events}"
        take = min(len(numbers), share + (count - share * len(stages) if stage == "extract" else 0))
        step = len(numbers) / take
        points += sorted({numbers[int(i * step)] for i in range(take)})
    return points


def test_a_sync_killed_anywhere_then_rerun_equals_the_server(tmp_path: Path) -> None:
    clock = [1_767_600_000.0]
    with Simulator(students=30, schools=2, seed=7, max_page_size=6, clock=lambda: clock[0]) as sim:
        dry = tmp_path / "dry"
        first, later = tmp_path / "first.json", tmp_path / "later.json"
        assert _run_child(sim, dry, 0, first) == 0
        clock[0] += 60
        _change(sim, 0)
        assert _run_child(sim, dry, 0, later) == 0
        first_points = _spread(json.loads(first.read_text()), 7)
        later_points = _spread(json.loads(later.read_text()), 15)
        folder = tmp_path / "warehouse"
        killed = 0
        for step, point in enumerate([*first_points, *later_points], start=1):
            clock[0] += 60
            _change(sim, step)
            status = _run_child(sim, folder, point)
            assert status in (-signal.SIGKILL, 0), f"the sync child failed ({status})"
            killed += status == -signal.SIGKILL
            clock[0] += 60
            _change(sim, step + 100)  # a change between the kill and the rerun must arrive
            harness = Harness(sim, folder)
            harness.sync(**SOURCE)
            _assert_equal(harness)
        assert killed >= 20
