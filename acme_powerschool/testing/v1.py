"""The simulator's /oauth and /ws/v1 routes: tokens, metadata, time, reads and student writes.

Handlers are plain functions (Simulator, Request) -> Reply registered with `route`; answer shapes
come from the fact sheet §1-3 and §6 only. Nothing here may import the client side of the package.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime
import functools
import random
import re
import time
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import parse_qs

from acme_powerschool.testing import options, wire
from acme_powerschool.testing.district import (
    DISTRICT_EXPANSIONS,
    SCHOOL_EXPANSIONS,
    SECTION_EXPANSIONS,
    STAFF_EXPANSIONS,
    STUDENT_EXPANSIONS,
    STUDENT_EXTENSIONS,
    District,
    Json,
    School,
    is_digits,
    mix_seed,
    seeded_uuid,
)
from acme_powerschool.testing.qfilter import Clause, QError, matches, parse_q
from acme_powerschool.testing.routing import (
    Reply,
    Request,
    Write,
    fail,
    route,
)
from acme_powerschool.testing.state import State
from acme_powerschool.testing.tables import (
    extension_row_for,
)

# The resources with a max page size of their own: metadata reports `<kind>_max_page_size`.
PAGE_SIZE_KINDS = options.PAGE_SIZE_KINDS

# =====================================================================================
# OAuth, metadata, time
# =====================================================================================


def _token(sim: State, req: Request) -> Reply:
    scheme, _, encoded = req.headers.get("authorization", "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
    except ValueError:
        client_id = secret = ""
    if scheme.lower() != "basic" or not sim.check_client(client_id, secret):
        body = {"error": "invalid_client", "error_description": "Bad client credentials"}
        return Reply(401, body)
    form = dict(req.query)
    with contextlib.suppress(UnicodeDecodeError):
        form.update({k: v[-1] for k, v in parse_qs(req.body.decode("utf-8")).items()})
    grant = form.get("grant_type")
    if grant != "client_credentials":
        desc = "grant_type must be client_credentials" if grant else "Missing grant_type"
        error = "unsupported_grant_type" if grant else "invalid_request"
        return Reply(400, {"error": error, "error_description": desc})
    token, remaining = sim.token_for_client()
    return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": str(remaining)})


route("POST", "/oauth/access_token", authorized=False)(_token)


@route("GET", "/ws/v1/metadata", authorized=False)
def _metadata(sim: State, req: Request) -> Reply:
    meta: Json = {f"{kind}_max_page_size": sim.page_size(kind) for kind in PAGE_SIZE_KINDS}
    uptime = f"{int(time.time() - sim.started_at)} seconds"
    meta.update(
        {
            "machine_uptime": uptime,
            "mobile_api_version": "1.0",
            "powerschool_uptime": uptime,
            "powerschool_version": "25.2.0.0",
            "state_reporting_version": "25.2.0",
            "state": "MA",
            "district_timezone": "America/New_York",
            "district_uuid": seeded_uuid(random.Random(mix_seed(sim.seed, 96))),
            "sso_enabled_admin": "false",
            "sso_enabled_guardian": "false",
            "sso_enabled_student": "false",
            "sso_enabled_teacher": "false",
        }
    )
    # plugin_id only with a valid token: clients use it as a token-validity check (§2.4).
    if sim.token_problem(req.headers.get("authorization", "")) is None:
        meta["plugin_id"] = sim.plugin_id
    return Reply(200, {"metadata": dict(sorted(meta.items()))})


@route("GET", "/ws/v1/time", authorized=False)
def _time(sim: State, req: Request) -> Reply:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + "Z"
    return Reply(200, {"resource": {"time": stamp, "timestamp": int(now * 1000)}})


# =====================================================================================
# /ws/v1 reads
# =====================================================================================


def _requested(req: Request, offered: tuple[str, ...], name: str = "expansions") -> list[str]:
    wanted = {w.strip().lower() for w in req.query.get(name, "").split(",") if w.strip()}
    return [o for o in offered if o in wanted]


def _keys(sim: State, offered: tuple[str, ...], ext: str | None) -> tuple[str | None, str | None]:
    """The "@expansions" and "@extensions" values; None leaves the key out. Real terms, courses
    and section enrollments (which offer no expansions) carry no "@expansions" (captures
    edp_terms, edp_courses, sm_section_enrollment); `always_expansions` sends it anyway."""
    if not offered and not sim.behaviour.always_expansions:
        return None, ext
    return ", ".join(offered), ext


def _one(
    sim: State, singular: str, item: Json | None, offered: tuple[str, ...], ext: str | None = ""
) -> Reply:
    if item is None:
        raise fail(404, f"The {singular} was not found")
    return Reply(200, wire.v1_one(singular, item, *_keys(sim, offered, ext)))


def _list(
    sim: State,
    plural: str,
    singular: str,
    items: list[Json],
    offered: tuple[str, ...],
    ext: str | None = "",
) -> Reply:
    return Reply(200, wire.v1_list(plural, singular, items, *_keys(sim, offered, ext)))


def _count(n: int) -> Reply:
    return Reply(200, wire.v1_count(n))


def _school(sim: State, req: Request) -> Any:
    school = sim.district.school_by_id.get(req.int_param("id"))
    if school is None:
        raise fail(404, "The school was not found")
    return school


@route("GET", "/ws/v1/district")
def _district(sim: State, req: Request) -> Reply:
    blocks = _requested(req, DISTRICT_EXPANSIONS)
    # No "@extensions" on the district (capture edp_district).
    return _one(sim, "district", sim.district.district(blocks), DISTRICT_EXPANSIONS, None)


def _schools_list(sim: State, req: Request) -> Reply:
    offset, limit = sim.paging(req, "school")
    blocks = _requested(req, SCHOOL_EXPANSIONS)
    ids = [s.id for s in sim.district.schools][offset : offset + limit]
    items = [sim.district.school(i, blocks) for i in ids]
    return _list(sim, "schools", "school", [i for i in items if i], SCHOOL_EXPANSIONS)


route("GET", "/ws/v1/district/school")(_schools_list)
route("GET", "/ws/v1/school")(_schools_list)


@route("GET", "/ws/v1/district/school/count")
def _schools_count(sim: State, req: Request) -> Reply:
    return _count(len(sim.district.schools))


@route("GET", "/ws/v1/school/{id}")
def _school_one(sim: State, req: Request) -> Reply:
    blocks = _requested(req, SCHOOL_EXPANSIONS)
    school = sim.district.school(_school(sim, req).id, blocks)
    return _one(sim, "school", school, SCHOOL_EXPANSIONS)


# ----- students -----

_STUDENT_CORE = ("id", "local_id", "student_username", "state_province_id", "name")
# The fields `q` may name on each list (dotted paths start with one of them): the record's own
# fields and its expansion blocks (fact sheet §3.3, §3.4).
_FIELDS = {
    "student": _STUDENT_CORE + STUDENT_EXPANSIONS,
    "staff": ("id", "local_id", "admin_username", "teacher_username", "name", *STAFF_EXPANSIONS),
    "section": (
        "id", "school_id", "course_id", "term_id", "section_number", "expression", "staff_id",
        *SECTION_EXPANSIONS,
    ),
    "term": (
        "id", "school_id", "start_year", "portion", "start_date", "end_date", "abbreviation",
        "name",
    ),
    "course": ("id", "course_number", "course_name"),
    "section_enrollment": ("id", "section_id", "student_id", "entry_date", "exit_date", "dropped"),
}  # fmt: skip


def _clauses(req: Request, kind: str) -> list[Clause]:
    """The parsed `q` of a /ws/v1 list or count; 400 for bad syntax or an unknown field."""
    raw = req.query.get("q", "")
    try:
        clauses = parse_q(raw) if raw else []
    except QError as exc:
        raise fail(400, str(exc)) from None
    for c in clauses:
        if c.field.split(".")[0].lower() not in _FIELDS[kind]:
            raise fail(400, f"Invalid field specified: {c.field}")
    return clauses


def _blocks_for(clauses: list[Clause], offered: tuple[str, ...]) -> list[str]:
    """The expansion blocks a filter reads (a record is fetched with them to be matched)."""
    return sorted({c.field.split(".")[0].lower() for c in clauses} & set(offered))


def _matches_all(rec: Json, clauses: list[Clause]) -> bool:
    return all(matches(c, _dig(rec, c.field)) for c in clauses)


def _dig(rec: Any, path: str) -> Any:
    for part in path.lower().split("."):
        if not isinstance(rec, dict):
            return None
        rec = rec.get(part)
    return rec


def _student_candidates(sim: State, clauses: list[Clause]) -> list[int] | None:
    """A short list of dcids when an equality clause pins the student down, else None."""
    d = sim.district
    for c in clauses:
        if c.op != "==" or any("*" in v for v in c.values):
            continue
        field = c.field.lower()
        if field == "id":
            return sorted({int(v) for v in c.values if is_digits(v) and d.student_exists(int(v))})
        if field == "local_id":
            found = {d.student_by_local_id(v) for v in c.values}
            return sorted(x for x in found if x is not None)
        if field == "student_username":
            out = set()
            for v in c.values:
                digits = re.search(r"(\d+)$", v)
                if v.lower() == "ag1student1":
                    out.add(2)
                if digits:
                    owner = d.student_by_local_id(digits.group(1))
                    if owner is not None:
                        out.add(owner)
                out.update(d.student_overrides)  # written usernames follow no formula
            return sorted(out)
    return None


def _matching_students(sim: State, source: Iterable[int], clauses: list[Clause]) -> list[int]:
    blocks = _blocks_for(clauses, STUDENT_EXPANSIONS)
    out = []
    for dcid in source:
        rec = sim.district.student(dcid, blocks)
        if rec is not None and _matches_all(rec, clauses):
            out.append(dcid)
    return out


def _student_ids(sim: State, req: Request, school_id: int | None) -> tuple[list[int], int]:
    """(this page's dcids, total matching) for a district or school student list."""
    d = sim.district
    clauses = _clauses(req, "student")
    offset, limit = sim.paging(req, "student")
    school = d.school_by_id[school_id] if school_id is not None else None
    if not clauses:
        if school is None:
            return d.student_id_page(offset, limit), d.student_count
        roster = d.school_students(school)
        return roster[offset : offset + limit], len(roster)
    candidates = _student_candidates(sim, clauses)
    source: Iterable[int]
    if candidates is not None:
        source = candidates
        if school is not None:
            source = [i for i in candidates if d.school_of_student(i).id == school.id]
    else:
        source = d.student_ids() if school is None else d.school_students(school)
    found = _matching_students(sim, source, clauses)
    return found[offset : offset + limit], len(found)


def _student_items(sim: State, req: Request, ids: list[int]) -> list[Json]:
    blocks = _requested(req, STUDENT_EXPANSIONS)
    extensions = _requested(req, STUDENT_EXTENSIONS, "extensions")
    items = []
    for dcid in ids:
        rec = sim.district.student(dcid, blocks)
        if rec is None:
            continue
        if extensions:
            tables = [_extension_block(sim, dcid, rec, name) for name in extensions]
            rec = {"_extension_data": {"_table_extension": wire.one_or_many(tables)}, **rec}
        items.append(rec)
    return items


def _extension_row(sim: State, dcid: int, rec: Json, name: str) -> dict[str, str] | None:
    """The row an advertised extension holds for a student: u_studentsuserfields from its
    table (written rows included), studentcorefields the legal name, the others nothing."""
    if name == "u_studentsuserfields":
        return extension_row_for(sim.tables["u_studentsuserfields"], dcid)
    if name == "studentcorefields":
        full = sim.district.student(dcid, ("demographics",)) or {}
        demographics = full.get("demographics") or {}
        return {
            "pscore_legal_first_name": str(rec["name"].get("first_name", "")),
            "pscore_legal_last_name": str(rec["name"].get("last_name", "")),
            "pscore_legal_gender": str(demographics.get("gender", "")),
        }
    return None


def _extension_block(sim: State, dcid: int, rec: Json, name: str) -> Json:
    """One `_table_extension` (psu_student_extension): `_field` is always an array."""
    row = _extension_row(sim, dcid, rec, name)
    skip = ("id", "studentsdcid", "whenmodified")
    fields = [
        {"name": k, "type": "String", "value": v}
        for k, v in (row or {}).items()
        if k not in skip and v != ""
    ]
    block: Json = {"recordFound": row is not None, "name": name}
    if fields:
        block["_field"] = fields
    return block


_EXT = ",".join(STUDENT_EXTENSIONS)


def _students_list(sim: State, req: Request, school_id: int | None) -> Reply:
    ids, _ = _student_ids(sim, req, school_id)
    items = _student_items(sim, req, ids)
    return _list(sim, "students", "student", items, STUDENT_EXPANSIONS, _EXT)


def _students_count(sim: State, req: Request, school_id: int | None) -> Reply:
    if not req.query.get("q"):
        d = sim.district
        n = (
            d.student_count
            if school_id is None
            else len(d.school_students(d.school_by_id[school_id]))
        )
        return _count(n)
    req.query["page"], req.query["pagesize"] = "1", "1"
    return _count(_student_ids(sim, req, school_id)[1])


route("GET", "/ws/v1/district/student")(lambda sim, req: _students_list(sim, req, None))
route("GET", "/ws/v1/student")(lambda sim, req: _students_list(sim, req, None))
route("GET", "/ws/v1/district/student/count")(lambda sim, req: _students_count(sim, req, None))


@route("GET", "/ws/v1/school/{id}/student")
def _school_students(sim: State, req: Request) -> Reply:
    return _students_list(sim, req, _school(sim, req).id)


@route("GET", "/ws/v1/school/{id}/student/count")
def _school_students_count(sim: State, req: Request) -> Reply:
    return _students_count(sim, req, _school(sim, req).id)


@route("GET", "/ws/v1/student/{id}")
def _student_one(sim: State, req: Request) -> Reply:
    dcid = req.int_param("id")
    items = _student_items(sim, req, [dcid]) if sim.district.student_exists(dcid) else []
    return _one(sim, "student", items[0] if items else None, STUDENT_EXPANSIONS, _EXT)


# ----- staff, sections, terms, courses, enrollments -----


def _course_ids(d: District, school: School) -> list[int]:
    """A school's courses, sorted by course number (fact sheet §3.1)."""
    courses = [c for c in (d.course(i) for i in d.course_ids(school)) if c]
    return [c["id"] for c in sorted(courses, key=lambda c: c["course_number"])]


# kind -> (the ids of a school's records, one record with the requested blocks)
_CHILDREN: dict[
    str,
    tuple[
        Callable[[District, School], list[int]],
        Callable[[District, int, list[str]], Json | None],
    ],
] = {
    "staff": (lambda d, s: list(d.staff_ids(s)), lambda d, i, b: d.staff(i, b)),
    "section": (lambda d, s: list(d.section_ids(s)), lambda d, i, b: d.section(i, b)),
    "term": (lambda d, s: list(d.term_ids(s)), lambda d, i, b: d.term(i)),
    "course": (_course_ids, lambda d, i, b: d.course(i)),
}


def _school_children(kind: str, plural: str, expansions: tuple[str, ...]) -> None:
    list_ids, get = _CHILDREN[kind]

    def ids_of(sim: State, req: Request) -> list[int]:
        return list_ids(sim.district, _school(sim, req))

    def fetch(sim: State, ident: int, blocks: list[str]) -> Json | None:
        return get(sim.district, ident, blocks)

    def matching(sim: State, req: Request) -> list[int]:
        ids = ids_of(sim, req)
        clauses = _clauses(req, kind)
        if not clauses:
            return ids
        blocks = _blocks_for(clauses, expansions)
        records = ((i, fetch(sim, i, blocks)) for i in ids)
        return [i for i, rec in records if rec is not None and _matches_all(rec, clauses)]

    def listing(sim: State, req: Request) -> Reply:
        ids = matching(sim, req)
        offset, limit = sim.paging(req, kind)
        blocks = _requested(req, expansions)
        page = ids[offset : offset + limit]
        items = [x for x in (fetch(sim, i, blocks) for i in page) if x is not None]
        return _list(sim, plural, kind, items, expansions)

    def count(sim: State, req: Request) -> Reply:
        return _count(len(matching(sim, req)))

    def one(sim: State, req: Request) -> Reply:
        item = fetch(sim, req.int_param("id"), _requested(req, expansions))
        return _one(sim, kind, item, expansions)

    route("GET", f"/ws/v1/school/{{id}}/{kind}")(listing)
    route("GET", f"/ws/v1/school/{{id}}/{kind}/count")(count)
    route("GET", f"/ws/v1/{kind}/{{id}}")(one)


_school_children("staff", "staffs", STAFF_EXPANSIONS)
_school_children("section", "sections", SECTION_EXPANSIONS)
_school_children("term", "terms", ())
_school_children("course", "courses", ())


def _section_for(sim: State, req: Request) -> int:
    section_id = req.int_param("id")
    if sim.district.section(section_id) is None:
        raise fail(404, "The section was not found")
    return section_id


def _matching_enrollments(sim: State, req: Request) -> list[Json]:
    rows = sim.district.section_enrollments(_section_for(sim, req))
    clauses = _clauses(req, "section_enrollment")
    return [r for r in rows if _matches_all(r, clauses)]


@route("GET", "/ws/v1/section/{id}/section_enrollment")
def _enrollments(sim: State, req: Request) -> Reply:
    rows = _matching_enrollments(sim, req)
    offset, limit = sim.paging(req, "section_enrollment")
    page = rows[offset : offset + limit]
    return _list(sim, "section_enrollments", "section_enrollment", page, ())


@route("GET", "/ws/v1/section/{id}/section_enrollment/count")
def _enrollments_count(sim: State, req: Request) -> Reply:
    return _count(len(_matching_enrollments(sim, req)))


@route("GET", "/ws/v1/section_enrollment/{id}")
def _enrollment_one(sim: State, req: Request) -> Reply:
    item = sim.district.section_enrollment(req.int_param("id"))
    return _one(sim, "section_enrollment", item, ())


# =====================================================================================
# POST /ws/v1/student: bulk INSERT / UPDATE (§6)
# =====================================================================================

_INSERT_REQUIRED = (
    ("local_id",),
    ("name", "first_name"),
    ("name", "last_name"),
    ("school_enrollment", "entry_date"),
    ("school_enrollment", "exit_date"),
    ("school_enrollment", "grade_level"),
    ("school_enrollment", "school_number"),
)
_UPDATABLE_BLOCKS = (
    "name", "demographics", "addresses", "alerts", "phones", "ethnicity_race", "contact",
    "contact_info", "initial_enrollment", "schedule_setup", "lunch",
)  # fmt: skip


def _item_error(field: str, code: str, description: str) -> Json:
    return {"field": field, "error_code": code, "error_description": description}


_SCALAR_FIELDS = ("local_id", "student_username", "state_province_id")
_GRADE = re.compile(r"-?[0-9]{1,2}")


def _is_scalar(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool))


