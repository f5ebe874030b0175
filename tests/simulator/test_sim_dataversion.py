"""Data versions: subscriptions, `$dataversion` PowerQueries, /ws/dataversion, mutate(), and
WHENMODIFIED on schema tables (docs/simulator.md, "Data versions")."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from acme_powerschool.testing import Simulator
from acme_powerschool.testing.dataversion import (
    DEFAULT_APPLICATION,
    SEED_VERSION,
    DataVersionOptions,
)

ROSTER = "/ws/schema/query/com.acme.sdk.students.roster"
FLAT = "/ws/schema/query/com.acme.sdk.students.flat"


def _pq(api: Any, since: Any, app: str = DEFAULT_APPLICATION, path: str = ROSTER) -> Any:
    return api.post(
        path,
        json={"$dataversion": since, "$dataversion_applicationname": app},
        params={"pagesize": 0},
    )


def _changes(api: Any, since: int, app: str = DEFAULT_APPLICATION) -> Any:
    return api.get(f"/ws/dataversion/{app}/{since}")


def test_the_published_shape_and_a_fresh_district(make_api: Callable[..., Any]) -> None:
    with Simulator(students=5, seed=1) as sim:
        api = make_api(sim)
        r = _changes(api, SEED_VERSION)
        assert r.status_code == 200
        assert r.headers["Content-Type"] == "application/json"
        # grantholle/powerschool-api: {"$dataversion":"16323283","tables":{"users":[851,...]}}
        assert r.json() == {"$dataversion": str(SEED_VERSION), "tables": {}}
        everything = _changes(api, 0).json()["tables"]
        assert everything["students"] == [1, 2, 3, 4, 5]
        assert everything["schools"] == [100, 600, 700]
        assert set(everything) >= {"students", "schools", "users", "sections", "cc", "terms"}
        assert all(isinstance(i, int) for ids in everything.values() for i in ids)


def test_writes_over_http_advance_the_version_and_are_listed(
    make_api: Callable[..., Any],
) -> None:
    with Simulator(students=5, seed=1) as sim:
        api = make_api(sim)
        start = sim.data_version
        update = {"students": {"student": {"client_uid": "1", "action": "UPDATE", "id": 3}}}
        update["students"]["student"]["name"] = {"first_name": "Zed"}
        assert api.post("/ws/v1/student", json=update).status_code == 200
        row = {"tables": {"u_studentsuserfields": {"studentsdcid": "4", "bus_route": "7"}}}
        inserted = api.post("/ws/schema/table/u_studentsuserfields", json=row).json()
        new_id = inserted["result"][0]["success_message"]["id"]
        assert api.delete("/ws/schema/table/u_studentsuserfields/1").status_code == 204
        assert sim.data_version == start + 3
        body = _changes(api, start).json()
        assert body["$dataversion"] == str(start + 3)
        assert body["tables"] == {"students": [3], "u_studentsuserfields": [new_id, 1]}
        assert _changes(api, start + 1).json()["tables"] == {"u_studentsuserfields": [new_id, 1]}
        assert _changes(api, start + 3).json()["tables"] == {}


def test_a_powerquery_with_a_data_version_returns_only_changed_rows(
    make_api: Callable[..., Any],
) -> None:
    with Simulator(students=50, seed=1) as sim:
        api = make_api(sim)
        full = _pq(api, 0).json()
        assert len(full["record"]) == 50 and full["$dataversion"] == str(SEED_VERSION)
        since = sim.data_version
        sim.mutate("students", "update", 7, {"last_name": "Quartz"})
        sim.mutate("students", "update", 3, {"first_name": "Ada"})
        body = _pq(api, since).json()
        assert body["$dataversion"] == str(since + 2)
        assert [r["id"] for r in body["record"]] == [3, 7]
        assert body["record"][1]["tables"]["students"]["last_name"] == "Quartz"
        flat = _pq(api, since, path=FLAT).json()["record"]
        assert [r["dcid"] for r in flat] == ["3", "7"]
        assert "record" not in _pq(api, since + 2).json()  # empty: no "record", as captured
        # the /count of the same request agrees
        count = api.post(
            ROSTER + "/count",
            json={"$dataversion": str(since), "$dataversion_applicationname": DEFAULT_APPLICATION},
        )
        assert count.json() == {"count": 2}
        # without the parameters nothing changes: no $dataversion key, every row
        plain = api.post(ROSTER, json={}, params={"pagesize": 0}).json()
        assert "$dataversion" not in plain and len(plain["record"]) == 50


def test_data_version_parameters_are_validated(make_api: Callable[..., Any]) -> None:
    with Simulator(students=5, seed=1) as sim:
        api = make_api(sim)
        alone = api.post(ROSTER, json={"$dataversion": "1"})
        assert alone.status_code == 400 and alone.json()["message"] == "Validation Failed"
        assert api.post(ROSTER, json={"$dataversion_applicationname": "x"}).status_code == 400
        assert _pq(api, "-1").status_code == 400
        assert _pq(api, "abc").status_code == 400
        assert _pq(api, 0, app="nobody").status_code == 400
        assert _changes(api, 0, app="nobody").status_code == 400
        assert api.get("/ws/dataversion/acme_sync/-3").status_code == 400
        assert api.get("/ws/dataversion/acme_sync/x").status_code == 400
        token = api.session.headers.pop("Authorization")
        assert _changes(api, 0).status_code == 401
        api.session.headers["Authorization"] = token


def test_mutate_inserts_updates_deletes_and_touches(make_api: Callable[..., Any]) -> None:
    with Simulator(students=10, seed=1) as sim:
        api = make_api(sim)
        v0 = sim.data_version
        dcid = sim.mutate("students", "insert", values={"last_name": "New", "schoolid": 600})
        assert dcid == 11 and sim.data_version == v0 + 1
        student = api.get(f"/ws/v1/student/{dcid}").json()["student"]
        assert student["name"]["last_name"] == "New"
        sim.mutate("students", "delete", 4)
        assert api.get("/ws/v1/student/4").status_code == 404
        assert api.get("/ws/v1/district/student/count").json() == {"resource": {"count": 10}}
        listed = api.get("/ws/v1/district/student").json()["students"]["student"]
        assert 4 not in [s["id"] for s in listed]
        row = sim.mutate("attendance", "insert", values={"studentid": 2, "att_date": "2026-11-30"})
        sim.mutate("attendance", "update", row, {"att_comment": "late"})
        sim.mutate("users", "touch", 2)
        tables = _changes(api, v0).json()["tables"]
        assert tables == {"students": [11, 4], "attendance": [row], "users": [2]}
        with pytest.raises(KeyError):
            sim.mutate("students", "update", 4, {"last_name": "Ghost"})
        with pytest.raises(KeyError):
            sim.mutate("users", "touch", 10**6)
        with pytest.raises(ValueError):
            sim.mutate("students", "update", 2, {"nonsense": "1"})
        with pytest.raises(ValueError):
            sim.mutate("schools", "update", 100, {"name": "x"})
        with pytest.raises(ValueError):
            sim.mutate("students", "explode", 2)
        assert sim.data_version == v0 + 5  # refused changes do not advance it


def test_deleted_rows_can_be_omitted(make_api: Callable[..., Any]) -> None:
    options = DataVersionOptions(deleted_rows="omitted")
    with Simulator(students=10, seed=1, data_versions=options) as sim:
        api = make_api(sim)
        v0 = sim.data_version
        sim.mutate("students", "delete", 4)
        sim.mutate("students", "update", 5, {"first_name": "Eve"})
        assert _changes(api, v0).json()["tables"] == {"students": [5]}
        assert [r["id"] for r in _pq(api, v0).json()["record"]] == [5]
    with pytest.raises(ValueError):
        DataVersionOptions(deleted_rows="tombstone")


def test_subscriptions_choose_the_tables(make_api: Callable[..., Any]) -> None:
    options = DataVersionOptions(subscriptions={"Attendance": ["ATTENDANCE"]})
    with Simulator(students=10, seed=1, data_versions=options) as sim:
        api = make_api(sim)
        v0 = sim.data_version
        sim.mutate("students", "update", 5, {"first_name": "Eve"})
        assert _changes(api, v0, app="Attendance").json()["tables"] == {}
        assert "record" not in _pq(api, v0, app="Attendance").json()  # students not followed
        assert _changes(api, v0).status_code == 400  # the default subscription was replaced
        sim.subscribe("Students", ["students"])
        assert _changes(api, v0, app="Students").json()["tables"] == {"students": [5]}


def test_whenmodified_is_set_by_writes_and_filterable(make_api: Callable[..., Any]) -> None:
    now = [1_796_000_000.0]  # 2026-11-30 00:53:20 UTC
    with Simulator(students=10, seed=1, clock=lambda: now[0]) as sim:
        api = make_api(sim)
        seeded = api.get("/ws/schema/table/students/5", params={"projection": "whenmodified"})
        assert seeded.json()["tables"]["students"] == {"whenmodified": "2025-08-06 06:00:00"}
        sim.mutate("students", "update", 5, {"first_name": "Eve"})
        api.put(
            "/ws/schema/table/u_studentsuserfields/1",
            json={"tables": {"u_studentsuserfields": {"bus_route": "9"}}},
        )
        got = api.get(
            "/ws/schema/table/students",
            params={"projection": "dcid,whenmodified", "q": "whenmodified=ge=2026-11-01"},
        ).json()["record"]
        assert got == [
            {"id": 5, "tables": {"students": {"dcid": "5", "whenmodified": "2026-11-30 00:53:20"}}}
        ]
        ext = api.get(
            "/ws/schema/table/u_studentsuserfields",
            params={"projection": "id", "q": "whenmodified=ge=2026-11-29"},
        ).json()["record"]
        assert [r["id"] for r in ext] == [1]
        for table in ("schools", "cc", "attendance"):
            r = api.get(f"/ws/schema/table/{table}", params={"projection": "whenmodified"})
            assert r.status_code == 200, table
            assert r.json()["record"][0]["tables"][table]["whenmodified"] < "2026"


@pytest.mark.parametrize("path", [ROSTER, FLAT])
def test_a_version_older_than_the_seed_pages_every_live_row_as_a_plain_read_does(
    make_api: Callable[..., Any], path: str
) -> None:
    """`$dataversion` 0 (a first sync) answers every live row, page by page, exactly as the
    same read without it (written, inserted and deleted rows included), plus the version."""
    with Simulator(students=60, seed=2) as sim:
        api = make_api(sim)
        sim.mutate("students", "update", 5, {"last_name": "Quartz"})
        sim.mutate("students", "delete", 9)
        sim.mutate("students", "insert", values={"last_name": "New", "schoolid": 600})
        versioned = {"$dataversion": "0", "$dataversion_applicationname": DEFAULT_APPLICATION}
        for page in (1, 2, 3, 4):
            params = {"page": page, "pagesize": 25}
            plain = api.post(path, json={}, params=params).json()
            with_version = api.post(path, json=versioned, params=params).json()
            assert with_version.pop("$dataversion") == str(sim.data_version)
            assert with_version == plain
        count = api.post(path + "/count", json=versioned).json()
        assert count == api.post(path + "/count", json={}).json() == {"count": 60}
