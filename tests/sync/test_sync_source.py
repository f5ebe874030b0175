"""The dlt source against the simulator on loopback: what lands in DuckDB equals what the
server serves, merged on keys, with deletes, for each way of reading."""

from __future__ import annotations

import datetime
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from syncharness import Harness, client_for, epoch

ROSTER = "com.acme.sdk.students.roster"
USERFIELDS = "table_u_studentsuserfields"


def test_full_sync_equals_the_server_for_every_default_family(harness: Harness) -> None:
    result = harness.sync()
    client = harness.client
    harness.assert_equal("students", harness.students())
    schools = list(client.schools.list())
    from syncharness import by_key

    harness.assert_equal("schools", by_key(schools, "id"))
    staff: dict[str, Any] = {}
    sections: dict[str, Any] = {}
    for school in schools:
        staff.update(by_key(client.staff.for_school(school.id), "id"))
        sections.update(by_key(client.sections.for_school(school.id), "id"))
    harness.assert_equal("staff", staff)
    harness.assert_equal("sections", sections)
    harness.assert_equal("district", by_key([client.schools.district()], "id"))
    assert result.resources["students"].inserted == 40
    assert result.requests > 0


def test_an_unchanged_server_loads_no_row_the_second_time(harness: Harness) -> None:
    harness.sync(resources=["students"], tables=["u_studentsuserfields"], powerqueries=[ROSTER])
    again = harness.sync(
        resources=["students"], tables=["u_studentsuserfields"], powerqueries=[ROSTER]
    )
    for counts in again.resources.values():
        assert (counts.inserted, counts.updated, counts.deleted) == (0, 0, 0)
    harness.assert_equal("students", harness.students())


def test_updated_and_inserted_students_arrive_once(harness: Harness) -> None:
    harness.sync(resources=["students"])
    client = harness.client
    client.students.bulk_update([{"id": 2, "name": {"last_name": "Changed"}}])
    inserted = client.students.bulk_insert(
        [
            {
                "local_id": "900001",
                "name": {"first_name": "New", "last_name": "Student"},
                "school_enrollment": {
                    "entry_date": "2025-08-19",
                    "exit_date": "2026-06-05",
                    "grade_level": 9,
                    "school_number": 100,
                },
            }
        ]
    )
    assert inserted.insert_count == 1
    result = harness.sync(resources=["students"])
    counts = result.resources["students"]
    assert (counts.inserted, counts.updated, counts.deleted) == (1, 1, 0)
    loaded = harness.rows("students")
    assert loaded["2"]["name__last_name"] == "Changed"
    harness.assert_equal("students", harness.students())


def test_a_deleted_table_row_is_deleted_in_the_warehouse(harness: Harness) -> None:
    every_run = datetime.timedelta(0)
    harness.sync(tables=["u_studentsuserfields"], reconcile_every=every_run)
    table = harness.client.table("u_studentsuserfields")
    table.delete(1)
    table.update(2, {"favorite_color": "teal"})
    result = harness.sync(tables=["u_studentsuserfields"], reconcile_every=every_run)
    counts = result.resources[USERFIELDS]
    assert (counts.updated, counts.deleted) == (1, 1)
    loaded = harness.rows(USERFIELDS)
    assert "1" not in loaded and loaded["2"]["favorite_color"] == "teal"
    harness.assert_equal(USERFIELDS, harness.table("u_studentsuserfields"))


def test_deletes_mark_keeps_the_key_with_the_time_it_was_seen_gone(harness: Harness) -> None:
    seen = datetime.datetime(2026, 3, 1, 6, 0, tzinfo=datetime.timezone.utc)
    harness.sync(tables=["u_studentsuserfields"], deletes="mark")
    harness.client.table("u_studentsuserfields").delete(3)
    harness.sync(
        tables=["u_studentsuserfields"],
        deletes="mark",
        now=seen,
        reconcile_every=datetime.timedelta(0),
    )
    import duckdb

    with duckdb.connect(str(harness.db), read_only=True) as db:
        marked = db.execute(
            f"select id, favorite_color, _ps_deleted_at from ps_test.{USERFIELDS} "
            "where _ps_deleted_at is not null"
        ).fetchall()
    assert [(m[0], m[1]) for m in marked] == [("3", None)]
    assert marked[0][2] == seen


