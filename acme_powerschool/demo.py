"""`make demo`: the seed README's story, told against the embedded simulator on 127.0.0.1.

A walkthrough for people, not a test: it prints each step and what came back. It loads the
simulator, so the library itself never imports this module.
"""

from __future__ import annotations

import json
import os
import sys
import warnings
from typing import Any

import acme_powerschool


def step(title: str) -> None:
    print(f"\n\033[1m== {title}\033[0m" if sys.stdout.isatty() else f"\n== {title}")


def show(value: Any, limit: int = 900) -> None:
    text = value if isinstance(value, str) else json.dumps(value, indent=2)
    print(text if len(text) <= limit else text[:limit] + "\n   ... (cut)")


def seed_story(ps: acme_powerschool.api) -> None:
    step("ps.get('ws/v1/student/2')")
    response = ps.get("ws/v1/student/2")
    print(response)
    show(response.json())

    step("ps.get('ws/v1/student/2?expansions=contact_info')")
    show(ps.get("ws/v1/student/2?expansions=contact_info").json())

    step("update the email with ps.post('ws/v1/student', data=json.dumps(...))")
    body = {
        "students": {
            "student": [
                {
                    "id": "2",
                    "client_uid": "2",
                    "action": "UPDATE",
                    "contact_info": {"email": "foo@bar.com"},
                }
            ]
        }
    }
    show(ps.post("ws/v1/student", data=json.dumps(body)).json())
    print("verify:")
    student = ps.get("ws/v1/student/2?expansions=contact_info").json()["student"]
    print("  contact_info =", student.get("contact_info"))

    step("schools as JSON (the default)")
    show(ps.get("ws/v1/district/school").text, limit=400)
    step("the same as XML, for this request only: headers={'Accept': 'application/xml'}")
    show(ps.get("ws/v1/district/school", headers={"Accept": "application/xml"}).text, limit=400)

    step("a PowerQuery the plugin may not read: the 403 and its access_requests")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = ps.post(
            "ws/schema/query/com.pearson.core.attendance.daily_attendance_template",
            data='{"studentid": "2"}',
        )
    print(response)
    for warning in caught:
        print(f"{warning.category.__name__}: {warning.message}")
    print("response.access_requests =", repr(getattr(response, "access_requests", "")))


def typed_story(ps: acme_powerschool.api, simulator_stats: Any) -> None:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    step("typed helpers: ps.students.get(2, expansions=['contact_info'])")
    student = ps.students.get(2, expansions=["contact_info"])
    print(student)
    print("student.name.first_name =", repr(student.name.first_name if student.name else None))
    print(
        "student.contact_info.email =",
        repr(student.contact_info.email if student.contact_info else None),
    )

    step("every student of the district, lazily: ps.students.list(prefetch=4)")
    total = ps.students.count()
    before = simulator_stats.requests
    seen = 0
    grades: dict[str, int] = {}
    with Progress(
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        transient=not sys.stdout.isatty(),
    ) as progress:
        task = progress.add_task("students", total=total)
        for record in ps.students.list(prefetch=4):
            seen += 1
            initial = (record.name.last_name or "?")[:1] if record.name else "?"
            grades[initial] = grades.get(initial, 0) + 1
            progress.advance(task)
    requests_made = simulator_stats.requests - before
    print(f"{seen} students in {requests_made} requests (count + pages), one page in memory")
    common = sorted(grades.items(), key=lambda kv: -kv[1])[:5]
    print("most common initials of last names:", ", ".join(f"{k}={v}" for k, v in common))

    step("a PowerQuery into pandas: ps.powerquery('com.acme.sdk.students.roster').to_pandas()")
    frame = ps.powerquery("com.acme.sdk.students.roster").to_pandas()
    print(frame.head(8).to_string())
    print(f"... {len(frame)} rows x {len(frame.columns)} columns")

    step("typed errors: the same 403 through the typed layer")
    try:
        ps.powerquery(
            "com.pearson.core.attendance.daily_attendance_template", args={"studentid": "2"}
        ).to_list()
    except acme_powerschool.AccessDenied as denied:
        print(f"AccessDenied: {denied}")
        print("denied.access_requests =", repr(denied.access_requests))


def sync_story(ps: acme_powerschool.api, sim: Any) -> None:
    """Sync the simulator into DuckDB, change one student, sync again, query the warehouse."""
    import tempfile
    from pathlib import Path

    import duckdb

    from acme_powerschool.sync import make_pipeline, powerschool_source, run_sync

    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")  # dlt's notes, as the CLI does

    def summary(result: Any) -> None:
        for name, c in result.resources.items():
            print(
                f"  {name:<32} {c.method:<14} read {c.read:>5}  inserted {c.inserted:>5}  "
                f"updated {c.updated:>3}  deleted {c.deleted:>3}"
            )
        print(f"  {result.requests} requests, {result.seconds:.1f} s")

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "powerschool.duckdb"
        pipeline = make_pipeline(
            duckdb_file=path, pipelines_dir=Path(folder) / "pipelines", progress=None
        )

        def sync() -> Any:
            source = powerschool_source(
                ps,
                ["schools", "students"],
                powerqueries=["com.acme.sdk.students.roster"],
                data_version_app="acme_sync",
            )
            return run_sync(pipeline, source, client=ps)

        step("sync the district into DuckDB: run_sync(make_pipeline(), powerschool_source(ps))")
        summary(sync())

        step("change one student in PowerSchool, then sync again: only the change moves")
        ps.students.bulk_update([{"id": 2, "name": {"last_name": "Adair-Quartz"}}])
        summary(sync())

        step("query the warehouse")
        with duckdb.connect(str(path), read_only=True) as db:
            print(
                db.sql(
                    "select s.id, s.name__first_name, s.name__last_name, "
                    "s.school_enrollment__grade_level as grade, c.name as school "
                    "from powerschool_data.students s join powerschool_data.schools c "
                    "on c.id::varchar = s.school_enrollment__school_id::varchar "
                    "order by s.id::bigint limit 4"
                )
            )


def main() -> int:
    from acme_powerschool.testing import Simulator

    students = 5000
    print("Starting the embedded PowerSchool simulator on 127.0.0.1 ...")
    with Simulator(students=students, seed=1) as sim:
        print(f"  base_url      {sim.base_url}")
        print(f"  client_id     {sim.client_id}")
        print("  client_secret (hidden; the simulator's own)")
        step("ps = acme_powerschool.api(base_url, client_id=..., client_secret=...)")
        ps = acme_powerschool.api(
            sim.base_url, client_id=sim.client_id, client_secret=sim.client_secret
        )
        print(ps)
        seed_story(ps)
        typed_story(ps, sim.stats)
        sync_story(ps, sim)
        step("what the simulator saw")
        print(f"  requests: {sim.stats.requests}, token requests: {sim.stats.token_requests}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