def _shape_errors(item: Json, current: Json) -> list[Json]:
    """INVALID_FIELD errors for values of the wrong shape, found before anything is applied.

    An id-like field is a string or a number; a block is an object; inside a block a value keeps
    the shape it has in `current` (object, list or scalar), and `name` holds scalars only. A
    stored `"name":"x"` would break every later read of the student.
    """
    errors = []
    for key in _SCALAR_FIELDS:
        value = item.get(key)
        if key in item and (isinstance(value, bool) or not isinstance(value, (str, int))):
            errors.append(
                _item_error(f"student/{key}", "INVALID_FIELD", f"{key} must be a string.")
            )
    for block in ("school_enrollment", *_UPDATABLE_BLOCKS):
        value = item.get(block)
        if block not in item:
            continue
        if block != "name" or not isinstance(value, dict):
            errors.extend(_block_errors(f"student/{block}", value, current.get(block)))
            continue
        errors.extend(
            _item_error(f"student/name/{k}", "INVALID_FIELD", f"{k} must be a string.")
            for k, v in value.items()
            if not _is_scalar(v)
        )
    return errors


def _block_errors(field: str, value: Any, current: Any) -> list[Json]:
    name = field.rsplit("/", 1)[-1]
    if not isinstance(value, dict):
        return [_item_error(field, "INVALID_FIELD", f"{name} must be an object.")]
    errors = []
    for k, v in value.items():
        cur = current.get(k) if isinstance(current, dict) else None
        if isinstance(v, dict):
            if cur is not None and not isinstance(cur, dict):
                errors.append(
                    _item_error(f"{field}/{k}", "INVALID_FIELD", f"{k} must not be an object.")
                )
            else:
                errors.extend(_block_errors(f"{field}/{k}", v, cur))
        elif isinstance(v, list) != isinstance(cur, list) or isinstance(cur, dict):
            errors.append(_item_error(f"{field}/{k}", "INVALID_FIELD", f"{k} has the wrong type."))
    return errors


