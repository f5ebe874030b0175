"""/ws/v1 reads: envelopes, expansions, the single-object quirk, counts, q and paging (§3)."""

from __future__ import annotations

from typing import Any

import pytest

STUDENT_EXPANSIONS = (
    "demographics, addresses, alerts, phones, school_enrollment, ethnicity_race, contact, "
    "contact_info, initial_enrollment, schedule_setup, fees, lunch, counselors, global_id"
)


def test_student_2_is_brandon_adair_as_in_the_readme(api: Any) -> None:
    r = api.get("/ws/v1/student/2")
    assert r.status_code == 200
    assert r.headers["Content-Type"] == "application/json"
    student = r.json()["student"]
    assert student["@expansions"] == STUDENT_EXPANSIONS
    assert "," in student["@extensions"] and ", " not in student["@extensions"]
    body = {k: v for k, v in student.items() if not k.startswith("@")}
    assert body == {
        "id": 2,
        "local_id": 3,
        "student_username": "ag1student1",
        "name": {"first_name": "Brandon", "last_name": "Adair"},
    }


def test_only_requested_expansions_appear(api: Any) -> None:
    student = api.get("/ws/v1/student/2?expansions=contact_info").json()["student"]
    assert student["contact_info"] == {"email": "Brandom.Adair@powerschool.com"}
    assert "demographics" not in student
    full = api.get("/ws/v1/student/2", params={"expansions": STUDENT_EXPANSIONS}).json()
    student = full["student"]
    for name in STUDENT_EXPANSIONS.split(", "):
        assert name in student
    assert student["fees"] == ""  # an empty expansion block is the empty string
    enrollment = student["school_enrollment"]
    assert enrollment["school_id"] == 100
    assert enrollment["enroll_status"] == "A"
    assert enrollment["grade_level"] in (9, 10, 11, 12)
    assert all(isinstance(v, str) for k, v in student["lunch"].items() if k.startswith("balance"))


def test_unknown_expansions_and_extensions_are_ignored(api: Any) -> None:
    r = api.get("/ws/v1/student/2?expansions=nope&extensions=nada")
    assert r.status_code == 200
    assert "nope" not in r.json()["student"]


def test_extension_data_block(api: Any) -> None:
    student = api.get("/ws/v1/student/2?extensions=u_studentsuserfields").json()["student"]
    ext = student["_extension_data"]["_table_extension"]
    assert ext["name"] == "u_studentsuserfields"
    assert ext["recordFound"] is True
    fields = ext["_field"] if isinstance(ext["_field"], list) else [ext["_field"]]
    assert all(f["type"] == "String" for f in fields)
    other = api.get("/ws/v1/student/3?extensions=u_studentsuserfields").json()["student"]
    assert other["_extension_data"]["_table_extension"]["recordFound"] is False


def test_list_envelope_single_record_is_bare_object(api: Any) -> None:
    body = api.get("/ws/v1/district/student?q=student_username==ag1student1").json()
    students = body["students"]
    assert students["@expansions"] == STUDENT_EXPANSIONS
    assert isinstance(students["student"], dict)
    assert students["student"]["id"] == 2


def test_zero_records_is_envelope_without_singular_key(api: Any) -> None:
    body = api.get("/ws/v1/district/student?q=name.last_name==Zzzz*").json()
    assert set(body["students"]) == {"@expansions", "@extensions"}


def test_several_records_are_a_list(api: Any) -> None:
    body = api.get("/ws/v1/district/student?pagesize=3").json()
    assert [s["id"] for s in body["students"]["student"]] == [1, 2, 3]


@pytest.mark.parametrize(
    ("path", "count"),
    [
        ("/ws/v1/district/student/count", 500),
        ("/ws/v1/district/school/count", 3),
    ],
)
def test_counts_are_wrapped_in_resource(api: Any, path: str, count: int) -> None:
    assert api.get(path).json() == {"resource": {"count": count}}


def test_school_list_and_one(api: Any) -> None:
    schools = api.get("/ws/v1/district/school").json()["schools"]["school"]
    assert [(s["id"], s["name"]) for s in schools] == [
        (100, "Apple Grove High School"),
        (600, "Cherry Hill Middle School"),
        (700, "Washington Elementary"),
    ]
    one = api.get("/ws/v1/school/600").json()["school"]
    assert one["name"] == "Cherry Hill Middle School"
    assert "@expansions" in one
    assert api.get("/ws/v1/school").json()["schools"]["school"] == schools


