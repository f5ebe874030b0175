"""The simulator's seeded district: schools, students, staff, sections, terms, courses, enrollments.

Records are generated on demand from (seed, id) so a 100,000-student district costs almost nothing
to build; only indexes (school of each student) and written records are held. It knows nothing of
HTTP and must never use the global `random` module: every number comes from `random.Random(...)`.
"""

from __future__ import annotations

import bisect
import functools
import random
from array import array
from collections.abc import Callable, Iterator, Sequence
from itertools import islice
from typing import Any

import attrs

Json = dict[str, Any]

STUDENT_EXPANSIONS = (
    "demographics",
    "addresses",
    "alerts",
    "phones",
    "school_enrollment",
    "ethnicity_race",
    "contact",
    "contact_info",
    "initial_enrollment",
    "schedule_setup",
    "fees",
    "lunch",
    "counselors",
    "global_id",
)
STUDENT_EXTENSIONS = (
    "c_studentlocator",
    "s_stu_crdc_x",
    "s_stu_x",
    "activities",
    "u_studentsuserfields",
    "s_stu_ncea_x",
    "s_stu_edfi_x",
    "studentcorefields",
)
# The extensions each core table advertises in "@extensions" (the simulator's own names).
CORE_EXTENSIONS: dict[str, tuple[str, ...]] = {"students": STUDENT_EXTENSIONS, "cc": ("s_cc_x",)}
SCHOOL_EXPANSIONS = ("school_boundary", "full_time_equivalencies", "school_fees_setup")
STAFF_EXPANSIONS = ("addresses", "emails", "phones", "school_affiliations")
SECTION_EXPANSIONS = ("term",)
DISTRICT_EXPANSIONS = (
    "entry_codes",
    "test_setup",
    "exit_codes",
    "districts_of_residence",
    "federal_race_categories",
    "district_race_codes",
    "ethnicity_race_decline_to_specify",
    "scheduling_reporting_ethnicities",
    "fees_payment_methods",
)

# The three schools of the original product's README, as (number, name, low, high, prefix).
# Their DCID equals their school number, so `school/100` works as the README's readers expect.
_SEED_SCHOOLS = (
    (100, "Apple Grove High School", 9, 12, "ag"),
    (600, "Cherry Hill Middle School", 6, 8, "ch"),
    (700, "Washington Elementary", 0, 5, "we"),
)
_EXTRA_SCHOOL_NAMES = (
    "Maple Ridge",
    "Riverbend",
    "Oak Hollow",
    "Lakeside",
    "Pine Valley",
    "Harbor View",
    "Summit",
    "Willow Creek",
    "Cedar Park",
    "Fox Run",
)
_CACHED_STUDENTS = 1 << 16
"""Generated students kept (about 1 KB each with their blocks)."""