@functools.cache
def _reference_blocks() -> Json:
    """Each student block as the generator makes it when it is not empty: the shapes written
    blocks are checked against (a student's own block may be "" and tell nothing)."""
    d = District(students=60, schools=1, seed=1)
    found: Json = {}
    for dcid in range(1, 61):
        for block in STUDENT_EXPANSIONS:
            value = d.student(dcid, (block,))
            if block not in found and value is not None and isinstance(value[block], dict):
                found[block] = value[block]
    return found


def _shape_template(current: Json | None) -> Json:
    """The shapes a write is checked against: the student's own blocks over the reference."""
    blocks = {k: v for k, v in (current or {}).items() if isinstance(v, dict)}
    return {**_reference_blocks(), **blocks}


def _merge(target: Json, block: str, value: Any) -> None:
    current = target.get(block)
    if isinstance(value, dict) and isinstance(current, dict):
        for k, v in value.items():
            if isinstance(v, dict) and isinstance(current.get(k), dict):
                _merge(current, k, v)
            else:
                current[k] = v
    else:
        target[block] = value


def _missing(item: Json) -> list[Json]:
    """REQUIRED errors for an INSERT, as captured (sm_write_insert_errors)."""
    errors = []
    for path in _INSERT_REQUIRED:
        value = _dig(item, ".".join(path))
        if value is None or value == "":
            field = "student/" + "/".join(path)
            errors.append(_item_error(field, "REQUIRED", "No data submitted for required element"))
    return errors