def test_school_students_partition_the_district(api: Any) -> None:
    total = 0
    seen: set[int] = set()
    for school in (100, 600, 700):
        n = api.get(f"/ws/v1/school/{school}/student/count").json()["resource"]["count"]
        total += n
        page = 1
        while True:
            body = api.get(
                f"/ws/v1/school/{school}/student",
                params={"page": page, "pagesize": 100, "expansions": "school_enrollment"},
            ).json()
            items = body["students"].get("student", [])
            items = [items] if isinstance(items, dict) else items
            for s in items:
                assert s["school_enrollment"]["school_id"] == school
                seen.add(s["id"])
            if len(items) < 100:
                break
            page += 1
    assert total == 500
    assert seen == set(range(1, 501))


@pytest.mark.parametrize(
    ("kind", "plural"),
    [("staff", "staffs"), ("section", "sections"), ("term", "terms"), ("course", "courses")],
)
def test_school_children_lists_counts_and_singles(api: Any, kind: str, plural: str) -> None:
    body = api.get(f"/ws/v1/school/100/{kind}").json()
    items = body[plural][kind]
    items = [items] if isinstance(items, dict) else items
    count = api.get(f"/ws/v1/school/100/{kind}/count").json()["resource"]["count"]
    assert len(items) == min(count, 100)
    first = items[0]
    one = api.get(f"/ws/v1/{kind}/{first['id']}").json()[kind]
    assert one["id"] == first["id"]


def test_courses_sorted_by_number_terms_by_portion(api: Any) -> None:
    courses = api.get("/ws/v1/school/100/course").json()["courses"]["course"]
    numbers = [c["course_number"] for c in courses]
    assert numbers == sorted(numbers)
    terms = api.get("/ws/v1/school/100/term").json()["terms"]["term"]
    assert [(t["portion"], t["start_date"]) for t in terms] == sorted(
        (t["portion"], t["start_date"]) for t in terms
    )


def test_staff_affiliations_come_in_both_forms(api: Any) -> None:
    """edp_staff: most staff are affiliated with their school and the district office (an
    array); one affiliation stays a bare object (the single-object quirk)."""
    staff = api.get("/ws/v1/school/600/staff?expansions=school_affiliations,addresses").json()
    forms = {}
    for member in staff["staffs"]["staff"]:
        affiliation = member["school_affiliations"]["school_affiliation"]
        forms[type(affiliation).__name__] = affiliation
    assert forms["dict"]["school_id"] == 600
    assert [a["school_id"] for a in forms["list"]] == [600, 0]
    addresses = {type(m["addresses"]).__name__ for m in staff["staffs"]["staff"]}
    assert addresses == {"str", "dict"}


def test_section_term_expansion_and_enrollments(api: Any) -> None:
    section = api.get("/ws/v1/section/1?expansions=term").json()["section"]
    assert section["term"]["id"] == section["term_id"]
    body = api.get("/ws/v1/section/1/section_enrollment").json()
    rows = body["section_enrollments"]["section_enrollment"]
    count = api.get("/ws/v1/section/1/section_enrollment/count").json()["resource"]["count"]
    assert len(rows) == count
    assert [r["student_id"] for r in rows] == sorted(r["student_id"] for r in rows)
    one = api.get(f"/ws/v1/section_enrollment/{rows[0]['id']}").json()["section_enrollment"]
    assert one["section_id"] == 1
    assert one["student_id"] == rows[0]["student_id"]


def test_district(api: Any) -> None:
    district = api.get("/ws/v1/district?expansions=entry_codes").json()["district"]
    assert "entry_codes" in district
    assert "exit_codes" not in district


@pytest.mark.parametrize(
    "path",
    [
        "/ws/v1/student/999999",
        "/ws/v1/student/abc",
        "/ws/v1/school/5",
        "/ws/v1/school/5/student",
        "/ws/v1/staff/999999",
        "/ws/v1/section/999999",
        "/ws/v1/section/999999/section_enrollment",
        "/ws/v1/term/999999",
        "/ws/v1/course/999999",
        "/ws/v1/section_enrollment/1",
        "/ws/v1/nothing_here",
    ],
)
def test_unknown_ids_and_resources_are_404(api: Any, path: str) -> None:
    r = api.get(path)
    assert r.status_code == 404
    assert "message" in r.json()


def test_wrong_method_is_405(api: Any) -> None:
    r = api.delete("/ws/v1/student/2")
    assert r.status_code == 405
    assert "GET" in r.headers["Allow"]


