"""Property: after any sequence of inserts, updates and deletes (through the write API and the
simulator's mutate hook), a sync leaves DuckDB equal to the server, for every way of reading:
a PowerQuery with data versions, a family through /ws/dataversion, a table by WHENMODIFIED,
and a table read whole."""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from syncharness import Harness

from acme_powerschool.sync import PowerQuerySpec, TableSpec
from acme_powerschool.testing import Simulator

APP = "acme_sync"
ROSTER = "com.acme.sdk.students.roster"
FIELDS = "u_studentsuserfields"
COLORS = ("red", "blue", "teal", "")

operation = st.one_of(
    st.tuples(st.just("student_update"), st.integers(0, 99), st.sampled_from(COLORS)),
    st.tuples(st.just("student_insert"), st.just(0), st.sampled_from(COLORS)),
    st.tuples(st.just("student_delete"), st.integers(0, 99), st.just("")),
    st.tuples(st.just("student_mutate"), st.integers(0, 99), st.sampled_from(COLORS)),
    st.tuples(st.just("field_update"), st.integers(0, 99), st.sampled_from(COLORS)),
    st.tuples(st.just("field_insert"), st.integers(0, 99), st.sampled_from(COLORS)),
    st.tuples(st.just("field_delete"), st.integers(0, 99), st.just("")),
)
steps = st.lists(st.lists(operation, min_size=1, max_size=4), min_size=1, max_size=3)


def _apply(sim: Any, harness: Harness, op: tuple[str, int, str], serial: Any) -> None:
    kind, pick, text = op
    client = harness.client
    students = sorted(sim.all_ids("students"))
    fields = sorted(sim.all_ids(FIELDS))
    if kind == "student_update" and students:
        dcid = students[pick % len(students)]
        client.students.bulk_update([{"id": dcid, "name": {"last_name": f"L{text}{pick}"}}])
    elif kind == "student_insert":
        result = client.students.bulk_insert(
            [
                {
                    "local_id": str(700_000 + next(serial)),
                    "name": {"first_name": f"F{text}", "last_name": "New"},
                    "school_enrollment": {
                        "entry_date": "2025-08-19",
                        "exit_date": "2026-06-05",
                        "grade_level": 9,
                        "school_number": 100,
                    },
                }
            ]
        )
        assert result.insert_count == 1
    elif kind == "student_delete" and students:
        sim.mutate("students", "delete", students[pick % len(students)])
    elif kind == "student_mutate" and students:
        sim.mutate("students", "update", students[pick % len(students)], {"first_name": f"M{text}"})
    elif kind == "field_update" and fields:
        client.table(FIELDS).update(fields[pick % len(fields)], {"favorite_color": text})
    elif kind == "field_insert":
        client.table(FIELDS).insert({"studentsdcid": str(pick + 1), "favorite_color": text})
    elif kind == "field_delete" and fields:
        client.table(FIELDS).delete(fields[pick % len(fields)])


def _sync_and_compare(harness: Harness) -> None:
    harness.sync(
        resources=["students"],
        powerqueries=[PowerQuerySpec(ROSTER)],
        tables=[
            TableSpec(FIELDS, reconcile=True),  # WHENMODIFIED (deletes by id reconciliation)
            TableSpec(FIELDS, cursor=None, resource="userfields_whole"),  # read whole
        ],
        data_version_app=APP,
        reconcile_every=None,  # data versions must report deletes on their own
    )
    harness.assert_equal("students", harness.students())
    key = "students__dcid"
    harness.assert_equal("pq_com_acme_sdk_students_roster", harness.powerquery(ROSTER, key), key)
    served = harness.table(FIELDS)
    harness.assert_equal(f"table_{FIELDS}", served)
    harness.assert_equal("userfields_whole", served)


@settings(
    max_examples=5,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(steps)
def test_every_sync_leaves_the_warehouse_equal_to_the_server(
    plan: list[list[tuple[str, int, str]]],
) -> None:
    clock = [1_767_600_000.0]
    serial = itertools.count()
    with (
        tempfile.TemporaryDirectory() as folder,
        Simulator(students=12, schools=2, seed=5, clock=lambda: clock[0]) as sim,
    ):
        harness = Harness(sim, Path(folder))
        _sync_and_compare(harness)
        for step in plan:
            clock[0] += 3600.0
            for op in step:
                _apply(sim, harness, op, serial)
            _sync_and_compare(harness)