def _field_errors(item: Json) -> list[Json]:
    """FIELD_VALIDATION_ERROR items: a school_number that is no whole number of at most 10
    characters (one error per rule broken, as captured), a birth_date that is no date."""
    errors = []
    number = _dig(item, "school_enrollment.school_number")
    if number not in (None, ""):
        text_value = str(number).strip()
        field = "student/school_enrollment/school_number"
        if not is_digits(text_value):
            errors.append(_item_error(field, "FIELD_VALIDATION_ERROR", "Value must be an integer"))
            if not _NUMBER.fullmatch(text_value):
                errors.append(
                    _item_error(field, "FIELD_VALIDATION_ERROR", "Value must be a number")
                )
        if len(text_value) > 10:
            errors.append(
                _item_error(
                    field,
                    "FIELD_VALIDATION_ERROR",
                    "Value may not contain more than 10 character(s).",
                )
            )
    birth = _dig(item, "demographics.birth_date")
    if birth not in (None, "") and not _is_date(birth):
        errors.append(
            _item_error(
                "student/demographics/birth_date",
                "FIELD_VALIDATION_ERROR",
                "Value must be a date (YYYY-MM-DD)",
            )
        )
    return errors


def _is_date(value: Any) -> bool:
    try:
        datetime.date.fromisoformat(str(value))
    except ValueError:
        return False
    return len(str(value)) == 10