def _ids(body: dict[str, Any]) -> list[int]:
    items = body["students"].get("student", [])
    return [s["id"] for s in ([items] if isinstance(items, dict) else items)]


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        ("id==2", [2]),
        ("local_id==3", [2]),
        ("id=gt=497", [498, 499, 500]),
        ("id=ge=499", [499, 500]),
        ("id=lt=3", [1, 2]),
        ("id=le=1", [1]),
        ("id=ge=10;id=le=12", [10, 11, 12]),
        ("id==(4,7,9)", [4, 7, 9]),
        ("name.last_name==Adair;name.first_name==Brandon", [2]),
        ("name.first_name==bran*;id=lt=3", [2]),
        ("student_username==ag1student1", [2]),
    ],
)
def test_q_operators(api: Any, q: str, expected: list[int]) -> None:
    assert _ids(api.get("/ws/v1/district/student", params={"q": q}).json()) == expected


def test_q_on_expansion_fields_and_value_lists(api: Any) -> None:
    body = api.get(
        "/ws/v1/school/100/student",
        params={"q": "school_enrollment.enroll_status==(A,P)", "expansions": "school_enrollment"},
    ).json()
    items = body["students"]["student"]
    assert items and all(s["school_enrollment"]["enroll_status"] in "AP" for s in items)
    counted = api.get(
        "/ws/v1/school/100/student/count", params={"q": "school_enrollment.enroll_status==a"}
    ).json()["resource"]["count"]
    active = api.get(
        "/ws/v1/school/100/student/count", params={"q": "school_enrollment.enroll_status==(I,P)"}
    ).json()["resource"]["count"]
    total = api.get("/ws/v1/school/100/student/count").json()["resource"]["count"]
    assert counted + active == total


def test_q_bad_field_or_syntax_is_400(api: Any) -> None:
    assert api.get("/ws/v1/district/student", params={"q": "zzz==1"}).status_code == 400
    assert api.get("/ws/v1/district/student", params={"q": "id~1"}).status_code == 400


def test_pagesize_is_capped_silently_at_the_max(api: Any) -> None:
    body = api.get("/ws/v1/district/student", params={"pagesize": 1000}).json()
    assert len(body["students"]["student"]) == 100
    page5 = api.get("/ws/v1/district/student", params={"pagesize": 1000, "page": 5}).json()
    assert _ids(page5) == list(range(401, 501))
    assert api.get("/ws/v1/district/student", params={"page": "x"}).status_code == 400


def test_ids_and_school_number_are_numbers_by_default(api: Any) -> None:
    """As captured (edp_students, psu_student_one_in_list): numbers, not numeric strings."""
    student = api.get("/ws/v1/student/5?expansions=school_enrollment").json()["student"]
    assert isinstance(student["id"], int)
    assert isinstance(student["local_id"], int)
    assert isinstance(student["school_enrollment"]["school_number"], int)
    assert isinstance(student["school_enrollment"]["entry_code"], str)


def _items(body: Any, plural: str, kind: str) -> list[Any]:
    items = body[plural].get(kind, [])
    return [items] if isinstance(items, dict) else items


@pytest.mark.parametrize(
    ("path", "plural", "kind", "q"),
    [
        ("/ws/v1/school/100/term", "terms", "term", "portion==1"),
        ("/ws/v1/school/100/staff", "staffs", "staff", "name.last_name=lt=M"),
        ("/ws/v1/school/100/staff", "staffs", "staff", "emails.work_email==*@schools.*"),
        ("/ws/v1/school/100/section", "sections", "section", "term.portion==2"),
        ("/ws/v1/school/100/section", "sections", "section", "expression==(1(A-F),2(A-F))"),
        ("/ws/v1/school/100/course", "courses", "course", "course_name==*English*"),
        ("/ws/v1/school/100/course", "courses", "course", "id=ge=3;id=le=5"),
        ("/ws/v1/section/1/section_enrollment", "section_enrollments", "section_enrollment", ""),
    ],
)
def test_q_filters_school_children_and_enrollments(
    api: Any, path: str, plural: str, kind: str, q: str
) -> None:
    everything = _items(api.get(path, params={"pagesize": 1000}).json(), plural, kind)
    if not q:  # enrollments: filter on a student of this section
        q = f"student_id=={everything[1]['student_id']}"
    filtered = _items(api.get(path, params={"q": q, "pagesize": 1000}).json(), plural, kind)
    count = api.get(path + "/count", params={"q": q}).json()["resource"]["count"]
    assert 0 < len(filtered) < len(everything)
    assert count == len(filtered)
    assert filtered == [x for x in everything if x["id"] in {f["id"] for f in filtered}]


def test_q_on_children_unknown_field_or_syntax_is_400(api: Any) -> None:
    for path in (
        "/ws/v1/school/100/staff",
        "/ws/v1/school/100/term/count",
        "/ws/v1/section/1/section_enrollment",
        "/ws/v1/section/1/section_enrollment/count",
    ):
        r = api.get(path, params={"q": "nope==1"})
        assert r.status_code == 400
        assert r.json()["message"] == "Invalid field specified: nope"
        assert api.get(path, params={"q": "id=~1"}).status_code == 400
    assert api.get("/ws/v1/school/100/term", params={"q": "portion==1"}).status_code == 200


