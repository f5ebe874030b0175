"""/ws/schema/table (§4): rows of strings, projection, q, sort, paging, grants and writes."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from hypothesis import given, settings
from hypothesis import strategies as st

from acme_powerschool.testing import Simulator


def test_list_rows_are_strings_with_integer_record_ids(api: Any) -> None:
    r = api.get("/ws/schema/table/students", params={"projection": "dcid,first_name,last_name"})
    assert r.status_code == 200
    body = r.json()
    assert body["name"] == "Students"
    records = body["record"]
    assert len(records) == 100
    first = records[1]
    assert first["id"] == 2
    assert first["tables"]["students"] == {
        "dcid": "2",
        "first_name": "Brandon",
        "last_name": "Adair",
    }
    star = api.get("/ws/schema/table/students/2", params={"projection": "*"}).json()
    row = star["tables"]["students"]
    assert star["id"] == 2 and star["name"] == "Students"
    assert all(isinstance(v, str) for v in row.values())
    assert row["student_number"] == "3"
    assert row["schoolid"] == "100"


def test_null_values_are_empty_strings(api: Any) -> None:
    row = api.get("/ws/schema/table/students/2", params={"projection": "middle_name"}).json()
    assert row["tables"]["students"] == {"middle_name": ""}


def test_count_is_not_wrapped(api: Any) -> None:
    assert api.get("/ws/schema/table/students/count").json() == {"count": 500}
    n = api.get("/ws/schema/table/students/count", params={"q": "schoolid==100"}).json()["count"]
    v1 = api.get("/ws/v1/school/100/student/count").json()["resource"]["count"]
    assert n == v1


def test_q_sort_and_paging(api: Any) -> None:
    params = {
        "projection": "dcid,last_name",
        "q": "dcid=lt=20",
        "sort": "last_name",
        "sortdescending": "true",
        "pagesize": 5,
        "page": 2,
    }
    records = api.get("/ws/schema/table/students", params=params).json()["record"]
    assert len(records) == 5
    names = [r["tables"]["students"]["last_name"] for r in records]
    assert names == sorted(names, reverse=True)
    everything = api.get(
        "/ws/schema/table/students",
        params={"projection": "dcid", "q": "dcid=lt=20", "sort": "dcid", "pagesize": 100},
    ).json()["record"]
    assert [r["id"] for r in everything] == list(range(1, 20))


def test_table_and_column_names_are_case_insensitive(api: Any) -> None:
    r = api.get("/ws/schema/table/STUDENTS/2", params={"projection": "Students.DCID,LAST_NAME"})
    assert r.json()["tables"]["students"] == {"dcid": "2", "last_name": "Adair"}


def test_unknown_column_is_400_with_the_table_name(api: Any) -> None:
    r = api.get("/ws/schema/table/students", params={"projection": "dcid,zzz"})
    assert r.status_code == 400
    assert r.json() == {
        "message": "Invalid field specified: zzz is not valid column for table: Students"
    }
    bad_q = api.get("/ws/schema/table/students", params={"projection": "dcid", "q": "zzz==1"})
    assert bad_q.status_code == 400


def test_non_number_against_number_column_is_400(api: Any) -> None:
    r = api.get("/ws/schema/table/students", params={"projection": "dcid", "q": "dcid==abc"})
    assert r.status_code == 400
    assert r.json()["message"] == (
        "Invalid number 'abc' passed for comparison to number field DCID"
    )


def test_missing_projection_is_400(api: Any) -> None:
    assert api.get("/ws/schema/table/students").status_code == 400


def test_ungranted_column_is_403_no_access(api: Any) -> None:
    r = api.get("/ws/schema/table/attendance", params={"projection": "*"})
    assert r.status_code == 403
    assert r.json() == {
        "message": "At least one column lacks sufficient permission",
        "errors": [{"code": "NoAccess", "field": "StudentID", "resource": "Attendance"}],
    }
    ok = api.get("/ws/schema/table/attendance", params={"projection": "id,att_date"})
    assert ok.status_code == 200
    filtered = api.get(
        "/ws/schema/table/attendance", params={"projection": "id", "q": "studentid==2"}
    )
    assert filtered.status_code == 403
    # An unfiltered count answers even without grants; a filtered one needs them.
    assert api.get("/ws/schema/table/attendance/count").status_code == 200
    assert (
        api.get("/ws/schema/table/attendance/count", params={"q": "studentid==2"}).status_code
        == 403
    )


def test_grants_drive_access(powerschool_sim: Simulator, make_api: Any) -> None:
    api = make_api(powerschool_sim)
    powerschool_sim.grant("Attendance", "StudentID")
    r = api.get("/ws/schema/table/attendance", params={"projection": "*", "q": "studentid==2"})
    assert r.status_code == 200
    assert len(r.json()["record"]) == 2
    powerschool_sim.set_grants([("students", "dcid"), ("STUDENTS", "LAST_NAME")])
    assert api.get("/ws/schema/table/students/2", params={"projection": "dcid,last_name"}).ok
    r = api.get("/ws/schema/table/students/2", params={"projection": "dcid,first_name,dob"})
    assert [e["field"] for e in r.json()["errors"]] == ["First_Name", "DOB"]
    powerschool_sim.reset_grants()
    assert api.get("/ws/schema/table/students/2", params={"projection": "*"}).ok


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/ws/schema/table/nosuchtable?projection=*", 404),
        ("/ws/schema/table/students/999999?projection=*", 404),
        ("/ws/schema/table/teachers?projection=*", 405),
    ],
)
def test_unknown_tables_rows_and_refused_tables(api: Any, path: str, status: int) -> None:
    r = api.get(path)
    assert r.status_code == status
    if status == 405:
        assert r.json() == {"message": "GET, POST and PUT are not allowed on table"}


def test_extension_table_insert_update_delete(fresh_api: Any, powerschool_sim: Simulator) -> None:
    before = fresh_api.get("/ws/schema/table/u_studentsuserfields/count").json()["count"]
    body = {"tables": {"u_studentsuserfields": {"studentsdcid": "3", "favorite_color": "teal"}}}
    r = fresh_api.post("/ws/schema/table/u_studentsuserfields", json=body)
    assert r.status_code == 200
    result = r.json()
    assert result["insert_count"] == 1 and result["update_count"] == 0
    assert result["delete_count"] == 0
    success = result["result"][0]
    assert success["status"] == "SUCCESS" and success["action"] == "INSERT"
    new_id = success["success_message"]["id"]
    assert success["success_message"]["ref"].endswith(
        f"/ws/schema/table/u_studentsuserfields/{new_id}"
    )
    row = fresh_api.get(f"/ws/schema/table/u_studentsuserfields/{new_id}?projection=*").json()
    assert row["tables"]["u_studentsuserfields"]["favorite_color"] == "teal"
    assert (
        fresh_api.get("/ws/schema/table/u_studentsuserfields/count").json()["count"] == before + 1
    )
    # The v1 extension block follows the table.
    ext = fresh_api.get("/ws/v1/student/3?extensions=u_studentsuserfields").json()
    assert ext["student"]["_extension_data"]["_table_extension"]["recordFound"] is True
    upd = {
        "id": str(new_id),
        "name": "u_studentsuserfields",
        "tables": {"u_studentsuserfields": {"favorite_color": "gold"}},
    }
    r = fresh_api.put(f"/ws/schema/table/u_studentsuserfields/{new_id}", json=upd)
    assert r.status_code == 200 and r.json()["update_count"] == 1
    row = fresh_api.get(f"/ws/schema/table/u_studentsuserfields/{new_id}?projection=*").json()
    assert row["tables"]["u_studentsuserfields"]["favorite_color"] == "gold"
    r = fresh_api.delete(f"/ws/schema/table/u_studentsuserfields/{new_id}")
    assert r.status_code == 204 and r.content == b""
    assert fresh_api.delete(f"/ws/schema/table/u_studentsuserfields/{new_id}").status_code == 404
    assert (
        fresh_api.get(f"/ws/schema/table/u_studentsuserfields/{new_id}?projection=*").status_code
        == 404
    )
    assert [w.method for w in powerschool_sim.writes] == ["POST", "PUT", "DELETE"]


def test_base_rows_can_be_updated_and_deleted(fresh_api: Any) -> None:
    body = {"tables": {"u_studentsuserfields": {"bus_route": "7"}}}
    assert fresh_api.put("/ws/schema/table/u_studentsuserfields/1", json=body).ok
    row = fresh_api.get("/ws/schema/table/u_studentsuserfields/1?projection=*").json()
    assert row["tables"]["u_studentsuserfields"]["bus_route"] == "7"
    assert fresh_api.delete("/ws/schema/table/u_studentsuserfields/1").status_code == 204
    rows = fresh_api.get("/ws/schema/table/u_studentsuserfields?projection=id&pagesize=2").json()
    assert [r["id"] for r in rows["record"]] == [2, 3]


def test_students_put_writes_through_to_v1(fresh_api: Any) -> None:
    body = {"tables": {"students": {"first_name": "Brando"}}}
    assert fresh_api.put("/ws/schema/table/students/2", json=body).ok
    assert fresh_api.get("/ws/v1/student/2").json()["student"]["name"]["first_name"] == "Brando"
    assert fresh_api.post("/ws/schema/table/students", json=body).status_code == 405
    assert fresh_api.delete("/ws/schema/table/students/2").status_code == 405
    bad = {"tables": {"students": {"schoolid": "600"}}}
    assert fresh_api.put("/ws/schema/table/students/2", json=bad).status_code == 400


def test_write_errors(fresh_api: Any, powerschool_sim: Simulator) -> None:
    url = "/ws/schema/table/u_studentsuserfields"
    assert (
        fresh_api.post(url, json={"tables": {"u_studentsuserfields": {"zzz": "1"}}}).status_code
        == 400
    )
    assert fresh_api.post(url, json={"nope": {}}).status_code == 400
    assert (
        fresh_api.post(url, data="{", headers={"Content-Type": "application/json"}).status_code
        == 400
    )
    assert (
        fresh_api.put(url + "/999999", json={"tables": {"u_studentsuserfields": {}}}).status_code
        == 404
    )
    powerschool_sim.deny("u_studentsuserfields", "bus_route")
    r = fresh_api.post(url, json={"tables": {"u_studentsuserfields": {"bus_route": "9"}}})
    assert r.status_code == 403
    assert fresh_api.delete(url + "/2").status_code == 403  # delete needs every column
    assert powerschool_sim.writes == []


@pytest.mark.powerschool_sim(students=20, schema_write_shape="results")
def test_results_wrapper_shape_is_configurable(fresh_api: Any) -> None:
    body = {"tables": {"u_studentsuserfields": {"studentsdcid": "5"}}}
    r = fresh_api.post("/ws/schema/table/u_studentsuserfields", json=body)
    assert r.json()["results"]["insert_count"] == 1


def test_table_metadata_lists_columns_with_the_plugins_access(api: Any) -> None:
    """§4.6, found by the fidelity cross-check: a peer reads /metadata before projecting."""
    body = api.get("/ws/schema/table/attendance/metadata").json()
    assert body["name"].lower() == "attendance"
    access = {c["name"].lower(): c["access"] for c in body["columns"]}
    assert access["studentid"] == "NoAccess"  # the default grants deny attendance.studentid
    assert set(access.values()) <= {"NoAccess", "ViewOnly", "FullAccess"}
    students = api.get("/ws/schema/table/students/metadata").json()
    assert {c["name"].lower() for c in students["columns"]} >= {"dcid", "last_name"}
    assert api.get("/ws/schema/table/nope/metadata").status_code == 404
    assert api.get("/ws/schema/table/students/2", params={"projection": "dcid"}).status_code == 200


@pytest.mark.parametrize(
    "values",
    [
        {"*": "x"},
        {"": "x"},
        {"  ": "x"},
        {"u_studentsuserfields.*": "x"},
        {"bus_route": {"a": 1}},
        {"bus_route": ["x"]},
        {"studentsdcid": "five"},  # a number column (fact sheet §4.11: a typecast error)
        {"bus_route": "9", "*": "x"},
    ],
)
def test_malformed_write_values_are_400(
    fresh_api: Any, powerschool_sim: Simulator, values: dict[str, Any]
) -> None:
    body = {"tables": {"u_studentsuserfields": values}}
    url = "/ws/schema/table/u_studentsuserfields"
    for r in (fresh_api.post(url, json=body), fresh_api.put(url + "/2", json=body)):
        assert r.status_code == 400, r.text
        assert "message" in r.json()
    assert powerschool_sim.writes == []


def test_write_keys_map_one_to_one_to_columns(fresh_api: Any) -> None:
    url = "/ws/schema/table/u_studentsuserfields"
    body = {
        "tables": {
            "u_studentsuserfields": {"u_studentsuserfields.Bus_Route": 7, "locker_number": None}
        }
    }
    row_id = fresh_api.post(url, json=body).json()["result"][0]["success_message"]["id"]
    row = fresh_api.get(f"{url}/{row_id}?projection=bus_route,locker_number").json()
    assert row["tables"]["u_studentsuserfields"] == {"bus_route": "7", "locker_number": ""}


def test_numeric_writes_sort_and_filter_as_numbers(fresh_api: Any) -> None:
    body = {"tables": {"attendance": {"schoolid": "-3"}}}
    assert fresh_api.put("/ws/schema/table/attendance/1", json=body).status_code == 200
    r = fresh_api.get("/ws/schema/table/attendance?projection=id&sort=schoolid&pagesize=1")
    assert r.status_code == 200, r.text
    assert r.json()["record"][0]["id"] == 1
    count = fresh_api.get("/ws/schema/table/attendance/count", params={"q": "schoolid=lt=0"})
    assert count.json() == {"count": 1}


@pytest.mark.powerschool_sim(students=5, require_projection=False)
def test_projection_can_be_optional(fresh_api: Any) -> None:
    row = fresh_api.get("/ws/schema/table/students/2").json()["tables"]["students"]
    listed = fresh_api.get("/ws/schema/table/students?pagesize=1").json()["record"]
    assert len(row) == 21 and row["last_name"] == "Adair"  # 20 columns + WhenModified
    assert listed[0]["tables"]["students"].keys() == row.keys()
    assert fresh_api.get("/ws/schema/table/students?projection=dcid").status_code == 200


@pytest.mark.parametrize("table", ["schools", "cc"])
def test_schools_and_cc_are_read_only(fresh_api: Any, table: str) -> None:
    """docs/simulator.md: schools and cc take no writes (405), as documented."""
    first = fresh_api.get(f"/ws/schema/table/{table}?projection=id&pagesize=1").json()
    row_id = first["record"][0]["id"] if isinstance(first["record"], list) else 0
    body = {"tables": {table: {"name": "x"}}}
    assert fresh_api.post(f"/ws/schema/table/{table}", json=body).status_code == 405
    assert fresh_api.put(f"/ws/schema/table/{table}/{row_id}", json=body).status_code == 405
    assert fresh_api.delete(f"/ws/schema/table/{table}/{row_id}").status_code == 405


@pytest.fixture(scope="module")
def small_sim() -> Any:
    """Rows deleted and inserted, so ids have gaps and overlay rows past the seeded ones."""
    with Simulator(students=40, schools=2, seed=3) as sim:
        sim.mutate("attendance", "delete", 3)
        sim.mutate("students", "delete", 7)
        ident = next(iter(sim.all_ids("u_studentsuserfields")))
        sim.mutate("u_studentsuserfields", "delete", ident)
        yield sim


@settings(max_examples=40, deadline=None)
@given(
    table=st.sampled_from(["students", "cc", "attendance", "schools", "u_studentsuserfields"]),
    ids=st.lists(
        st.integers(min_value=0, max_value=120) | st.sampled_from([100, 600, 700]),
        min_size=1,
        max_size=6,
    ),
    padded=st.booleans(),
)
def test_an_id_query_finds_exactly_the_rows_a_full_scan_finds(
    small_sim: Simulator, table: str, ids: list[int], padded: bool
) -> None:
    """The id== lookup (no row built but the ones named) answers as the full scan does."""
    session = requests.Session()
    session.headers.update(
        {"Authorization": f"Bearer {small_sim.issue_token()}", "Accept": "application/json"}
    )
    url = f"{small_sim.base_url}/ws/schema/table/{table}"
    values = ",".join(f"{i:04d}" if padded else str(i) for i in ids)
    q = f"id==({values})" if len(ids) > 1 else f"id=={values}"
    params: dict[str, Any] = {"projection": "id", "q": q, "pagesize": 0}
    found = [r["id"] for r in session.get(url, params=params, timeout=10).json()["record"]]
    every: list[int] = []
    for page in range(1, 100):
        params = {"projection": "id", "page": page}
        records = session.get(url, params=params, timeout=10).json().get("record", [])
        if not records:
            break
        every.extend(r["id"] for r in records)
    expected = [i for i in every if i in ids]
    assert found == expected


def test_what_a_caller_does_to_a_student_record_never_reaches_the_next_read() -> None:
    district = Simulator(students=20, seed=4).district
    first = district.student(5, ("demographics", "school_enrollment"))
    assert first is not None
    again = district.student(5, ("demographics", "school_enrollment"))
    first["name"]["first_name"] = "Changed"
    first["demographics"]["gender"] = "X"
    first["school_enrollment"].clear()
    assert district.student(5, ("demographics", "school_enrollment")) == again
    assert again is not None and again["name"]["first_name"] != "Changed"