_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


def _insert_problem(d: District, item: Json) -> Json | None:
    """The first reason an otherwise complete INSERT item is refused, or None."""
    enrollment = item["school_enrollment"]
    if not _GRADE.fullmatch(str(enrollment["grade_level"])):
        return _item_error(
            "student/school_enrollment/grade_level",
            "INVALID_FIELD",
            "grade_level must be a whole number.",
        )
    if d.student_by_local_id(str(item["local_id"])) is not None:
        return _item_error(
            "student/local_id",
            "INVALID_LOCAL_ID",
            "Local ID already exists in the database and can not be used in an insert.",
        )
    if _school_number(d, enrollment) is None:
        return _item_error(
            "student/school_enrollment/school_number",
            "INVALID_SCHOOL_NUMBER",
            "The school number does not exist.",
        )
    if "enroll_status" in enrollment and "enroll_status_code" in enrollment:
        return _item_error(
            "student/school_enrollment/enroll_status",
            "INVALID_ENROLL_STATUS",
            "Send enroll_status or enroll_status_code, not both.",
        )
    if str(enrollment.get("enroll_status", "A")).upper() not in ("A", "I", "P", "H"):
        return _item_error(
            "student/school_enrollment/enroll_status",
            "INVALID_ENROLL_STATUS",
            "enroll_status on insert must be A, I, P or H.",
        )
    return None