@pytest.mark.powerschool_sim(students=60, max_page_sizes={"student": 7, "staff": 3})
def test_each_resource_caps_at_its_own_max_page_size(fresh_api: Any) -> None:
    meta = fresh_api.get("/ws/v1/metadata").json()["metadata"]
    assert meta["student_max_page_size"] == 7
    assert meta["staff_max_page_size"] == 3
    assert meta["section_max_page_size"] == 100
    assert meta["schema_table_query_max_page_size"] == 100
    students = fresh_api.get("/ws/v1/district/student?pagesize=50").json()["students"]["student"]
    assert len(students) == 7
    assert len(fresh_api.get("/ws/v1/district/student").json()["students"]["student"]) == 7
    staff = fresh_api.get("/ws/v1/school/100/staff?pagesize=50").json()["staffs"]["staff"]
    assert len(staff) == 3
    sections = fresh_api.get("/ws/v1/school/100/section?pagesize=50").json()
    count = fresh_api.get("/ws/v1/school/100/section/count").json()["resource"]["count"]
    assert len(sections["sections"]["section"]) == count > 3  # not the staff cap


@pytest.mark.powerschool_sim(max_page_size=20, max_page_sizes={"schema_table_query": 5})
def test_schema_tables_use_their_own_max_page_size(fresh_api: Any) -> None:
    rows = fresh_api.get("/ws/schema/table/students?projection=dcid&pagesize=50").json()
    assert len(rows["record"]) == 5
    assert len(fresh_api.get("/ws/v1/district/student").json()["students"]["student"]) == 20


def test_bad_max_page_sizes_are_refused() -> None:
    from acme_powerschool.testing import Simulator

    with pytest.raises(ValueError, match="unknown max_page_sizes"):
        Simulator(students=5, max_page_sizes={"students": 5})
    with pytest.raises(ValueError, match=">= 1"):
        Simulator(students=5, max_page_sizes={"student": 0})


@pytest.mark.powerschool_sim(students=50, oversize_pagesize="error", max_page_size=10)
def test_oversize_pagesize_can_be_an_error(fresh_api: Any) -> None:
    r = fresh_api.get("/ws/v1/district/student?pagesize=11")
    assert r.status_code == 400
    assert "10" in r.json()["message"]
    assert fresh_api.get("/ws/v1/district/student?pagesize=10").status_code == 200
    assert fresh_api.get("/ws/v1/school/100/staff?pagesize=11").status_code == 400
    assert fresh_api.get("/ws/schema/table/students?projection=*&pagesize=11").status_code == 400
    assert fresh_api.get("/ws/v1/district/student/count?pagesize=11").status_code == 200


def test_advertised_extensions_and_newer_expansions(api: Any) -> None:
    """Each requested extension answers a `_table_extension` (several: a list), `_field` always
    an array (psu_student_extension); newer servers' counselors and global_id expand."""
    url = "/ws/v1/student/2?extensions=studentcorefields,u_studentsuserfields,activities"
    student = api.get(url + "&expansions=counselors,global_id").json()["student"]
    tables = {t["name"]: t for t in student["_extension_data"]["_table_extension"]}
    assert set(tables) == {"studentcorefields", "u_studentsuserfields", "activities"}
    core = {f["name"]: f["value"] for f in tables["studentcorefields"]["_field"]}
    assert core["pscore_legal_last_name"] == "Adair"
    assert isinstance(tables["u_studentsuserfields"]["_field"], list)
    assert tables["activities"] == {"recordFound": False, "name": "activities"}
    assert student["counselors"]["counselor"]["school_id"] == 100
    assert len(student["global_id"]) == 36


def test_expansions_key_only_where_real_servers_send_it(api: Any, make_api: Any) -> None:
    """edp_terms, edp_courses, sm_section_enrollment: no "@expansions" on resources without
    expansions; `always_expansions=True` sends it (""), as this simulator did before."""
    assert "@expansions" not in api.get("/ws/v1/school/100/term").json()["terms"]
    assert "@expansions" not in api.get("/ws/v1/course/1").json()["course"]
    assert (
        "@expansions" not in api.get("/ws/v1/section_enrollment/101").json()["section_enrollment"]
    )
    assert "@extensions" not in api.get("/ws/v1/district").json()["district"]
    from acme_powerschool.testing import Simulator

    with Simulator(students=5, always_expansions=True) as sim:
        terms = make_api(sim).get("/ws/v1/school/100/term").json()["terms"]
        assert terms["@expansions"] == ""
