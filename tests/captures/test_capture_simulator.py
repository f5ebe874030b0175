"""Contract test, simulator side: asked each capture's request, the simulator answers the same shape.

Same status, same content type, and the same shape (capture_shape): the same keys at every
level, the same JSON types, the same single-versus-list forms. Values may differ.

The captures come from other districts, so their ids do not exist in the seeded district. Each
capture's request is replayed with its ids mapped to seeded ones (SIM_REQUESTS below, one line per
capture, saying what changed): students -> 2 (Brandon Adair), schools -> 100, staff -> 1,
sections -> 1, section enrollments -> 101, tables and PowerQueries the seed lacks -> the closest
one it has, with their column names compared as data (`wildcard`). This test talks plain HTTP
with `requests`, never the SDK: it checks the simulator against the captures, not the client.

One capture is one sample of real data, so unless a SimRequest is `strict` the corpus decides
what may vary (capture_evidence: a key some real record lacks may be missing, a key or type
another capture shows may be added); `one=True` accepts any real form for a one-record answer;
`values` names paths whose captured values (error codes, WARNING) must be answered too.

Where the simulator disagrees today, the capture is listed in EXPECTED_MISMATCHES with the
reason; those cases are xfail(strict=True), so fixing the simulator makes the test fail until
the entry is removed. A capture that passes must stay out of the dict.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from typing import Any

import attrs
import pytest
import requests
from capture_corpus import Capture, load_all
from capture_evidence import Evidence, kind
from capture_shape import compare, compare_xml

from acme_powerschool.testing import Simulator
from acme_powerschool.testing.dataversion import DataVersionOptions

CAPTURES = {c.name: c for c in load_all()}

_V1_EXPANSIONS = "demographics,addresses,alerts,phones,school_enrollment,ethnicity_race,contact,contact_info,initial_enrollment,schedule_setup,fees,lunch"
_STAFF_EXPANSIONS = "addresses,emails,phones,school_affiliations"
_TABLE = ("record[].tables", "record[].tables.*")  # table and column names are data
_FLAT = ("record[]",)  # a flattened query's columns are data


@attrs.frozen
class SimRequest:
    """What to send the simulator for one capture, and how to compare its answer."""

    method: str
    path: str
    query: Mapping[str, str] = attrs.field(factory=dict)
    body: Any = None
    auth: str = "token"  # token | none | bogus (unknown bearer) | basic | wrong (bad secret)
    accept: str = "application/json"
    sim: Mapping[str, Any] = attrs.field(factory=dict)  # Simulator keyword arguments
    wildcard: tuple[str, ...] = ()
    one: bool = False  # the answer is one record: any real form at each path will do
    strict: bool = (
        False  # the capture is complete: no other capture's evidence excuses a difference
    )
    values: tuple[str, ...] = ()  # paths whose capture values must all appear in the answer too
    why: str = "same request"


def _get(path: str, **kw: Any) -> SimRequest:
    return SimRequest("GET", path, **kw)


def _post(path: str, body: Any, **kw: Any) -> SimRequest:
    return SimRequest("POST", path, body=body, **kw)


def _insert(uid: str, local_id: str, school: str = "100", **extra: Any) -> dict[str, Any]:
    item: dict[str, Any] = {
        "client_uid": uid,
        "action": "INSERT",
        "local_id": local_id,
        "name": {"first_name": "Casey", "last_name": "Capture"},
        "school_enrollment": {
            "entry_date": "2025-08-18",
            "exit_date": "2026-06-05",
            "grade_level": 9,
            "school_number": school,
        },
    }
    item.update(extra)
    return item


SIM_REQUESTS: dict[str, SimRequest] = {
    # markroper/edpanel: school 3 -> 100, tables the seed lacks -> attendance / students
    "edp_district": _get("/ws/v1/district", one=True),
    "edp_schools": _get(
        "/ws/v1/district/school", query={"expansions": "school_boundary,school_fees_setup"}
    ),
    "edp_courses": _get(
        "/ws/v1/school/100/course",
        query={"pagesize": "3"},
        why="school 3 -> 100, 3 rows as captured",
    ),
    "edp_terms": _get(
        "/ws/v1/school/100/term", query={"pagesize": "3"}, why="school 3 -> 100, 3 rows as captured"
    ),
    "edp_sections": _get(
        "/ws/v1/school/100/section", query={"pagesize": "3"}, why="school 3 -> 100, 3 rows"
    ),
    "edp_staff": _get(
        "/ws/v1/school/100/staff",
        query={"expansions": _STAFF_EXPANSIONS, "pagesize": "30"},
        why="school 3 -> 100, a page big enough to hold every seeded form",
    ),
    "edp_students": _get(
        "/ws/v1/school/100/student",
        query={"expansions": _V1_EXPANSIONS, "pagesize": "30"},
        why="school 3 -> 100, 30 rows",
    ),
    "edp_schema_attendance": _get(
        "/ws/schema/table/attendance",
        query={"projection": "*", "pagesize": "2"},
        sim={"grants": [("attendance", "*")]},
        wildcard=_TABLE,
        why="no q (the seed's student ids differ), 2 rows, every attendance column granted; columns compared as strings",
    ),
    "edp_schema_cycle_day": _get(
        "/ws/schema/table/schools",
        query={"projection": "*", "pagesize": "2"},
        wildcard=_TABLE,
        why="cycle_day -> schools (not seeded); columns compared as strings",
    ),
    "edp_schema_students": _get(
        "/ws/schema/table/students",
        query={"projection": "dcid,id,grade_level", "pagesize": "2"},
        wildcard=_TABLE,
        why="projection reduced to seeded columns",
    ),
    "edp_schema_empty": _get(
        "/ws/schema/table/students",
        query={"projection": "dcid,id", "q": "id==99999999"},
        wildcard=_TABLE,
        why="ClassRank -> students, a q that matches nothing",
        strict=True,
    ),
    # LAS-IT/ps_utilities: student 5999/5011/5851 -> 2
    "psu_token": SimRequest(
        "POST",
        "/oauth/access_token",
        body="grant_type=client_credentials",
        auth="basic",
        strict=True,
    ),
    "psu_students_page": _get(
        "/ws/v1/district/student",
        query={"q": "student_username==a*", "page": "1", "pagesize": "2"},
        why="username filter t* -> a* (seeded usernames)",
    ),
    "psu_student_count": _get(
        "/ws/v1/district/student/count",
        query={"q": "school_enrollment.enroll_status_code==0"},
        strict=True,
    ),
    "psu_student_one_in_list": _get(
        "/ws/v1/district/student",
        query={"q": "id==2", "expansions": "school_enrollment"},
        one=True,
        why="id 5999 -> 2",
    ),
    "psu_student_extension": _get(
        "/ws/v1/student/2",
        query={"extensions": "u_studentsuserfields"},
        one=True,
        why="id 5011 -> 2; asks for the extension the capture shows",
    ),
    "psu_student_full": _get(
        "/ws/v1/student/2",
        query={"expansions": _V1_EXPANSIONS, "extensions": "u_studentsuserfields"},
        one=True,
        why="id 5851 -> 2",
    ),
    "psu_write_update_one": _post(
        "/ws/v1/student",
        {
            "students": {
                "student": [
                    {
                        "action": "UPDATE",
                        "id": "2",
                        "client_uid": "555807",
                        "contact_info": {"email": "casey@example.org"},
                    }
                ]
            }
        },
        why="id 7337 -> 2",
    ),
    "psu_write_insert_error": _post(
        "/ws/v1/student",
        {"students": {"student": [_insert("210987", "3")]}},
        values=("results.result.error_message.error.error_code",),
        why="local_id 3 exists in the seed (student 2's)",
    ),
    "psu_write_insert_two": _post(
        "/ws/v1/student",
        {"students": {"student": [_insert("555807", "555807"), _insert("555808", "555808")]}},
        why="school 33 -> 100",
    ),
    # dougpenny/SwiftyPSCore: school 2 -> 100, PowerQueries -> the seed's flattened one
    "swift_powerquery_flat_students": _post(
        "/ws/schema/query/com.acme.sdk.students.flat",
        {},
        query={"pagesize": "2"},
        wildcard=_FLAT,
        why="class roster -> com.acme.sdk.students.flat",
        strict=True,
    ),
    "swift_powerquery_flat_sections": _post(
        "/ws/schema/query/com.acme.sdk.students.flat",
        {},
        query={"pagesize": "1"},
        wildcard=_FLAT,
        why="sections query -> com.acme.sdk.students.flat, one row",
    ),
    "swift_courses": _get(
        "/ws/v1/school/100/course",
        query={"pagesize": "2"},
        why="school 2 -> 100; the fixture's 1-element array read as a trimmed page, so 2 rows",
    ),
    "swift_schools": _get(
        "/ws/v1/district/school",
        query={"pagesize": "2"},
        why="the fixture's 1-element array read as a trimmed page, so 2 rows",
    ),
    "swift_sections": _get(
        "/ws/v1/school/100/section",
        query={"pagesize": "2"},
        why="school 2 -> 100; 1-element array read as a trimmed page",
    ),
    "swift_student_one_in_list": _get(
        "/ws/v1/district/student",
        query={"q": "local_id==3", "expansions": "demographics,addresses,phones"},
        one=True,
        why="local_id 12345 -> 3",
    ),
    "swift_count": _get("/ws/v1/school/100/student/count", why="school 2 -> 100", strict=True),
    # grantholle/powerschool-api
    "php_dataversion_changes": _get(
        "/ws/dataversion/myapp/0",
        sim={"data_versions": DataVersionOptions(subscriptions={"myapp": ("users",)})},
        wildcard=("tables",),
        why="version 12345 -> 0 (every change since the start); 'myapp' subscribed to users; "
        "table names are data",
        strict=True,
    ),
    "php_powerquery_count_true": _post(
        "/ws/schema/query/com.acme.sdk.students.roster",
        {},
        query={"count": "true", "pagesize": "1"},
        why="guardian query -> com.acme.sdk.students.roster",
        strict=True,
    ),
    "php_401_expired_token": _get(
        "/ws/schema/table/students/1",
        query={"projection": "*"},
        auth="bogus",
        why="u_table -> students; an unknown bearer token",
        strict=True,
    ),
    "php_powerquery_flat_users": _post(
        "/ws/schema/query/com.acme.sdk.students.flat",
        {},
        query={"pagesize": "2"},
        wildcard=_FLAT,
        why="users query -> com.acme.sdk.students.flat",
    ),
    "php_students_expansions_newer": _get("/ws/v1/district/student", query={"pagesize": "2"}),
    # strongmind-powerschool-client (PyPI sdist)
    "sm_write_insert_errors": _post(
        "/ws/v1/student",
        {
            "students": {
                "student": [
                    {
                        "client_uid": "1245",
                        "action": "INSERT",
                        "local_id": "1245",
                        "name": {"first_name": "Casey", "last_name": "Capture"},
                        "school_enrollment": {"grade_level": 9, "school_number": "abcdefghijkl"},
                    },
                    {
                        "client_uid": "1246",
                        "action": "INSERT",
                        "local_id": "1246",
                        "name": {"first_name": "Casey", "last_name": "Capture"},
                        "school_enrollment": {"grade_level": 9, "school_number": "abc"},
                    },
                ]
            }
        },
        values=("results.result[].error_message.error[].error_code",),
        why="two such items, so 'result' is a list as in the capture",
    ),
    "sm_write_warning": _post(
        "/ws/v1/student",
        {"students": {"student": _insert("100", "100100", school="700")}},
        values=("results.result.status",),
        why="local_id 100 -> 100100; school 700, where fee assessment fails (fee_warning_schools)",
    ),
    "sm_write_insert_two": _post(
        "/ws/v1/student",
        {"students": {"student": [_insert("124", "124124"), _insert("1245", "124500")]}},
    ),
    "sm_section_enrollment": _get("/ws/v1/section_enrollment/101", one=True, why="id 962 -> 101"),
    "sm_staff_one_affiliation": _get(
        "/ws/v1/staff/1", query={"expansions": _STAFF_EXPANSIONS}, one=True, why="id 65 -> 1"
    ),
    "sm_staff_two_affiliations": _get(
        "/ws/v1/staff/1",
        query={"expansions": _STAFF_EXPANSIONS},
        one=True,
        why="id 67 -> 1: no seeded staff member has two affiliations",
    ),
    "sm_staff_minimal": _get(
        "/ws/v1/staff/1", query={"expansions": _STAFF_EXPANSIONS}, one=True, why="id 111 -> 1"
    ),
    "sm_student_races_list": _get(
        "/ws/v1/student/2", query={"expansions": _V1_EXPANSIONS}, one=True, why="id 156 -> 2"
    ),
    "sm_powerquery_flat_no_name": _post(
        "/ws/schema/query/com.acme.sdk.students.flat",
        {},
        query={"pagesize": "1"},
        wildcard=_FLAT,
        why="contacts query -> com.acme.sdk.students.flat",
    ),
    "sm_powerquery_empty": _post(
        "/ws/schema/query/com.acme.sdk.students.flat",
        {"$q": "last_name==Zzzzzzzz"},
        why="a $q that matches nothing",
        strict=True,
    ),
    "sm_token_invalid_client": SimRequest(
        "POST",
        "/oauth/access_token",
        body="grant_type=client_credentials",
        auth="wrong",
        why="a wrong client secret",
    ),
    "sm_powerquery_400": _post(
        "/ws/schema/query/com.acme.sdk.students.flat", {"$q": "invalid data"}, strict=True
    ),
    # alank47/Wildcat-Raffle: log/gen -> attendance (granted only on studentid by default)
    "wch_schema_count": _get(
        "/ws/schema/table/attendance/count", why="log -> attendance", strict=True
    ),
    "wch_schema_403_noaccess": _get(
        "/ws/schema/table/attendance/count",
        query={"q": "schoolid==100"},
        sim={"grants": [("students", "*")]},
        why="log -> attendance, ungranted",
        strict=True,
    ),
    "wch_schema_403_projection": _get(
        "/ws/schema/table/attendance",
        query={"projection": "att_date"},
        sim={"grants": [("students", "*")]},
        why="log.entry_date -> attendance.att_date, ungranted; not strict: the capture looks abbreviated (no message)",
    ),
    "wch_schema_400_invalid_field": _get(
        "/ws/schema/table/students",
        query={"projection": "zzz_definitely_not_a_column"},
        strict=True,
    ),
    "wch_v1_401_access_level": _get(
        "/ws/v1/school/100/student",
        sim={"v1_access": None},
        why="school 1817 -> 100, plugin without accessLevelV1Api",
        strict=True,
    ),
    "wch_schema_405_teachers": _get(
        "/ws/schema/table/teachers", query={"projection": "id"}, strict=True
    ),
    "wch_schema_400_invalid_number": _get(
        "/ws/schema/table/students/count",
        query={"q": "grade_level==x"},
        why="log.entry_time -> students.grade_level",
        strict=True,
    ),
    "wch_schema_400_clob": _get(
        "/ws/schema/table/students/count",
        query={"q": "transcriptaddrline1==x"},
        why="log.entry (a CLOB) -> none seeded: the simulator has no CLOB column",
        strict=True,
    ),
    # carbm1/PSPowerSchoolAPI
    "ps1_powerquery_403": _post(
        "/ws/schema/query/com.pearson.core.attendance.daily_attendance_template",
        {},
        why="AD-sync query -> the seed's query with ungranted fields",
        strict=True,
    ),
    # easyregpro.com: the original acme_powerschool README (the applegrove demo server)
    "acme_student_2": _get("/ws/v1/student/2", one=True),
    "acme_student_2_contact_info": _get(
        "/ws/v1/student/2", query={"expansions": "contact_info"}, one=True
    ),
    "acme_write_update_email": _post(
        "/ws/v1/student",
        {
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
        },
    ),
    "acme_schools_xml": _get("/ws/v1/district/school", accept="application/xml"),
    # mennotech/powerschool-api-docs
    "menno_metadata": _get("/ws/v1/metadata", strict=True),
    # drupalgirl.com
    "drupal_token": SimRequest(
        "POST",
        "/oauth/access_token",
        body="grant_type=client_credentials",
        auth="basic",
        strict=True,
    ),
}

# Capture name -> why the simulator's answer differs today. Each entry is an xfail(strict=True).
EXPECTED_MISMATCHES: dict[str, str] = {
    "sm_token_invalid_client": "the simulator adds error_description to the 401 (ledfree/powerschool-api reads one; this mock has none): weak evidence both ways, the simulator may keep it and this entry",
}


def _media_type(value: str | None) -> str | None:
    return None if value is None else value.split(";")[0].strip().lower() or None


@attrs.frozen
class Answer:
    status: int
    content_type: str | None
    body: Any
    headers: Mapping[str, str]


def ask(sim: Simulator, spec: SimRequest) -> Answer:
    """Send `spec` to `sim` the way PowerSchool clients do (JSON, a fresh token)."""
    headers = {"Accept": spec.accept}
    auth: tuple[str, str] | None = None
    if spec.auth in ("basic", "wrong"):
        secret = sim.client_secret if spec.auth == "basic" else "not-the-secret"
        auth = (sim.client_id, secret)
        headers["Content-Type"] = "application/x-www-form-urlencoded;charset=UTF-8"
    elif spec.auth == "bogus":
        headers["Authorization"] = "Bearer 00000000-0000-0000-0000-000000000000"
    elif spec.auth == "token":
        headers["Authorization"] = f"Bearer {sim.issue_token()}"
    kwargs: dict[str, Any] = {}
    if isinstance(spec.body, str):
        kwargs["data"] = spec.body
    elif spec.body is not None:
        kwargs["json"] = spec.body
    r = requests.request(
        spec.method,
        sim.base_url + spec.path,
        params=dict(spec.query),
        headers=headers,
        auth=auth,
        timeout=30,
        allow_redirects=False,
        **kwargs,
    )
    try:
        body: Any = r.json() if r.content else None
    except ValueError:
        body = r.text
    return Answer(r.status_code, _media_type(r.headers.get("Content-Type")), body, r.headers)


def answer_kind(capture: Capture) -> str:
    return kind(capture.method, capture.path, capture.status)


def corpus_evidence() -> Evidence:
    """What every capture (with its own wildcards) shows about each resource."""
    evidence = Evidence()
    for name, capture in CAPTURES.items():
        spec = SIM_REQUESTS.get(name)
        evidence.add(
            answer_kind(capture), capture.body, spec.wildcard if spec else (), capture.elided
        )
    return evidence


def values_at(body: Any, path: str) -> set[str]:
    """Every scalar at `path` (capture_shape notation, single objects and lists alike)."""
    found: set[str] = set()

    def walk(value: Any, rest: list[str]) -> None:
        if isinstance(value, list):
            for item in value:
                walk(item, rest)
        elif not rest:
            found.add(json.dumps(value))
        elif isinstance(value, Mapping) and rest[0] in value:
            walk(value[rest[0]], rest[1:])

    walk(body, path.replace("[]", "").split("."))
    return found


EVIDENCE = corpus_evidence()


def problems(capture: Capture, spec: SimRequest, answer: Answer) -> list[str]:
    """Every way `answer` differs from `capture`: status, content type, shape, named headers."""
    found = []
    if answer.status != capture.status:
        found.append(f"status: capture {capture.status}, got {answer.status}")
    want_type = _media_type(capture.content_type)
    if want_type is not None and answer.content_type != want_type:
        found.append(f"content type: capture {want_type}, got {answer.content_type}")
    for name in capture.response.get("headers", {}):
        if name not in answer.headers:
            found.append(f"header {name}: missing")
    if isinstance(capture.body, str) and want_type == "application/xml":
        found.extend(compare_xml(capture.body, answer.body if isinstance(answer.body, str) else ""))
        return found
    k = answer_kind(capture)
    evidence: dict[str, Any] = {}
    if not spec.strict:
        evidence = {
            "may_lack": lambda path: EVIDENCE.may_lack(k, path),
            "may_add": lambda path, t: EVIDENCE.may_add(k, path, t),
        }
    found.extend(
        str(d)
        for d in compare(
            capture.body,
            answer.body,
            elided=capture.elided,
            wildcard=spec.wildcard,
            one_form=spec.one,
            **evidence,
        )
    )
    for path in spec.values:
        missing = values_at(capture.body, path) - values_at(answer.body, path)
        if missing:
            found.append(f"{path}: values {sorted(missing)} never answered")
    return found


@pytest.fixture(scope="module")
def shared_capture_sim() -> Iterator[Simulator]:
    """One simulator for the read-only captures (writes and option changes get their own)."""
    with Simulator(students=60, seed=1) as sim:
        yield sim


def _cases() -> list[Any]:
    cases = []
    for name in sorted(CAPTURES):
        marks = []
        if name in EXPECTED_MISMATCHES:
            marks.append(pytest.mark.xfail(reason=EXPECTED_MISMATCHES[name], strict=True))
        cases.append(pytest.param(name, marks=marks, id=name))
    return cases


def test_every_capture_has_a_simulator_request() -> None:
    assert sorted(SIM_REQUESTS) == sorted(CAPTURES)
    assert set(EXPECTED_MISMATCHES) <= set(CAPTURES)


@pytest.mark.parametrize("name", _cases())
def test_simulator_answers_the_capture_shape(name: str, shared_capture_sim: Simulator) -> None:
    capture, spec = CAPTURES[name], SIM_REQUESTS[name]
    if spec.sim or spec.method != "GET":
        with Simulator(students=60, seed=1, **spec.sim) as sim:
            answer = ask(sim, spec)
    else:
        answer = ask(shared_capture_sim, spec)
    found = problems(capture, spec, answer)
    assert not found, f"{name} ({spec.why}):\n  " + "\n  ".join(found)