def test_whenmodified_reads_only_rows_changed_since_the_cursor_minus_the_overlap(
    harness: Harness, sim_clock: list[float]
) -> None:
    first = harness.sync(tables=["u_studentsuserfields"], reconcile_every=None)
    assert first.resources[USERFIELDS].method == "full read"
    table = harness.client.table("u_studentsuserfields")
    sim_clock[0] = epoch("2026-01-10 09:00:00")
    table.update(2, {"favorite_color": "teal"})
    table.insert({"studentsdcid": "3", "favorite_color": "red"})
    second = harness.sync(tables=["u_studentsuserfields"], reconcile_every=None)
    counts = second.resources[USERFIELDS]
    # the newest seeded row is from 2025-08-05: read from one day (the overlap) before it
    assert counts.method == "whenmodified since 2025-08-04"
    assert (counts.inserted, counts.updated) == (1, 1)
    # A row committed late, stamped before the cursor but inside the overlap, still arrives.
    sim_clock[0] = epoch("2026-01-09 23:00:00")
    table.update(3, {"favorite_color": "gold"})
    third = harness.sync(tables=["u_studentsuserfields"], reconcile_every=None)
    assert third.resources[USERFIELDS].method == "whenmodified since 2026-01-09"
    assert third.resources[USERFIELDS].read == 3  # the rows written above, not the whole table
    assert third.resources[USERFIELDS].updated == 1
    harness.assert_equal(USERFIELDS, harness.table("u_studentsuserfields"))


def test_a_row_deleted_behind_a_cursor_goes_at_the_next_id_reconciliation(
    harness: Harness,
) -> None:
    harness.sync(tables=["u_studentsuserfields"], reconcile_every=None)
    harness.client.table("u_studentsuserfields").delete(4)
    quiet = harness.sync(tables=["u_studentsuserfields"], reconcile_every=None)
    assert "4" in harness.rows(USERFIELDS)
    assert quiet.resources[USERFIELDS].deleted == 0
    reconciled = harness.sync(
        tables=["u_studentsuserfields"], reconcile_every=datetime.timedelta(0)
    )
    counts = reconciled.resources[USERFIELDS]
    assert counts.method.endswith("+ id reconciliation") and counts.deleted == 1
    harness.assert_equal(USERFIELDS, harness.table("u_studentsuserfields"))


def test_reconciliation_waits_for_its_schedule(harness: Harness) -> None:
    day = datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)
    week = datetime.timedelta(days=7)
    harness.sync(tables=["u_studentsuserfields"], reconcile_every=week, now=day)
    harness.client.table("u_studentsuserfields").delete(2)
    early = harness.sync(tables=["u_studentsuserfields"], reconcile_every=week, now=day + week / 2)
    assert early.resources[USERFIELDS].deleted == 0
    due = harness.sync(tables=["u_studentsuserfields"], reconcile_every=week, now=day + week)
    assert due.resources[USERFIELDS].deleted == 1


def test_a_powerquery_is_merged_on_its_dcid_column(harness: Harness) -> None:
    harness.sync(powerqueries=[ROSTER])
    harness.client.students.bulk_update([{"id": 5, "name": {"first_name": "Fifth"}}])
    result = harness.sync(powerqueries=[ROSTER])
    counts = result.resources["pq_com_acme_sdk_students_roster"]
    assert (counts.inserted, counts.updated) == (0, 1)
    harness.assert_equal(
        "pq_com_acme_sdk_students_roster",
        harness.powerquery(ROSTER, "students__dcid"),
        key="students__dcid",
    )


def test_full_refresh_reads_and_loads_everything_again(harness: Harness) -> None:
    from acme_powerschool.sync import SyncReport, powerschool_source, run_sync

    harness.sync(resources=["schools"])
    report = SyncReport()
    source = powerschool_source(harness.client, ["schools"], report=report)
    result = run_sync(harness.pipeline, source, report=report, full_refresh=True)
    assert result.resources["schools"].inserted == 3


def test_a_duckdb_file_named_like_the_dataset_is_refused(tmp_path: Path) -> None:
    from acme_powerschool.sync import make_pipeline

    with pytest.raises(ValueError, match="same name"):
        make_pipeline(dataset="powerschool", duckdb_file=tmp_path / "powerschool.duckdb")


def test_unknown_resources_and_twin_tables_are_refused(sim: Any) -> None:
    from acme_powerschool.sync import PowerQuerySpec, powerschool_source

    client = client_for(sim)
    with pytest.raises(ValueError, match="unknown resources"):
        powerschool_source(client, ["pupils"])
    with pytest.raises(ValueError, match="same table"):
        powerschool_source(client, powerqueries=[PowerQuerySpec(ROSTER), PowerQuerySpec(ROSTER)])


def test_importing_the_package_or_the_cli_imports_no_dlt() -> None:
    code = (
        "import sys, acme_powerschool, acme_powerschool.sync, acme_powerschool.cli.app\n"
        "assert 'dlt' not in sys.modules, 'dlt imported'\n"
        "assert 'duckdb' not in sys.modules, 'duckdb imported'\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)
