"""The sync under the simulator's fault injection (502/503/429, resets, truncated bodies) and
under throttling finishes, and what it loaded equals the server; a run that fails on a final
error (a 500) changes nothing, and the next run finishes."""

from __future__ import annotations

from pathlib import Path

from syncharness import Harness, client_for

from acme_powerschool import RetryPolicy
from acme_powerschool.sync import PowerQuerySpec, TableSpec
from acme_powerschool.testing import Simulator

APP = "acme_sync"
ROSTER = "com.acme.sdk.students.roster"
FIELDS = "u_studentsuserfields"
QUICK = RetryPolicy(max_attempts=12, backoff_base=0.005, backoff_max=0.02)
FAULTS = ("502", "503", "429", "reset", "truncated")
"""What the client retries; a 500 is final (PowerSchool's 500s repeat), see the last test."""


def _sync(harness: Harness) -> None:
    harness.sync(
        resources=["students", "staff"],
        powerqueries=[PowerQuerySpec(ROSTER)],
        tables=[TableSpec(FIELDS, reconcile=True)],
        data_version_app=APP,
        reconcile_every=None,
    )


def _compare(harness: Harness) -> None:
    harness.assert_equal("students", harness.students())
    key = "students__dcid"
    harness.assert_equal("pq_com_acme_sdk_students_roster", harness.powerquery(ROSTER, key), key)
    harness.assert_equal(f"table_{FIELDS}", harness.table(FIELDS))


def _change(sim: Simulator, step: int) -> None:
    students = sorted(sim.all_ids("students"))
    sim.mutate("students", "update", students[step], {"last_name": f"F{step}"})
    sim.mutate("students", "delete", students[-1 - step])
    sim.mutate("students", "insert", values={"first_name": f"Fault{step}"})
    fields = sorted(sim.all_ids(FIELDS))
    sim.mutate(FIELDS, "update", fields[0], {"favorite_color": f"f{step}"})


def test_a_sync_through_injected_faults_finishes_equal(tmp_path: Path) -> None:
    with Simulator(students=40, seed=11, max_page_size=7) as sim:
        harness = Harness(sim, tmp_path, client=client_for(sim, retry=QUICK))
        for step in range(3):
            sim.fault_rate(0.2, kinds=FAULTS)
            _sync(harness)
            sim.fault_rate(0.0)
            _compare(harness)
            _change(sim, step)
        assert sum(sim.stats.faults.values()) > 0


def test_a_sync_against_a_throttling_server_finishes_equal(tmp_path: Path) -> None:
    with Simulator(students=40, seed=12, max_page_size=7) as sim:
        harness = Harness(sim, tmp_path, client=client_for(sim, retry=QUICK))
        for step in range(2):
            sim.throttle_ms = 3
            _sync(harness)
            sim.throttle_ms = 0
            _compare(harness)
            _change(sim, step)
        assert sim.stats.statuses.get(429, 0) > 0


def test_a_run_failing_on_a_500_changes_nothing_and_the_next_run_finishes(
    tmp_path: Path,
) -> None:
    import pytest

    with Simulator(students=40, seed=13, max_page_size=7) as sim:
        harness = Harness(sim, tmp_path, client=client_for(sim, retry=QUICK))
        _sync(harness)
        _change(sim, 0)
        before = harness.rows("students")
        sim.inject("POST /ws/schema/query/*", "500", times=1)
        with pytest.raises(Exception, match="HTTP 500"):
            _sync(harness)
        assert harness.rows("students") == before
        _sync(harness)
        _compare(harness)
