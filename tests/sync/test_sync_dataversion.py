"""Data versions: PowerQueries with `$dataversion`, families through `/ws/dataversion`, and the
deletes both report; every run compared with what the server serves."""

from __future__ import annotations

from syncharness import Harness

APP = "acme_sync"
ROSTER = "com.acme.sdk.students.roster"
PQ_TABLE = "pq_com_acme_sdk_students_roster"


def test_a_powerquery_reads_only_what_changed_after_its_version(harness: Harness) -> None:
    sim = harness.sim
    first = harness.sync(powerqueries=[ROSTER], data_version_app=APP)
    assert first.resources[PQ_TABLE].inserted == 40
    sim.mutate("students", "update", 4, {"last_name": "Quartz"})
    new_id = sim.mutate("students", "insert", values={"first_name": "Ada", "last_name": "Byron"})
    sim.mutate("students", "delete", 9)
    second = harness.sync(powerqueries=[ROSTER], data_version_app=APP)
    counts = second.resources[PQ_TABLE]
    assert counts.method == "data version"
    assert (counts.read, counts.inserted, counts.updated, counts.deleted) == (2, 1, 1, 1)
    loaded = harness.rows(PQ_TABLE, "students__dcid")
    assert loaded["4"]["students__last_name"] == "Quartz"
    assert str(new_id) in loaded and "9" not in loaded
    harness.assert_equal(PQ_TABLE, harness.powerquery(ROSTER, "students__dcid"), "students__dcid")
    quiet = harness.sync(powerqueries=[ROSTER], data_version_app=APP)
    assert quiet.resources[PQ_TABLE].read == 0
    assert quiet.requests <= 2  # the change list and one empty page


def test_families_fetch_only_the_ids_the_server_lists(harness: Harness) -> None:
    sim = harness.sim
    families = ["students", "staff", "sections"]
    harness.sync(resources=families, data_version_app=APP)
    client = harness.client
    client.students.bulk_update([{"id": 3, "name": {"first_name": "Tertia"}}])
    sim.mutate("students", "delete", 7)
    sim.mutate("users", "touch", 2)
    second = harness.sync(resources=families, data_version_app=APP)
    students = second.resources["students"]
    assert students.method == "data version"
    assert (students.read, students.updated, students.deleted) == (1, 1, 1)
    assert second.resources["staff"].read == 1
    assert second.resources["sections"].read == 0
    assert second.requests <= 4  # one change list, one student page, one staff member (+token)
    harness.assert_equal("students", harness.students())
    assert "7" not in harness.rows("students")
