"""Every generated helper against the simulator over real HTTP on 127.0.0.1, with a strict
converter so that any field the specs do not know fails the test instead of hiding in `extra`."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import acme_powerschool
from acme_powerschool.convert import make_converter
from acme_powerschool.core.errors import AccessDenied, NotFound, ResponseFormatError, ServerError
from acme_powerschool.models import (
    Course,
    District,
    FlatStudentRow,
    RosterRow,
    School,
    Section,
    SectionEnrollment,
    SectionRosterRow,
    StaffMember,
    Student,
    StudentWrite,
    Term,
)
from acme_powerschool.testing import Simulator

STRICT = make_converter(strict=True)
ALL_EXPANSIONS: Any = [
    "demographics", "addresses", "alerts", "phones", "school_enrollment", "ethnicity_race",
    "contact", "contact_info", "initial_enrollment", "schedule_setup", "fees", "lunch",
    "counselors", "global_id",
]  # fmt: skip
N = 230


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(students=N, seed=1, max_page_size=50) as simulator:
        yield simulator


@pytest.fixture(params=[False, True], ids=["json", "xml-quirks"])
def ps(
    sim: Simulator, monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> Iterator[acme_powerschool.api]:
    """A client on the simulator, once plain and once with the XML->JSON quirks switched on
    (numeric-looking strings sent as numbers)."""
    monkeypatch.setattr("acme_powerschool.convert.default_converter", lambda: STRICT)
    sim.xml_quirks = request.param
    yield acme_powerschool.api(
        sim.base_url, client_id=sim.client_id, client_secret=sim.client_secret
    )
    sim.xml_quirks = False


def route_count(sim: Simulator, prefix: str) -> int:
    return sum(n for route, n in sim.stats.by_route.items() if route.startswith(prefix))


def test_metadata(ps: acme_powerschool.api) -> None:
    meta = ps.metadata()
    assert meta.student_max_page_size == 50 and meta.plugin_id is not None
    assert meta.sso_enabled_admin is False


def test_students_get_with_every_expansion(ps: acme_powerschool.api) -> None:
    s = ps.students.get(2, expansions=ALL_EXPANSIONS, extensions=["u_studentsuserfields"])
    assert isinstance(s, Student) and s.id == 2 and s.local_id == 3
    assert s.name is not None and s.name.first_name == "Brandon"
    assert s.school_enrollment is not None and s.school_enrollment.school_id == 100
    assert s.extension_data is not None and s.extension_data.table_extension
    with pytest.raises(NotFound):
        ps.students.get(10**9)


def test_student_lists_and_counts(sim: Simulator, ps: acme_powerschool.api) -> None:
    assert ps.students.count() == N
    every = ps.students.list(expansions=["school_enrollment"]).to_list()
    assert len(every) == N and len({s.id for s in every}) == N
    school = every[0].school_enrollment
    assert school is not None and school.school_id is not None
    in_school = [s.id for s in ps.students.for_school(school.school_id)]
    assert len(in_school) == ps.students.count_for_school(school.school_id)
    assert [s.id for s in ps.schools.students(school.school_id, prefetch=2)] == in_school
    active = ps.students.list(q="school_enrollment.enroll_status==A").count()
    assert 0 < active <= N


def test_a_list_with_expansions_none_is_a_list_without(ps: acme_powerschool.api) -> None:
    nothing: Any = None
    assert ps.students.list(expansions=nothing, extensions=nothing).to_list() == (
        ps.students.list().to_list()
    )


def test_schools_and_district(ps: acme_powerschool.api) -> None:
    assert isinstance(ps.schools.district(expansions=["entry_codes"]), District)
    schools = ps.schools.list(expansions=["full_time_equivalencies"]).to_list()
    assert len(schools) == ps.schools.count() and all(isinstance(s, School) for s in schools)
    assert ps.schools.get(schools[0].id).name == schools[0].name


def test_staff_sections_terms_courses_and_enrollments(ps: acme_powerschool.api) -> None:
    school = ps.schools.list().to_list()[0].id
    staff = ps.staff.for_school(school, expansions=["emails", "school_affiliations"]).to_list()
    assert len(staff) == ps.staff.count_for_school(school)
    assert isinstance(ps.staff.get(staff[0].id, expansions=["phones"]), StaffMember)

    sections = ps.sections.for_school(school, expansions=["term"]).to_list()
    assert len(sections) == ps.sections.count_for_school(school)
    section = ps.sections.get(sections[0].id, expansions=["term"])
    assert isinstance(section, Section) and isinstance(section.term, Term)
    enrollments = ps.sections.enrollments(section.id).to_list()
    assert len(enrollments) == ps.sections.count_enrollments(section.id)
    if enrollments:
        one = ps.sections.enrollment(enrollments[0].id)
        assert isinstance(one, SectionEnrollment) and one == enrollments[0]

    terms = ps.terms.for_school(school).to_list()
    assert len(terms) == ps.terms.count_for_school(school)
    assert ps.terms.get(terms[0].id) == terms[0]

    courses = ps.courses.for_school(school).to_list()
    assert len(courses) == ps.courses.count_for_school(school)
    assert isinstance(ps.courses.get(courses[0].id), Course)


def test_named_and_generic_powerqueries(ps: acme_powerschool.api) -> None:
    flat = ps.powerqueries.students_flat(pagesize=40, prefetch=2).to_list()
    assert len(flat) == N and all(isinstance(r, FlatStudentRow) for r in flat)
    roster = ps.powerqueries.students_roster().to_list()
    assert [r.dcid for r in roster] == [r.dcid for r in flat]
    by_school = ps.powerqueries.students_by_school(schoolid=100, grade_levels=[9, 10]).to_list()
    assert by_school and all(
        isinstance(r, RosterRow) and r.grade_level in (9, 10) for r in by_school
    )
    assert ps.powerqueries.students_by_school(schoolid=100).count() >= len(by_school)
    section = ps.sections.for_school(100).first()
    assert section is not None
    rows = ps.powerqueries.section_roster(section_dcid=[section.id]).to_list()
    assert all(isinstance(r, SectionRosterRow) for r in rows)
    generic = ps.powerquery("com.acme.sdk.students.roster", pagesize=60).to_list()
    assert len(generic) == N and "students.dcid" in generic[0]
    frame = ps.powerquery("com.acme.sdk.students.flat").to_pandas()
    assert len(frame) == N


def test_schema_table_round_trip(ps: acme_powerschool.api) -> None:
    table = ps.table("u_studentsuserfields")
    before = table.count()
    rows = table.query(projection=["*"]).to_list()
    assert len(rows) == before
    written = table.insert({"studentsdcid": 3, "favorite_color": "teal", "bus_route": None})
    assert written.result and written.result[0].status == "SUCCESS"
    assert written.result[0].success_message is not None
    new_id = written.result[0].success_message.id
    assert new_id is not None
    assert table.get(new_id).values["favorite_color"] == "teal"
    table.update(new_id, {"favorite_color": "plum"})
    assert table.get(new_id)["favorite_color"] == "plum"
    assert table.count(q="favorite_color==plum") >= 1
    table.delete(new_id)
    with pytest.raises(NotFound):
        table.get(new_id)


def test_bulk_insert_and_update_report_each_item(sim: Simulator, ps: acme_powerschool.api) -> None:
    good = {
        "local_id": 990_000 + ps.students.count(),  # unique on each run against this module's sim
        "name": {"first_name": "Ada", "last_name": "Lovelace"},
        "school_enrollment": {
            "entry_date": "2025-08-19",
            "exit_date": "2026-06-05",
            "grade_level": 9,
            "school_number": 100,
        },
    }
    duplicate = StudentWrite(local_id=3, name=None)
    applied = sim.applied_client_uids()["1"]
    result = ps.students.bulk_insert([good, duplicate])
    statuses = {str(r.client_uid): r.status for r in result.result}
    assert statuses == {"1": "SUCCESS", "2": "ERROR"}
    assert sim.applied_client_uids()["1"] == applied + 1  # sent once
    new = next(r for r in result.result if r.status == "SUCCESS").success_message
    assert new is not None and new.id is not None
    updated = ps.students.bulk_update([{"id": new.id, "name": {"first_name": "Augusta"}}])
    assert updated.result[0].status == "SUCCESS"
    student = ps.students.get(new.id)
    assert student.name is not None and student.name.first_name == "Augusta"


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture],
)
@given(
    requested=st.none() | st.integers(1, 80),
    prefetch=st.integers(0, 3),
    progress=st.booleans(),
)
def test_pages_over_the_simulator_each_student_once_in_few_requests(
    sim: Simulator, ps: acme_powerschool.api, requested: int | None, prefetch: int, progress: bool
) -> None:
    ps.metadata()  # the once-per-client metadata request is not part of the bound
    total = ps.students.count()  # bulk tests may have added students
    sim.stats.reset()
    pager = ps.students.list(pagesize=requested, prefetch=prefetch)
    if progress:
        pager = pager.with_options(on_page=lambda done, total: None)
    ids = [s.id for s in pager]
    assert len(ids) == total and len(set(ids)) == total and ids == sorted(ids)
    size = min(requested or 50, 50)
    counts = route_count(sim, "GET /ws/v1/district/student/count")
    pages = route_count(sim, "GET /ws/v1/district/student") - counts
    # A reader stops at the first short page; a count (for prefetch or progress) adds one
    # request and never stops it early.
    assert pages == total // size + 1
    assert counts == (1 if prefetch or progress else 0)
    assert pages + counts <= math.ceil(total / size) + 1 + (total % size == 0)


def test_typed_helpers_raise_typed_errors(sim: Simulator, ps: acme_powerschool.api) -> None:
    with pytest.raises(AccessDenied) as denied:
        ps.powerquery(
            "com.pearson.core.attendance.daily_attendance_template", args={"studentid": 2}
        ).to_list()
    assert "<field" in denied.value.access_requests
    with pytest.raises(NotFound):
        ps.powerquery("com.acme.sdk.no.such.query").to_list()
    with pytest.raises(NotFound):
        ps.sections.enrollments(10**9).to_list()


def test_a_page_lost_to_a_fault_is_retried_and_nothing_is_lost_or_repeated(
    sim: Simulator, ps: acme_powerschool.api
) -> None:
    ps.metadata()
    total = ps.students.count()
    sim.inject("GET /ws/v1/district/student", "503", times=2)
    try:
        ids = [s.id for s in ps.students.list(prefetch=2)]
    finally:
        sim.clear_faults()
    assert len(ids) == total and len(set(ids)) == total


def test_a_truncated_body_is_a_response_format_error_or_retried(
    sim: Simulator, ps: acme_powerschool.api
) -> None:
    sim.inject("GET /ws/v1/student/{id}", "truncated", times=10)
    try:
        with pytest.raises((ResponseFormatError, ServerError)):
            ps.students.get(2)
    finally:
        sim.clear_faults()