_FIRST = (
    "Aaron", "Abigail", "Adrian", "Aisha", "Alex", "Amara", "Andre", "Bella", "Caleb", "Camila",
    "Carlos", "Chloe", "Daniel", "Dara", "Diego", "Elena", "Eli", "Emma", "Ethan", "Fatima",
    "Felix", "Grace", "Hana", "Hugo", "Ian", "Isla", "Jack", "Jada", "Jonah", "Julia", "Kai",
    "Keira", "Leo", "Lila", "Luca", "Maya", "Mateo", "Mia", "Nadia", "Noah", "Nora", "Omar",
    "Olivia", "Owen", "Priya", "Quinn", "Rafael", "Rosa", "Ruby", "Samir", "Sara", "Theo",
    "Tessa", "Uma", "Victor", "Wren", "Xavier", "Yara", "Zane", "Zoe",
)  # fmt: skip
_LAST = (
    "Abbott", "Alvarez", "Baker", "Bennett", "Brooks", "Campbell", "Carter", "Chen", "Collins",
    "Cruz", "Diaz", "Dunn", "Ellis", "Evans", "Fischer", "Flores", "Foster", "Garcia", "Gomez",
    "Grant", "Hayes", "Hughes", "Ito", "Jensen", "Johnson", "Kang", "Kelly", "Khan", "Kim",
    "Lopez", "Martin", "Meyer", "Miller", "Moreno", "Murphy", "Nguyen", "Novak", "Okafor",
    "Olsen", "Ortiz", "Patel", "Perez", "Price", "Quinn", "Reed", "Reyes", "Rivera", "Ross",
    "Sanchez", "Santos", "Schmidt", "Silva", "Singh", "Sullivan", "Tanaka", "Torres", "Vargas",
    "Walsh", "Ward", "Young",
)  # fmt: skip
_STREETS = ("Oak St", "Maple Ave", "Elm Dr", "Cedar Ln", "Birch Rd", "Hill St", "Lake Blvd")
# Postal codes with a leading zero stay strings in real JSON (edp_*: "02127"); the others
# are numbers (swift_schools: 95014).
_CITIES = (
    ("Apple Grove", "MA", "02128"),
    ("Cherry Hill", "CA", "95014"),
    ("Riverton", "MA", "02150"),
)
_COURSES = (
    ("ENG", "English"), ("MAT", "Mathematics"), ("SCI", "Science"), ("SOC", "Social Studies"),
    ("ART", "Art"), ("MUS", "Music"), ("PE", "Physical Education"), ("SPA", "Spanish"),
    ("CS", "Computer Science"), ("HLT", "Health"),
)  # fmt: skip
_RACES = {"W": "White", "B": "Black", "A": "Asian", "I": "American Indian", "P": "Pacific Islander"}
_ENROLL_STATUS = {"A": (0, "Active"), "P": (-1, "Pre-registered"), "I": (2, "Inactive")}
SCHOOL_YEAR = 2025  # start year of the simulated school year (2025-2026)
SECTION_SIZE = 20
TERMS_PER_SCHOOL = 3


@attrs.define
class School:
    id: int
    number: int
    name: str
    low_grade: int
    high_grade: int
    prefix: str
    students: array[int] = attrs.field(factory=lambda: array("I"))
    staff_start: int = 0
    staff_count: int = 0
    section_start: int = 0
    section_count: int = 0
    course_start: int = 0
    term_start: int = 0


def mix_seed(*parts: int) -> int:
    """One stable integer seed from several; Random(int) is deterministic across runs."""
    acc = 1469598103934665603
    for part in parts:
        acc = ((acc ^ (part & 0xFFFFFFFFFFFF)) * 1099511628211) & 0xFFFFFFFFFFFFFFFF
    return acc


def _fresh(value: Any) -> Any:
    """A copy of a JSON tree (dicts and lists; the leaves are immutable)."""
    if type(value) is dict:
        return {k: _fresh(v) for k, v in value.items()}
    if type(value) is list:
        return [_fresh(v) for v in value]
    return value


def is_digits(value: str) -> bool:
    """ASCII digits only, short enough for int(): str.isdigit() also accepts "²", which int()
    refuses, and int() refuses more than 4300 digits."""
    return value.isascii() and value.isdigit() and len(value) <= 18


def seeded_uuid(rng: random.Random) -> str:
    """A UUID-shaped string from a seeded generator (tokens, credentials, district_uuid)."""
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _date(year: int, month: int, day: int) -> str:
    return f"{year:04d}-{month:02d}-{day:02d}"