def _school_number(d: District, enrollment: Json) -> int | None:
    try:
        number = int(enrollment["school_number"])
    except (TypeError, ValueError):
        return None
    return number if number in d.school_by_number else None


def insert_student(sim: State, item: Json) -> tuple[list[Json], int | None]:
    """Apply one INSERT item: (errors, None) when refused, ([], new dcid) when applied."""
    d = sim.district
    errors = _shape_errors(item, _shape_template(None)) or _missing(item) + _field_errors(item)
    if errors:
        return errors, None
    problem = _insert_problem(d, item)
    if problem is not None:
        return [problem], None
    enrollment = dict(item["school_enrollment"])
    school = d.school_by_number[int(enrollment["school_number"])]
    enrollment.update(
        {
            "enroll_status": str(enrollment.get("enroll_status", "A")).upper(),
            "school_number": str(school.number),
            "school_id": school.id,
        }
    )
    local_id = str(item["local_id"])
    record: Json = {b: "" for b in STUDENT_EXPANSIONS}
    record.update(
        {
            "local_id": int(local_id) if is_digits(local_id) else local_id,
            "student_username": str(item.get("student_username", "")),
            "name": {k: v for k, v in item["name"].items() if v is not None},
            "school_enrollment": enrollment,
        }
    )
    if item.get("state_province_id"):
        record["state_province_id"] = str(item["state_province_id"])
    for block in _UPDATABLE_BLOCKS:
        if block != "name" and block in item:
            record[block] = copy.deepcopy(item[block])
    return [], d.insert_student(record)


