"""PowerQueries (§5): POST only, grouped and flattened records of strings, paging, 403/400/404."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from acme_powerschool.testing import Simulator

PQ = "/ws/schema/query/"
ATTENDANCE = "com.pearson.core.attendance.daily_attendance_template"


def test_readme_403_for_attendance_studentid(api: Any) -> None:
    r = api.post(
        PQ + ATTENDANCE, data='{"studentid": "2"}', headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 403
    assert r.headers["Content-Type"] == "application/json"
    assert r.json() == {
        "message": "Validation Failed",
        "errors": [
            {
                "resource": ATTENDANCE,
                "field": "attendance.studentid",
                "code": "No access to the field",
            }
        ],
    }


def test_granting_the_field_opens_the_query(powerschool_sim: Simulator, make_api: Any) -> None:
    api = make_api(powerschool_sim)
    powerschool_sim.grant("attendance", "studentid")
    body = api.post(PQ + ATTENDANCE, json={"studentid": "2"}).json()
    assert body["name"] == "Attendance"
    assert len(body["record"]) == 2
    record = body["record"][0]
    assert set(record) == {"id", "name", "tables"}
    assert record["tables"]["attendance"]["studentid"] == "2"
    assert all(isinstance(v, str) for v in record["tables"]["attendance"].values())


def test_grouped_roster_paging_and_count(api: Any) -> None:
    body = api.post(
        PQ + "com.acme.sdk.students.roster?pagesize=2&page=1&count=true", json={}
    ).json()
    assert body["count"] == 500
    first, second = body["record"]
    assert (first["id"], first["name"], list(first["tables"])) == (1, "Students", ["students"])
    assert first["tables"]["students"]["dcid"] == "1"
    assert second["tables"]["students"]["first_name"] == "Brandon"
    assert second["tables"]["students"]["student_number"] == "3"
    assert "count" not in api.post(PQ + "com.acme.sdk.students.roster", json={}).json()


def test_default_pagesize_is_100_and_zero_means_all(api: Any) -> None:
    assert len(api.post(PQ + "com.acme.sdk.students.roster").json()["record"]) == 100
    everything = api.post(PQ + "com.acme.sdk.students.roster?pagesize=0&page=3", json={}).json()
    assert [r["id"] for r in everything["record"]] == list(range(1, 501))


def test_flattened_query_has_top_level_columns(api: Any) -> None:
    record = api.post(PQ + "com.acme.sdk.students.flat?pagesize=2", json={}).json()["record"][1]
    assert record == {
        "dcid": "2",
        "student_number": "3",
        "last_name": "Adair",
        "first_name": "Brandon",
        "school_name": "Apple Grove High School",
        "_name": "STUDENTS",  # the core table and its numeric id (swift_powerquery_flat_*)
        "_id": 2,
    }


def test_powerquery_envelope_as_captured_and_plain(make_api: Any) -> None:
    url = PQ + "com.acme.sdk.students.roster"
    nothing = {"$q": "students.last_name==Nobody"}
    with Simulator(students=5) as sim:
        api = make_api(sim)
        body = api.post(url, json={}).json()
        assert body["@extensions"].startswith("c_studentlocator,") and len(body["record"]) == 5
        assert api.post(url, json=nothing).json() == {"@extensions": body["@extensions"]}
    with Simulator(students=5, powerquery_envelope="plain") as sim:
        api = make_api(sim)
        body = api.post(url, json={}).json()
        assert "@extensions" not in body
        assert api.post(url, json=nothing).json() == {"name": "Students", "record": []}
        flat = api.post(PQ + "com.acme.sdk.students.flat", json={}).json()["record"][0]
        assert "_name" not in flat and "_id" not in flat


def test_query_with_arguments(api: Any) -> None:
    url = PQ + "com.acme.sdk.students.by_school?pagesize=0"
    rows = api.post(url, json={"schoolid": 600}).json()["record"]
    v1 = api.get("/ws/v1/school/600/student/count").json()["resource"]["count"]
    assert len(rows) == v1
    assert {r["tables"]["students"]["schoolid"] for r in rows} == {"600"}
    ninth = api.post(url, json={"schoolid": "100", "grade_levels": [9]}).json()["record"]
    assert ninth and {r["tables"]["students"]["grade_level"] for r in ninth} == {"9"}
    count = api.post(PQ + "com.acme.sdk.students.by_school/count", json={"schoolid": 600}).json()
    assert count == {"count": v1}


def test_multi_table_records_group_by_table(api: Any) -> None:
    body = api.post(PQ + "com.acme.sdk.sections.roster", json={"section_dcid": [1, 2]}).json()
    record = body["record"][0]
    assert record["name"] == "CC"
    assert set(record["tables"]) == {"cc", "students"}
    assert record["tables"]["cc"]["sectionid"] == "1"


def test_order_and_dollar_q(api: Any) -> None:
    body = api.post(
        PQ + "com.acme.sdk.students.roster?order=students.last_name;desc&pagesize=0",
        json={"$q": "students.grade_level==9"},
    ).json()
    rows = [r["tables"]["students"] for r in body["record"]]
    assert rows and {r["grade_level"] for r in rows} == {"9"}
    names = [r["last_name"].lower() for r in rows]
    assert names == sorted(names, reverse=True)


def test_bad_arguments_are_400(api: Any) -> None:
    url = PQ + "com.acme.sdk.students.by_school"
    assert api.post(url, json={}).status_code == 400  # required arg missing
    assert api.post(url, json={"schoolid": "abc"}).status_code == 400
    assert api.post(url, json={"schoolid": 100, "nope": 1}).status_code == 400
    assert api.post(url, json=[1, 2]).status_code == 400
    r = api.post(url, data="{oops", headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert api.post(PQ + "com.acme.sdk.students.roster?order=zzz", json={}).status_code == 400


def test_unknown_query_404_and_get_405(api: Any) -> None:
    assert api.post(PQ + "com.acme.sdk.nothing.here", json={}).status_code == 404
    assert api.get(PQ + "com.acme.sdk.students.roster").status_code == 405


def test_api_listing(api: Any) -> None:
    body = api.get(PQ + "api").json()
    assert f"/ws/schema/query/{ATTENDANCE}" in body["paths"]
    assert "powerquery.resp.com.acme.sdk.students.roster" in body["definitions"]
    params = body["definitions"]["powerquery.param.com.acme.sdk.students.by_school"]
    assert params["required"] == ["schoolid"]


def test_access_list(api: Any) -> None:
    r = api.get("/ws/powerqueryaccesslist/" + ATTENDANCE)
    assert r.status_code == 200
    assert '<field table="attendance" field="studentid" access="ViewOnly" />' in r.text
    assert "students" in api.get("/ws/powerqueryaccesslist").text


@pytest.mark.parametrize("name", ["com.acme.sdk.students.roster", "com.acme.sdk.students.flat"])
def test_sliced_pages_equal_the_scanned_rows(name: str) -> None:
    """Deep pages come straight from the index; they must equal a scan from row 1."""
    from itertools import islice

    with Simulator(students=1234, seed=5) as sim:
        item = {
            "client_uid": "1",
            "action": "INSERT",
            "local_id": "99999",
            "name": {"first_name": "New", "last_name": "Student"},
            "school_enrollment": {
                "entry_date": "2026-08-20",
                "exit_date": "2027-06-01",
                "grade_level": 9,
                "school_number": 100,
            },
        }
        inserted = requests.post(
            f"{sim.base_url}/ws/v1/student",
            json={"students": {"student": [item]}},
            headers={"Authorization": f"Bearer {sim.issue_token()}"},
            timeout=10,
        ).json()
        assert inserted["results"]["insert_count"] == 1
        query = sim.queries[name]
        assert query.sliced is not None
        for start, stop in [(0, 100), (1100, 1200), (1200, 1300), (1235, 1400), (5, None)]:
            scanned = [t() for t in islice(query.rows(sim.district, sim.tables, {}), start, stop)]
            sliced = [t() for t in query.sliced(sim.district, start, stop)]
            assert sliced == scanned, (start, stop)


def test_dollar_q_in_the_query_string_filters_too(api: Any) -> None:
    """§5.3 conflict: the official doc sends $q in the payload, PHP in the query string."""
    url = PQ + "com.acme.sdk.students.roster"
    in_body = api.post(url + "?pagesize=0", json={"$q": "students.grade_level==9"}).json()
    in_query = api.post(url, params={"pagesize": 0, "$q": "students.grade_level==9"}, json={})
    assert in_query.status_code == 200
    assert in_query.json()["record"] == in_body["record"]
    assert 0 < len(in_body["record"]) < 500
    count = api.post(url + "/count", params={"$q": "students.grade_level==9"}, json={})
    assert count.json() == {"count": len(in_body["record"])}
    both = api.post(
        url,
        params={"pagesize": 0, "$q": "students.grade_level==9"},
        json={"$q": "students.last_name==A*"},
    ).json()["record"]
    expected = [
        r for r in in_body["record"] if r["tables"]["students"]["last_name"].startswith("A")
    ]
    assert both == expected
    assert api.post(url, params={"$q": "students.nope==1"}, json={}).status_code == 400


def test_dollar_q_non_number_against_number_column_is_400(api: Any) -> None:
    url = PQ + "com.acme.sdk.students.roster"
    for where in ("body", "query"):
        q = "students.grade_level==nine"
        r = (
            api.post(url, json={"$q": q})
            if where == "body"
            else api.post(url, params={"$q": q}, json={})
        )
        assert r.status_code == 400
        assert r.json()["message"] == (
            "Invalid number 'nine' passed for comparison to number field students.grade_level"
        )
    flat = api.post(PQ + "com.acme.sdk.students.flat", json={"$q": "dcid=gt=x"})
    assert flat.status_code == 400
    ok = api.post(url, json={"$q": "students.last_name==nine"})  # a text column: no rows, 200
    assert ok.status_code == 200
    assert api.post(url, json={"$q": 5}).status_code == 400


def test_far_pages_and_huge_page_sizes_are_empty_not_errors(api: Any) -> None:
    url = PQ + "com.acme.sdk.students.roster"
    for params in (
        {"page": 10**30},
        {"page": 10**30, "pagesize": 10**30},
        {"pagesize": 10**30},
    ):
        r = api.post(url, params=params, json={})
        assert r.status_code == 200, params
    assert "record" not in api.post(url, params={"page": 10**30}, json={}).json()
