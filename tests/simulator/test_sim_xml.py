"""Accept: application/xml answers XML; xml_quirks turns numeric-looking strings into numbers."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from acme_powerschool.testing import wire

XML = {"Accept": "application/xml"}


def test_school_list_as_xml(api: Any) -> None:
    r = api.get("/ws/v1/district/school", headers=XML)
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/xml"
    assert r.text.startswith('<?xml version="1.0" encoding="UTF-8" standalone="yes"?><schools ')
    root = ET.fromstring(r.content)
    assert root.tag == "schools"
    assert root.attrib["expansions"].startswith("school_boundary, ")
    names = [s.findtext("name") for s in root.findall("school")]
    assert names == [
        "Apple Grove High School",
        "Cherry Hill Middle School",
        "Washington Elementary",
    ]
    assert root.find("school/principal/name/first_name") is not None


def test_single_student_as_xml(api: Any) -> None:
    root = ET.fromstring(api.get("/ws/v1/student/2?expansions=fees", headers=XML).content)
    assert root.tag == "student"
    assert root.findtext("id") == "2"
    assert root.findtext("student_username") == "ag1student1"
    assert root.findtext("name/last_name") == "Adair"
    assert root.findtext("fees") == ""


def test_403_as_xml_errors(api: Any) -> None:
    r = api.post(
        "/ws/schema/query/com.pearson.core.attendance.daily_attendance_template",
        json={},
        headers=XML,
    )
    assert r.status_code == 403
    root = ET.fromstring(r.content)
    assert root.tag == "errors"
    assert root.findtext("message") == "Validation Failed"
    assert root.findtext("field/field") == "attendance.studentid"
    table = ET.fromstring(api.get("/ws/schema/table/attendance?projection=*", headers=XML).content)
    assert table.findtext("field/resource") == "Attendance"


def test_xml_escapes_text(powerschool_sim: Any, make_api: Any) -> None:
    api = make_api(powerschool_sim)
    item = {"client_uid": "x", "action": "UPDATE", "id": 2, "name": {"last_name": "A&B <c>"}}
    api.post("/ws/v1/student", json={"students": {"student": item}})
    root = ET.fromstring(api.get("/ws/v1/student/2", headers=XML).content)
    assert root.findtext("name/last_name") == "A&B <c>"


@pytest.mark.powerschool_sim(xml_quirks=False)
def test_json_without_quirks_keeps_strings(fresh_api: Any) -> None:
    student = fresh_api.get("/ws/v1/student/2?expansions=school_enrollment").json()["student"]
    assert student["school_enrollment"]["school_number"] == "100"
    item = {"client_uid": "2", "action": "UPDATE", "id": "2", "contact_info": {"email": "f@b"}}
    result = fresh_api.post("/ws/v1/student", json={"students": {"student": item}}).json()
    assert result["results"]["result"]["client_uid"] == "2"


@pytest.mark.powerschool_sim(xml_quirks=True)
def test_xml_quirks_turn_numeric_strings_into_numbers(fresh_api: Any) -> None:
    student = fresh_api.get("/ws/v1/student/2?expansions=school_enrollment,addresses,fees").json()[
        "student"
    ]
    enrollment = student["school_enrollment"]
    assert enrollment["school_number"] == 100
    assert enrollment["entry_date"].startswith("2025-")
    assert student["fees"] == ""
    assert isinstance(student["@expansions"], str)
    item = {"client_uid": "2", "action": "UPDATE", "id": "2", "contact_info": {"email": "f@b"}}
    result = fresh_api.post("/ws/v1/student", json={"students": {"student": item}}).json()
    assert result["results"]["result"]["client_uid"] == 2  # as in the original README
    # Leading zeros stay strings (edp_schools: postal_code "02127").
    body = fresh_api.get("/ws/v1/district/student?pagesize=100&expansions=addresses").json()
    codes = [
        s["addresses"]["physical"]["postal_code"]
        for s in body["students"]["student"]
        if s["addresses"]
    ]
    assert {c for c in codes if isinstance(c, str)} >= {"02128"}
    assert all(isinstance(c, int) or c.startswith("0") for c in codes)
    # Schema rows stay strings: the quirk belongs to /ws/v1.
    row = fresh_api.get("/ws/schema/table/students/2?projection=dcid").json()
    assert row["tables"]["students"]["dcid"] == "2"


def _raw_get(sim: Any, path: str, accept: str | None) -> Any:
    """A GET with exactly the Accept header given (requests would add `*/*`)."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=10)
    try:
        headers = {"Authorization": f"Bearer {sim.issue_token()}"}
        if accept is not None:
            headers["Accept"] = accept
        conn.request("GET", path, headers=headers)
        r = conn.getresponse()
        return r.status, r.getheader("Content-Type"), r.read()
    finally:
        conn.close()


def test_no_accept_header_answers_json_by_default(shared_sim: Any) -> None:
    for accept in (None, "*/*"):
        status, content_type, body = _raw_get(shared_sim, "/ws/v1/student/2", accept)
        assert (status, content_type) == (200, "application/json")
        assert body.startswith(b'{"student":')


@pytest.mark.powerschool_sim(students=5, default_format="xml")
def test_default_format_xml_when_no_accept_header(powerschool_sim: Any) -> None:
    for accept in (None, "*/*"):
        status, content_type, body = _raw_get(powerschool_sim, "/ws/v1/student/2", accept)
        assert (status, content_type) == (200, "application/xml")
        assert ET.fromstring(body).findtext("name/last_name") == "Adair"
    status, content_type, _ = _raw_get(powerschool_sim, "/ws/v1/student/2", "application/json")
    assert content_type == "application/json"


_json_trees = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(alphabet='0123456789-"\\,:[]{} ab', max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(st.text(alphabet='0123456789"\\,:ab', max_size=4), inner, max_size=4)
    ),
    max_leaves=20,
)


@given(_json_trees)
@example(["-0", {"a": "-0"}, "00"])
@example("0")
@example(["0"])
def test_the_quirk_on_encoded_json_equals_the_quirk_on_the_tree(tree: Any) -> None:
    """The fast path (one regex over the bytes) answers exactly what the tree walk would."""
    assert wire.json_with_numbers(wire.dump_json(tree)) == wire.dump_json(
        wire.numbers_from_strings(tree)
    )