def _update_student(sim: State, item: Json) -> tuple[list[Json], int | None]:
    d = sim.district
    raw = item.get("id")
    if raw is None or raw == "":
        return [_item_error("student/id", "MISSING_ID", "id is required for an update.")], None
    dcid = int(raw) if isinstance(raw, (str, int)) and is_digits(str(raw)) else -1
    if not d.student_exists(dcid):
        return [
            _item_error("student/id", "INVALID_ID", f"Student with id {raw} does not exist.")
        ], None
    errors = _shape_errors(item, _shape_template(d.student(dcid, STUDENT_EXPANSIONS)))
    errors = errors or _field_errors(item)
    if errors:
        return errors, None
    if "school_enrollment" in item:
        return [
            _item_error(
                "student/school_enrollment",
                "INVALID_FIELD",
                "Enrollment fields can not be changed by an update.",
            )
        ], None
    if "local_id" in item:
        local_id = str(item["local_id"])
        owner = d.student_by_local_id(local_id)
        if owner is not None and owner != dcid:
            return [
                _item_error(
                    "student/local_id",
                    "INVALID_LOCAL_ID",
                    "Local ID already exists in the database and can not be used.",
                )
            ], None
        d.set_local_id(dcid, local_id)
    record = d.materialize_student(dcid)
    for key in ("student_username", "state_province_id"):
        if key in item:
            record[key] = str(item[key])
    for block in _UPDATABLE_BLOCKS:
        if block in item:
            _merge(record, block, copy.deepcopy(item[block]))
    return [], dcid


# An extension write (PSU, fact sheet §6.2): the tables it may name and their columns.
_EXTENSION_TABLE = "u_studentsuserfields"


def _extension_writes(item: Json) -> tuple[dict[str, str], list[Json]]:
    """The u_studentsuserfields values an item's `_extension_data` writes, or its errors."""
    raw = item.get("_extension_data")
    if raw is None:
        return {}, []
    bad = [_item_error("student/_extension_data", "INVALID_FIELD", "Malformed _extension_data.")]
    tables = raw.get("_table_extension") if isinstance(raw, dict) else None
    tables = [tables] if isinstance(tables, dict) else tables
    if not isinstance(tables, list):
        return {}, bad
    values: dict[str, str] = {}
    for table in tables:
        fields = table.get("_field") if isinstance(table, dict) else None
        fields = [fields] if isinstance(fields, dict) else fields
        if not isinstance(fields, list) or not all(isinstance(f, dict) for f in fields):
            return {}, bad
        if str(table.get("name", "")).lower() != _EXTENSION_TABLE:
            field = "student/_extension_data/_table_extension/name"
            message = f"Unknown extension table {table.get('name')!r}."
            return {}, [_item_error(field, "INVALID_FIELD", message)]
        for f in fields:
            value = f.get("value")
            values[str(f.get("name", "")).lower()] = "" if value is None else str(value)
    return values, []