class District:
    """The seeded data plus the writes made to it. Not thread-safe: the server holds a lock."""

    def __init__(self, students: int = 500, schools: int = 3, seed: int = 1) -> None:
        if students < 0:
            raise ValueError("students must be >= 0")
        if schools < 1:
            raise ValueError("schools must be >= 1")
        self.seed = seed
        self.base_students = students
        self.schools: list[School] = []
        for k in range(schools):
            if k < len(_SEED_SCHOOLS):
                number, name, low, high, prefix = _SEED_SCHOOLS[k]
            else:
                number = 100 * (k + 5)
                stem = _EXTRA_SCHOOL_NAMES[(k - 3) % len(_EXTRA_SCHOOL_NAMES)]
                suffix = "" if k - 3 < len(_EXTRA_SCHOOL_NAMES) else f" {(k - 3) // 10 + 1}"
                low, high = ((9, 12), (6, 8), (0, 5))[k % 3]
                kind = ("High School", "Middle School", "Elementary")[k % 3]
                name = f"{stem}{suffix} {kind}"
                prefix = "s" + str(k)
            self.schools.append(School(number, number, name, low, high, prefix))
        self.school_by_id = {s.id: s for s in self.schools}
        self.school_by_number = {s.number: s for s in self.schools}
        # One byte per student: which school. Seeded, interleaved, and built in one pass.
        rng = random.Random(mix_seed(seed, 7))
        weights = [3 if s.high_grade >= 9 else 2 for s in self.schools]
        picks = rng.choices(range(len(self.schools)), weights=weights, k=students)
        if students >= 2:
            picks[1] = 0  # Brandon Adair (dcid 2) attends Apple Grove High School, as in the README
        self.student_school = array("H", picks)
        # A base student's generated data depends on (seed, dcid) alone, and seeding a Random
        # per student is most of a page's cost: keep the last ones made. `student` hands out
        # copies, so nothing a caller does to a record reaches the cache.
        self._core = functools.lru_cache(maxsize=_CACHED_STUDENTS)(self._make_student_core)
        self._block = functools.lru_cache(maxsize=2 * _CACHED_STUDENTS)(self._make_student_block)
        for dcid, k in enumerate(picks, start=1):
            self.schools[k].students.append(dcid)
        staff = section = course = term = 1
        for s in self.schools:
            n = len(s.students)
            s.staff_start, s.staff_count = staff, max(3, -(-n // 20))
            staff += s.staff_count
            s.section_start, s.section_count = section, max(4, -(-n // 12))
            section += s.section_count
            s.course_start = course
            course += len(_COURSES)
            s.term_start = term
            term += TERMS_PER_SCHOOL
        self._staff_starts = [s.staff_start for s in self.schools]
        self._section_starts = [s.section_start for s in self.schools]
        self._course_starts = [s.course_start for s in self.schools]
        self._term_starts = [s.term_start for s in self.schools]
        self.staff_total, self.section_total = staff - 1, section - 1
        self.course_total, self.term_total = course - 1, term - 1
        # Written state: full student records (all blocks) for inserted or updated students.
        self.student_overrides: dict[int, Json] = {}
        self.inserted_students: list[int] = []
        self.local_id_index: dict[str, int] = {}  # local ids whose owner is not the formula's
        self.next_student_id = students + 1
        self.deleted_students: set[int] = set()

    # ----- students -----

    @property
    def student_count(self) -> int:
        return self.base_students + len(self.inserted_students) - len(self.deleted_students)

    def student_exists(self, dcid: int) -> bool:
        if dcid in self.deleted_students:
            return False
        return 1 <= dcid <= self.base_students or dcid in self.student_overrides

    def student_ids(self) -> Iterator[int]:
        deleted = self.deleted_students
        yield from (i for i in range(1, self.base_students + 1) if i not in deleted)
        yield from self.inserted_students

    def school_students(self, s: School) -> list[int]:
        """The dcids of a school's students (deleted ones left out), in enrollment order."""
        deleted = self.deleted_students
        return [d for d in s.students if d not in deleted] if deleted else list(s.students)

    def delete_student(self, dcid: int) -> None:
        """Remove a student (a test hook: the API has no student DELETE). The school's generated
        section rosters keep their other students and slots; the student's enrollments vanish."""
        if not self.student_exists(dcid):
            raise KeyError(dcid)
        rec = self.student_overrides.pop(dcid, None)
        if rec is not None:
            self.local_id_index.pop(str(rec["local_id"]), None)
        if dcid in self.inserted_students:
            self.inserted_students.remove(dcid)
            for s in self.schools:
                if dcid in s.students:
                    s.students.remove(dcid)
        else:
            self.deleted_students.add(dcid)

    def student_id_page(self, offset: int, limit: int) -> list[int]:
        if self.deleted_students:
            return list(islice(self.student_ids(), offset, offset + limit))
        base = self.base_students
        out = list(range(1 + offset, min(base, offset + limit) + 1)) if offset < base else []
        if len(out) < limit:
            start = max(0, offset - base)
            out.extend(self.inserted_students[start : start + limit - len(out)])
        return out

    def school_of_student(self, dcid: int) -> School:
        rec = self.student_overrides.get(dcid)
        if rec is not None:
            return self.school_by_number[int(rec["school_enrollment"]["school_number"])]
        return self.schools[self.student_school[dcid - 1]]

    def student_by_local_id(self, local_id: str) -> int | None:
        if local_id in self.local_id_index:
            return self.local_id_index[local_id]
        if is_digits(local_id):
            dcid = int(local_id) - 1
            if 1 <= dcid <= self.base_students:
                rec = self.student_overrides.get(dcid)
                if rec is None or str(rec["local_id"]) == local_id:
                    return dcid
        return None

    def student(self, dcid: int, blocks: Sequence[str] = ()) -> Json | None:
        """The v1 record: core fields plus the requested expansion blocks ("" when empty)."""
        if dcid in self.deleted_students:
            return None
        rec = self.student_overrides.get(dcid)
        if rec is not None:
            out = {k: _fresh(rec[k]) for k in ("id", "local_id", "student_username", "name")}
            if rec.get("state_province_id"):
                out["state_province_id"] = rec["state_province_id"]
            for b in blocks:
                out[b] = _fresh(rec.get(b, ""))
            return out
        if not 1 <= dcid <= self.base_students:
            return None
        made: Json = _fresh(self._core(dcid))
        made.pop("_gender", None)
        for b in blocks:
            made[b] = _fresh(self._block(dcid, b))
        return made

    def full_student(self, dcid: int) -> Json | None:
        return self.student(dcid, STUDENT_EXPANSIONS)

    def _make_student_core(self, dcid: int) -> Json:
        if dcid == 2:
            return {
                "id": 2,
                "local_id": 3,
                "student_username": "ag1student1",
                "name": {"first_name": "Brandon", "last_name": "Adair"},
                "_gender": "M",
            }
        rng = random.Random(mix_seed(self.seed, dcid, 1))
        gender = rng.choice("MF")
        first = rng.choice(_FIRST)
        last = rng.choice(_LAST)
        name: Json = {"first_name": first}
        if rng.random() < 0.6:
            name["middle_name"] = rng.choice(_FIRST)
        name["last_name"] = last
        local_id = dcid + 1
        core: Json = {
            "id": dcid,
            "local_id": local_id,
            "student_username": f"{first[0]}{last}{local_id}".lower(),
            "name": name,
        }
        if rng.random() < 0.8:
            # A number in real captures (edp_students, psu_student_full): no leading zero.
            core["state_province_id"] = str(10**9 + rng.randrange(10**9))
        core["_gender"] = gender
        return core

    def _make_student_block(self, dcid: int, block: str) -> Any:
        core = self._core(dcid)
        rng = random.Random(mix_seed(self.seed, dcid, 2, STUDENT_EXPANSIONS.index(block)))
        school = self.schools[self.student_school[dcid - 1]]
        grade = school.low_grade + (
            mix_seed(self.seed, dcid, 3) % (school.high_grade - school.low_grade + 1)
        )
        make = _STUDENT_BLOCKS.get(block)
        if make is None:
            raise KeyError(block)
        return make(_BlockContext(dcid, core, school, grade, rng))

    # ----- student writes (called under the server's lock) -----

    def materialize_student(self, dcid: int) -> Json:
        rec = self.student_overrides.get(dcid)
        if rec is None:
            full = self.full_student(dcid)
            if full is None:
                raise KeyError(dcid)
            rec = full
            self.student_overrides[dcid] = rec
        return rec

    def insert_student(self, record: Json) -> int:
        dcid = self.next_student_id
        self.next_student_id += 1
        record["id"] = dcid
        self.student_overrides[dcid] = record
        self.inserted_students.append(dcid)
        self.local_id_index[str(record["local_id"])] = dcid
        number = int(record["school_enrollment"]["school_number"])
        self.school_by_number[number].students.append(dcid)
        return dcid

    def set_local_id(self, dcid: int, local_id: str) -> None:
        rec = self.materialize_student(dcid)
        old = str(rec["local_id"])
        self.local_id_index.pop(old, None)
        rec["local_id"] = int(local_id) if is_digits(local_id) else local_id
        if not (is_digits(local_id) and int(local_id) - 1 == dcid):
            self.local_id_index[local_id] = dcid

    # ----- schools, staff, sections, courses, terms, enrollments -----

    def school(self, school_id: int, blocks: Sequence[str] = ()) -> Json | None:
        s = self.school_by_id.get(school_id)
        if s is None:
            return None
        rng = random.Random(mix_seed(self.seed, s.id, 11))
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        city, state, postal = _CITIES[self.schools.index(s) % len(_CITIES)]
        out: Json = {
            "id": s.id,
            "name": s.name,
            "school_number": str(s.number),
            "low_grade": s.low_grade,
            "high_grade": s.high_grade,
            "alternate_school_number": 0,
            "addresses": {
                "physical": {
                    "street": f"{rng.randint(1, 999)} School Rd",
                    "city": city,
                    "state_province": state,
                    "postal_code": postal,
                }
            },
            "phones": {"main": {"number": f"555-{rng.randint(100, 999)}-0100"}},
            "principal": {
                "name": {"first_name": first, "last_name": last},
                "email": f"{first[0]}{last}@schools.example.org".lower(),
            },
        }
        # Forms of edp_schools, swift_schools and acme_schools_xml: a state id with a leading
        # zero (a string); the principal's surname in middle_name, as two real sources show it,
        # except at school 100 (last_name, as swift_schools); an assistant principal at some.
        out = {"state_province_id": f"0{4100000 + s.number:07d}", **out}
        if s.number != 100:
            out["principal"]["name"] = {"first_name": first, "middle_name": last}
        if s.number % 200 == 0:
            out["assistant_principal"] = {
                "name": {"first_name": last, "middle_name": "Jo", "last_name": first},
                "email": f"{last[0]}{first}@schools.example.org".lower(),
            }
        for b in blocks:  # an empty block is left out (edp_schools omits school_boundary)
            if b == "full_time_equivalencies":
                out[b] = {"full_time_equivalency": {"fteid": s.id * 10 + 1, "name": "Full Time"}}
            elif b == "school_fees_setup":
                out[b] = _fees_setup(s)
        return out

    def district(self, blocks: Sequence[str] = ()) -> Json:
        # The shape of capture edp_district: a uuid, no id, fax and main phones.
        out: Json = {
            "uuid": seeded_uuid(random.Random(mix_seed(self.seed, 95))),
            "name": "Apple Grove School District",
            "district_number": "0410",
            "addresses": {
                "physical": {
                    "street": "1 District Way",
                    "city": "Apple Grove",
                    "state_province": "MA",
                    "postal_code": "02128",
                }
            },
            "phones": {"main": {"number": "555-200-0000"}, "fax": {"number": "555-200-0001"}},
        }
        for b in blocks:
            if b == "entry_codes":
                out[b] = {
                    "entry_code": [
                        {"code": "01", "description": "New"},
                        {"code": "03", "description": "Transfer"},
                    ]
                }
            else:
                out[b] = ""
        return out

    @staticmethod
    def _owner(starts: list[int], ident: int) -> int:
        return bisect.bisect_right(starts, ident) - 1

    def school_of(self, kind: str, ident: int) -> School | None:
        starts, total = {
            "staff": (self._staff_starts, self.staff_total),
            "section": (self._section_starts, self.section_total),
            "course": (self._course_starts, self.course_total),
            "term": (self._term_starts, self.term_total),
        }[kind]
        if not 1 <= ident <= total:
            return None
        return self.schools[self._owner(starts, ident)]

    def staff_ids(self, s: School) -> range:
        return range(s.staff_start, s.staff_start + s.staff_count)

    def section_ids(self, s: School) -> range:
        return range(s.section_start, s.section_start + s.section_count)

    def course_ids(self, s: School) -> range:
        return range(s.course_start, s.course_start + len(_COURSES))

    def term_ids(self, s: School) -> range:
        return range(s.term_start, s.term_start + TERMS_PER_SCHOOL)

    def staff(self, staff_id: int, blocks: Sequence[str] = ()) -> Json | None:
        s = self.school_of("staff", staff_id)
        if s is None:
            return None
        rng = random.Random(mix_seed(self.seed, staff_id, 21))
        first, last = rng.choice(_FIRST), rng.choice(_LAST)
        username = f"{first[0]}{last}{staff_id}".lower()
        # Some local ids are not numbers (edp_staff shows both forms).
        local_id = f"T{5000 + staff_id}" if staff_id % 3 == 0 else 5000 + staff_id
        name = {"first_name": first, "last_name": last}
        if staff_id % 4 == 2:
            name = {"first_name": first, "middle_name": "Ann", "last_name": last}
        out: Json = {
            "id": staff_id,
            "local_id": local_id,
            "admin_username": username,
            "teacher_username": username,
            "name": name,
            "users_dcid": 100 + staff_id,  # newer servers (sm_staff_*)
        }
        phone = f"555-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}"
        if staff_id % 4 == 1:  # digits only: a JSON number on the wire (sm_staff_*)
            phone = phone.replace("-", "")
        for b in blocks:
            out[b] = _staff_block(b, staff_id, s, username, phone)
        return out

    def course(self, course_id: int) -> Json | None:
        s = self.school_of("course", course_id)
        if s is None:
            return None
        code, title = _COURSES[course_id - s.course_start]
        return {"id": course_id, "course_number": f"{code}{s.number}", "course_name": title}

    def term(self, term_id: int) -> Json | None:
        s = self.school_of("term", term_id)
        if s is None:
            return None
        k = term_id - s.term_start
        y = SCHOOL_YEAR
        starts = (_date(y, 8, 18), _date(y, 8, 18), _date(y + 1, 1, 5))
        ends = (_date(y + 1, 6, 5), _date(y, 12, 19), _date(y + 1, 6, 5))
        names = (f"{y}-{y + 1}", "Semester 1", "Semester 2")
        abbr = (f"{y % 100:02d}-{(y + 1) % 100:02d}", "S1", "S2")
        return {
            "id": term_id,
            "school_id": s.id,
            "start_year": y,
            "portion": 1 if k == 0 else 2,
            "start_date": starts[k],
            "end_date": ends[k],
            "abbreviation": abbr[k],
            "name": names[k],
        }

    def section(self, section_id: int, blocks: Sequence[str] = ()) -> Json | None:
        s = self.school_of("section", section_id)
        if s is None:
            return None
        k = section_id - s.section_start
        term_id = s.term_start + k % TERMS_PER_SCHOOL
        out: Json = {
            "id": section_id,
            "school_id": s.id,
            "course_id": s.course_start + k % len(_COURSES),
            "term_id": term_id,
            "section_number": str(k // len(_COURSES) + 1),
            "expression": f"{k % 7 + 1}(A-F)",
            "staff_id": s.staff_start + k % s.staff_count,
            # newer servers (swift_sections)
            "external_expression": f"{k % 7 + 1}(M-F)",
            "gradebooktype": "PTG",
        }
        for b in blocks:
            out[b] = self.term(term_id) if b == "term" else ""
        return out

    def section_roster(self, section_id: int) -> list[int]:
        """Student dcids of a section, sorted (PowerSchool sorts enrollments by student_id)."""
        s = self.school_of("section", section_id)
        if s is None or not s.students:
            return []
        k = section_id - s.section_start
        n = len(s.students)
        picked = {s.students[(k * SECTION_SIZE + i) % n] for i in range(min(SECTION_SIZE, n))}
        return sorted(picked)

    def section_enrollment(self, cc_id: int) -> Json | None:
        section_id, slot = divmod(cc_id, 100)
        roster = self.section_roster(section_id) if slot >= 1 else []
        if not 1 <= slot <= len(roster):  # slot 0 (an id like 600) is nobody's enrollment
            return None
        if roster[slot - 1] in self.deleted_students:
            return None
        return self._enrollment(section_id, slot, roster[slot - 1])

    def section_enrollments(self, section_id: int) -> list[Json]:
        roster = self.section_roster(section_id)
        deleted = self.deleted_students
        return [
            self._enrollment(section_id, i, d)
            for i, d in enumerate(roster, start=1)
            if d not in deleted
        ]

    def _enrollment(self, section_id: int, slot: int, student_id: int) -> Json:
        term = self.term(self.section(section_id)["term_id"])  # type: ignore[index]
        assert term is not None
        return {
            "id": section_id * 100 + slot,
            "section_id": section_id,
            "student_id": student_id,
            "entry_date": term["start_date"],
            "exit_date": term["end_date"],
            "dropped": False,
        }


@attrs.frozen
class _BlockContext:
    dcid: int
    core: Json
    school: School
    grade: int
    rng: random.Random


def _demographics(c: _BlockContext) -> Any:
    year = SCHOOL_YEAR + 1 - c.grade - 6
    return {
        "gender": c.core["_gender"],
        "birth_date": _date(year, c.rng.randint(1, 12), c.rng.randint(1, 28)),
        "projected_graduation_year": SCHOOL_YEAR + 1 + (12 - c.grade),
    }


def _addresses(c: _BlockContext) -> Any:
    rng = c.rng
    city, state, postal = rng.choice(_CITIES)
    physical = {
        "street": f"{rng.randint(1, 9999)} {rng.choice(_STREETS)}",
        "city": city,
        "state_province": state,
        "postal_code": postal,
    }
    if rng.random() < 0.2:
        return ""
    return {"physical": physical, "mailing": dict(physical)}


def _alerts(c: _BlockContext) -> Any:
    if c.rng.random() < 0.9:
        return ""
    return {"medical": {"description": "Peanut allergy", "expires_date": ""}}


def _phones(c: _BlockContext) -> Any:
    rng = c.rng
    if rng.random() < 0.1:
        return ""
    middle, last = rng.randint(100, 999), rng.randint(1000, 9999)
    if c.dcid % 4 == 3:  # digits only: a JSON number on the wire (sm_student_races_list)
        return {"main": {"number": f"555{middle}{last}"}}
    return {"main": {"number": f"555-{middle}-{last}"}}


def _school_enrollment(c: _BlockContext) -> Any:
    rng, school = c.rng, c.school
    status = "A" if rng.random() < 0.92 or c.dcid == 2 else rng.choice("PI")
    code, description = _ENROLL_STATUS[status]
    return {
        "enroll_status": status,
        "enroll_status_description": description,
        "enroll_status_code": code,
        "grade_level": c.grade,
        "entry_date": _date(SCHOOL_YEAR, 8, rng.randint(18, 28)),
        "exit_date": _date(SCHOOL_YEAR + 1, 6, 5),
        "school_number": str(school.number),
        "school_id": school.id,
        "entry_code": rng.choice(("01", "03", "E1")),
        "entry_comment": "",
        "full_time_equivalency": {"fteid": school.id * 10 + 1, "name": "Full Time"},
        "district_of_residence": 100,  # sm_student_races_list
    }


def _ethnicity_race(c: _BlockContext) -> Any:
    code = c.rng.choice("WBAIP")
    federal = c.rng.choice(("YES", "NO"))
    codes = [code, "W" if code != "W" else "B"] if c.dcid % 5 == 4 else [code]
    races = [
        {
            "district_race_code": k,
            "district_race_code_description": _RACES[k],
            "federal_race_code_category": _RACES[k],
        }
        for k in codes
    ]
    # several races: an array (sm_student_races_list); one: a bare object (edp_students)
    return {
        "federal_ethnicity": federal,
        "scheduling_reporting_ethnicity": code,
        "races": races if len(races) > 1 else races[0],
    }


def _contact(c: _BlockContext) -> Any:
    guardian = f"{c.rng.choice(_FIRST)} {c.core['name']['last_name']}"
    return {"guardian_email": "", "mother": guardian, "father": ""}


def _contact_info(c: _BlockContext) -> Any:
    if c.dcid == 2:
        return {"email": "Brandom.Adair@powerschool.com"}
    if c.dcid % 10 == 7:  # some students have no e-mail: "" as in edp_students
        return ""
    return {"email": f"{c.core['student_username']}@students.example.org"}


def _initial_enrollment(c: _BlockContext) -> Any:
    grade, school = c.grade, c.school
    return {
        "district_entry_grade_level": max(0, grade - grade % 6),
        "school_entry_date": _date(SCHOOL_YEAR - (grade - school.low_grade), 8, 20),
        "school_entry_grade_level": school.low_grade,
    }


def _schedule_setup(c: _BlockContext) -> Any:
    nxt = c.school.number if c.grade < c.school.high_grade else 0  # a number, as captured
    return {
        "home_room": f"R{c.rng.randint(100, 130)}",
        "next_school": nxt,
        "sched_next_year_grade": min(c.grade + 1, 13),
    }


def _lunch(c: _BlockContext) -> Any:
    balances = {f"balance_{i}": f"{c.rng.randint(0, 4000) / 100:.2f}" for i in range(1, 5)}
    return {**balances, "lunch_id": c.dcid + 1}


def _counselors(c: _BlockContext) -> Any:
    """The school's first staff member as counselor (newer servers; the shape is inferred)."""
    return {"counselor": {"staff_id": c.school.staff_start, "school_id": c.school.id}}


_STUDENT_BLOCKS: dict[str, Callable[[_BlockContext], Any]] = {
    "demographics": _demographics,
    "addresses": _addresses,
    "alerts": _alerts,
    "phones": _phones,
    "school_enrollment": _school_enrollment,
    "ethnicity_race": _ethnicity_race,
    "contact": _contact,
    "contact_info": _contact_info,
    "initial_enrollment": _initial_enrollment,
    "schedule_setup": _schedule_setup,
    "fees": lambda c: "",
    "lunch": _lunch,
    "counselors": _counselors,
    "global_id": lambda c: seeded_uuid(c.rng).upper(),
}


def _fees_setup(s: School) -> Json:
    """A school's fee setup (edp_schools): fee types for the first school only."""
    out: Json = {"exemption_status": 3}
    if s.number == 100:
        out["fee_types"] = {
            "fee_type": [
                {"id": 1, "name": "Activity", "category": "Student", "priority_order": 0,
                 "creation_date": f"{SCHOOL_YEAR}-06-22"},
                {"id": 2, "name": "Technology", "category": "Student", "priority_order": 0,
                 "creation_date": f"{SCHOOL_YEAR}-06-22"},
            ]
        }  # fmt: skip
    return out


def _staff_block(block: str, staff_id: int, s: School, username: str, phone: str) -> Any:
    """One staff expansion block, in the forms edp_staff shows: most staff are affiliated with
    their school and the district office (school 0: an array), every third with one school
    only (a bare object); some have no address or phone (""). The forms repeat every three
    staff members, so every school shows each of them."""
    if block == "emails":
        return "" if staff_id % 4 == 3 else {"work_email": f"{username}@schools.example.org"}
    if block == "phones":
        return "" if staff_id % 3 == 0 else {"home_phone": phone}
    if block == "addresses":
        if staff_id % 3 == 0:
            return ""
        city, state, postal = _CITIES[staff_id % len(_CITIES)]
        home = {"street": f"{staff_id} Faculty Row", "city": city, "state_province": state}
        return {"home": {**home, "postal_code": postal}}
    if block == "school_affiliations":
        own = {"school_id": s.id, "type": 1, "status": 1}
        if staff_id % 3 == 2:
            return {"school_affiliation": own}
        return {"school_affiliation": [own, {"school_id": 0, "type": 1, "status": 1}]}
    return ""