def _extension_errors(sim: State, values: dict[str, str]) -> list[Json]:
    known = {c.lower() for c in sim.tables[_EXTENSION_TABLE].columns}
    unknown = sorted(set(values) - (known - {"id", "studentsdcid", "whenmodified"}))
    if not unknown:
        return []
    field = "student/_extension_data/_table_extension/_field"
    return [_item_error(field, "INVALID_FIELD", f"Unknown field {unknown[0]!r}.")]


def _apply_extension(sim: State, dcid: int, values: dict[str, str]) -> None:
    """Upsert the student's u_studentsuserfields row (the values were checked before)."""
    if not values:
        return
    table = sim.tables[_EXTENSION_TABLE]
    row = extension_row_for(table, dcid)
    if row is None:
        row_id = table.insert({**values, "studentsdcid": str(dcid)})
    else:
        row_id = int(row["id"])
        table.update(row_id, values)
    sim.record_change(_EXTENSION_TABLE, row_id)


_FEES_WARNING = {
    "field": "student/fees",
    "warning_code": "FEES_ASSIGN_FEES_FAILED",
    "warning_description": "Fees assessment for this student failed for unknown reason.",
}


def _apply_item(sim: State, item: Json, action: str) -> tuple[list[Json], int | None]:
    """Check then apply one item, whole or not at all: (errors, None) or ([], dcid)."""
    extension, errors = _extension_writes(item)
    errors = errors or _extension_errors(sim, extension)
    if errors:
        return errors, None
    if action == "INSERT":
        errors, dcid = insert_student(sim, item)
    elif action == "UPDATE":
        errors, dcid = _update_student(sim, item)
    else:
        message = "action must be INSERT or UPDATE."
        return [_item_error("student/action", "INVALID_ACTION", message)], None
    if errors or dcid is None:
        return errors, None
    _apply_extension(sim, dcid, extension)
    return [], dcid


def _warnings(sim: State, item: Json, action: str, dcid: int) -> list[Json]:
    """WARNING items (sm_write_warning): fee assessment fails for inserts into the schools of
    `behaviour.fee_warning_schools` (the student is inserted all the same)."""
    if action != "INSERT":
        return []
    school = sim.district.school_of_student(dcid)
    return [dict(_FEES_WARNING)] if school.number in sim.behaviour.fee_warning_schools else []


def _result(sim: State, item: Json, action: str) -> tuple[Json, int | None]:
    errors, dcid = _apply_item(sim, item, action)
    result: Json = {}
    if "client_uid" in item:
        result["client_uid"] = item["client_uid"]
    if errors or dcid is None:
        result.update(status="ERROR", action=action)
        result["error_message"] = {"error": wire.one_or_many(errors)}
        return result, None
    warnings = _warnings(sim, item, action, dcid)
    result.update(status="WARNING" if warnings else "SUCCESS", action=action)
    sim.record_change("students", dcid)
    result["success_message"] = {"id": dcid, "ref": sim.ref(f"/ws/v1/student/{dcid}")}
    if warnings:
        result["warning_message"] = {"warning": wire.one_or_many(warnings)}
    return result, dcid


@route("POST", "/ws/v1/student")
def _students_write(sim: State, req: Request) -> Reply:
    body = req.json_body()
    if not isinstance(body, dict) or not isinstance(body.get("students"), dict):
        raise fail(400, 'The body must be {"students":{"student":[...]}}')
    raw = body["students"].get("student")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
    if items is None:
        raise fail(400, 'The body must be {"students":{"student":[...]}}')
    counts = {"INSERT": 0, "UPDATE": 0}
    results, applied = [], []
    for item in items:
        if not isinstance(item, dict):
            raise fail(400, "Each student must be an object")
        action = str(item.get("action", "")).upper()
        result, dcid = _result(sim, item, action)
        if dcid is not None:
            counts[action] += 1
            applied.append(str(item.get("client_uid", "")))
        results.append(result)
    sim.writes.append(Write("POST", req.path, body, tuple(applied)))
    out: Json = {
        "insert_count": counts["INSERT"],
        "update_count": counts["UPDATE"],
        "delete_count": 0,
    }
    if results:
        out["result"] = wire.one_or_many(results)
    return Reply(200, {"results": out})
