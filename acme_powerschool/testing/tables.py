"""The simulator's `/ws/schema/table` tables: rows of strings over the seeded district.

Views (students, schools, cc) read the district; overlay tables (attendance, an extension table)
generate their base rows from the row id and keep writes beside them. No HTTP, no grants here.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import islice
from typing import Any, ClassVar

from acme_powerschool.testing.dataversion import ChangeLog, seeded_when
from acme_powerschool.testing.district import SCHOOL_YEAR, SECTION_SIZE, District, Json, mix_seed

Row = dict[str, str]  # lower-case column -> value ("" for null)


def text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value)


class TableError(Exception):
    """A refused write: the server answers `status` with {"message": message}."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


class Table:
    """One table: canonical names, numeric columns, which verbs it allows, and its rows.

    `ids()` lists the ids in ascending order and `get(i)` answers a row (whose "id" is `i`)
    exactly for them, None for any other: an `id==` query looks rows up by id on that promise.
    """

    name: str = ""
    columns: tuple[str, ...] = ()
    numeric: frozenset[str] = frozenset()
    verbs: frozenset[str] = frozenset({"GET"})
    changes: ChangeLog | None = None  # set by build_tables: the WHENMODIFIED of written rows

    @property
    def key(self) -> str:
        return self.name.lower()

    def stamp(self, row_id: int, row: Row) -> Row:
        """Set the row's WHENMODIFIED: the time of its last write, or its seeded time."""
        when = self.changes.when(self.key, row_id) if self.changes is not None else None
        row["whenmodified"] = when or seeded_when(row_id)
        return row

    def column(self, name: str) -> str | None:
        """The canonical spelling of a column, or None when the table has no such column."""
        lookup = {c.lower(): c for c in self.columns}
        return lookup.get(name.lower())

    def count(self) -> int:
        raise NotImplementedError

    def ids(self) -> Iterator[int]:
        raise NotImplementedError

    def get(self, row_id: int) -> Row | None:
        raise NotImplementedError

    def page_ids(self, offset: int, limit: int) -> list[int]:
        """One page of ids in id order; tables that can, override this to skip without scanning."""
        return list(islice(self.ids(), offset, offset + limit))

    def insert(self, values: Row) -> int:
        raise TableError(405, f"POST is not allowed on table {self.name}")

    def update(self, row_id: int, values: Row) -> None:
        raise TableError(405, f"PUT is not allowed on table {self.name}")

    def delete(self, row_id: int) -> None:
        raise TableError(405, f"DELETE is not allowed on table {self.name}")


class OverlayTable(Table):
    """Base rows generated from their id (1..base_count) plus inserts, updates and deletes."""

    def __init__(
        self,
        name: str,
        columns: tuple[str, ...],
        numeric: frozenset[str],
        base_count: int,
        base_row: Callable[[int], Row],
    ) -> None:
        self.name, self.columns, self.numeric = name, columns, numeric
        self.verbs = frozenset({"GET", "POST", "PUT", "DELETE"})
        self.base_count = base_count
        self._base_row = base_row
        self.updated: dict[int, Row] = {}
        self.inserted: dict[int, Row] = {}
        self.deleted: set[int] = set()
        self.next_id = base_count + 1

    def count(self) -> int:
        return self.base_count - len(self.deleted) + len(self.inserted)

    def ids(self) -> Iterator[int]:
        deleted = self.deleted
        for i in range(1, self.base_count + 1):
            if i not in deleted:
                yield i
        yield from list(self.inserted)

    def page_ids(self, offset: int, limit: int) -> list[int]:
        if self.deleted:
            return super().page_ids(offset, limit)
        base = self.base_count
        out = list(range(1 + offset, min(base, offset + limit) + 1)) if offset < base else []
        if len(out) < limit:
            start = max(0, offset - base)
            out.extend(list(self.inserted)[start : start + limit - len(out)])
        return out

    def get(self, row_id: int) -> Row | None:
        if row_id in self.inserted:
            return self.stamp(row_id, dict(self.inserted[row_id]))
        if row_id in self.deleted or not 1 <= row_id <= self.base_count:
            return None
        if row_id in self.updated:
            return self.stamp(row_id, dict(self.updated[row_id]))
        return self.stamp(row_id, self._base_row(row_id))

    def insert(self, values: Row) -> int:
        row_id = self.next_id
        self.next_id += 1
        row = {c.lower(): "" for c in self.columns}
        row.update(values)
        row["id"] = str(row_id)
        if "dcid" in row:
            row["dcid"] = str(row_id)
        self.inserted[row_id] = row
        return row_id

    def update(self, row_id: int, values: Row) -> None:
        row = self.get(row_id)
        if row is None:
            raise TableError(404, f"Record {row_id} not found in table {self.name}")
        values = {k: v for k, v in values.items() if k not in ("id", "dcid")}
        row.update(values)
        if row_id in self.inserted:
            self.inserted[row_id] = row
        else:
            self.updated[row_id] = row

    def delete(self, row_id: int) -> None:
        if self.get(row_id) is None:
            raise TableError(404, f"Record {row_id} not found in table {self.name}")
        if self.inserted.pop(row_id, None) is None:
            self.updated.pop(row_id, None)
            self.deleted.add(row_id)


class StudentsTable(Table):
    """STUDENTS as a view of the v1 student records; PUT writes through to them."""

    name = "Students"
    columns = (
        "ID",
        "DCID",
        "Student_Number",
        "First_Name",
        "Middle_Name",
        "Last_Name",
        "SchoolID",
        "Grade_Level",
        "Enroll_Status",
        "EntryDate",
        "ExitDate",
        "Gender",
        "DOB",
        "Student_Web_ID",
        "Home_Phone",
        "Street",
        "City",
        "State",
        "Zip",
        "State_StudentNumber",
        "WhenModified",
    )
    numeric = frozenset({"id", "dcid", "student_number", "schoolid", "grade_level"})
    verbs = frozenset({"GET", "PUT"})
    # Column -> dotted path in the v1 record (with the blocks it needs).
    paths: ClassVar[dict[str, str]] = {
        "first_name": "name.first_name",
        "middle_name": "name.middle_name",
        "last_name": "name.last_name",
        "gender": "demographics.gender",
        "dob": "demographics.birth_date",
        "home_phone": "phones.main.number",
        "street": "addresses.physical.street",
        "city": "addresses.physical.city",
        "state": "addresses.physical.state_province",
        "zip": "addresses.physical.postal_code",
        "state_studentnumber": "state_province_id",
        "student_web_id": "student_username",
    }
    _blocks = ("school_enrollment", "demographics", "addresses", "phones")

    def __init__(self, district: District) -> None:
        self.district = district

    def count(self) -> int:
        return self.district.student_count

    def ids(self) -> Iterator[int]:
        return self.district.student_ids()

    def page_ids(self, offset: int, limit: int) -> list[int]:
        return self.district.student_id_page(offset, limit)

    def get(self, row_id: int) -> Row | None:
        rec = self.district.student(row_id, self._blocks)
        if rec is None:
            return None
        enrollment = rec["school_enrollment"] or {}
        row = {
            "id": text(row_id),
            "dcid": text(row_id),
            "student_number": text(rec["local_id"]),
            "schoolid": text(enrollment.get("school_number")),
            "grade_level": text(enrollment.get("grade_level")),
            "enroll_status": text(enrollment.get("enroll_status_code")),
            "entrydate": text(enrollment.get("entry_date")),
            "exitdate": text(enrollment.get("exit_date")),
        }
        for col, path in self.paths.items():
            row[col] = text(_dig(rec, path))
        return self.stamp(row_id, row)

    def update(self, row_id: int, values: Row) -> None:
        if not self.district.student_exists(row_id):
            raise TableError(404, f"Record {row_id} not found in table {self.name}")
        for col in values:
            if col not in self.paths and col != "student_number":
                raise TableError(400, f"Column {self.column(col)} can not be updated")
        if "student_number" in values:
            owner = self.district.student_by_local_id(values["student_number"])
            if owner is not None and owner != row_id:
                raise TableError(400, "Student_Number already exists")
            self.district.set_local_id(row_id, values["student_number"])
        rec = self.district.materialize_student(row_id)
        for col, value in values.items():
            if col in self.paths:
                _plant(rec, self.paths[col], value)


def _dig(rec: Json, path: str) -> Any:
    node: Any = rec
    for part in path.split("."):
        if not isinstance(node, dict):
            return None
        node = node.get(part)
    return node


def _plant(rec: Json, path: str, value: Any) -> None:
    parts = path.split(".")
    node = rec
    for part in parts[:-1]:
        nxt = node.get(part)
        if not isinstance(nxt, dict):
            nxt = {}
            node[part] = nxt
        node = nxt
    node[parts[-1]] = value


class SchoolsTable(Table):
    name = "Schools"
    columns = (
        "ID",
        "DCID",
        "School_Number",
        "Name",
        "Abbreviation",
        "Low_Grade",
        "High_Grade",
        "WhenModified",
    )
    numeric = frozenset({"id", "dcid", "school_number", "low_grade", "high_grade"})

    def __init__(self, district: District) -> None:
        self.district = district

    def count(self) -> int:
        return len(self.district.schools)

    def ids(self) -> Iterator[int]:
        return iter([s.id for s in self.district.schools])

    def get(self, row_id: int) -> Row | None:
        s = self.district.school_by_id.get(row_id)
        if s is None:
            return None
        row = {
            "id": text(s.id),
            "dcid": text(s.id),
            "school_number": text(s.number),
            "name": s.name,
            "abbreviation": s.prefix.upper(),
            "low_grade": text(s.low_grade),
            "high_grade": text(s.high_grade),
        }
        return self.stamp(row_id, row)


class CCTable(Table):
    """CC (section enrollments) as a view of the district's generated rosters."""

    name = "CC"
    columns = (
        "ID",
        "DCID",
        "StudentID",
        "SectionID",
        "SchoolID",
        "TermID",
        "DateEnrolled",
        "DateLeft",
        "Course_Number",
        "Expression",
        "WhenModified",
    )
    numeric = frozenset({"id", "dcid", "studentid", "sectionid", "schoolid", "termid"})

    def __init__(self, district: District) -> None:
        self.district = district

    def count(self) -> int:
        if self.district.deleted_students:
            return sum(1 for _ in self.ids())
        return sum(
            s.section_count * min(SECTION_SIZE, len(s.students)) for s in self.district.schools
        )

    def ids(self) -> Iterator[int]:
        deleted = self.district.deleted_students
        for s in self.district.schools:
            per = min(SECTION_SIZE, len(s.students))
            for section_id in self.district.section_ids(s):
                if deleted:
                    roster = self.district.section_roster(section_id)
                    slots = [i for i, d in enumerate(roster, start=1) if d not in deleted]
                else:
                    slots = list(range(1, per + 1))
                for slot in slots:
                    yield section_id * 100 + slot

    def get(self, row_id: int) -> Row | None:
        enrollment = self.district.section_enrollment(row_id)
        if enrollment is None:
            return None
        section = self.district.section(enrollment["section_id"])
        assert section is not None
        course = self.district.course(section["course_id"])
        assert course is not None
        school = self.district.school_by_id[section["school_id"]]
        row = {
            "id": text(row_id),
            "dcid": text(row_id),
            "studentid": text(enrollment["student_id"]),
            "sectionid": text(section["id"]),
            "schoolid": text(school.number),
            "termid": text(section["term_id"]),
            "dateenrolled": enrollment["entry_date"],
            "dateleft": enrollment["exit_date"],
            "course_number": course["course_number"],
            "expression": section["expression"],
        }
        return self.stamp(row_id, row)


ATTENDANCE_PER_STUDENT = 2
_ATT_CODES = ("0", "0", "0", "1", "2")  # mostly present


def attendance_table(district: District) -> OverlayTable:
    def base_row(row_id: int) -> Row:
        dcid = (row_id - 1) // ATTENDANCE_PER_STUDENT + 1
        day = 1 + (row_id - 1) % ATTENDANCE_PER_STUDENT
        code = _ATT_CODES[mix_seed(district.seed, row_id, 31) % len(_ATT_CODES)]
        return {
            "id": text(row_id),
            "dcid": text(row_id),
            "studentid": text(dcid),
            "schoolid": text(district.school_of_student(dcid).number),
            "att_date": f"{SCHOOL_YEAR}-09-{day:02d}",
            "attendance_codeid": code,
            "yearid": text(SCHOOL_YEAR - 1990),
            "att_mode_code": "ATT_ModeDaily",
            "att_comment": "",
        }

    return OverlayTable(
        "Attendance",
        (
            "ID",
            "DCID",
            "StudentID",
            "SchoolID",
            "Att_Date",
            "Attendance_CodeID",
            "YearID",
            "Att_Mode_Code",
            "Att_Comment",
            "WhenModified",
        ),
        frozenset({"id", "dcid", "studentid", "schoolid", "attendance_codeid", "yearid"}),
        district.base_students * ATTENDANCE_PER_STUDENT,
        base_row,
    )


EXTENSION_EVERY = 10  # every tenth student (from dcid 2) has a u_studentsuserfields row
EXTENSION_MAX_BASE = 1000
_COLORS = ("red", "blue", "green", "purple", "orange", "")


def extension_table(district: District) -> OverlayTable:
    def base_row(row_id: int) -> Row:
        dcid = EXTENSION_EVERY * (row_id - 1) + 2
        return {
            "id": text(row_id),
            "studentsdcid": text(dcid),
            "favorite_color": _COLORS[mix_seed(district.seed, dcid, 41) % len(_COLORS)],
            "locker_number": f"{mix_seed(district.seed, dcid, 42) % 900 + 100:04d}",
            "bus_route": "",
        }

    n = district.base_students
    base = min(EXTENSION_MAX_BASE, max(0, (n - 2) // EXTENSION_EVERY + 1) if n >= 2 else 0)
    return OverlayTable(
        "U_StudentsUserFields",
        ("id", "studentsdcid", "favorite_color", "locker_number", "bus_route", "whenmodified"),
        frozenset({"id", "studentsdcid"}),
        base,
        base_row,
    )


def extension_row_for(table: Table, dcid: int) -> Row | None:
    """The u_studentsuserfields row of a student, if any (base formula, then the writes)."""
    assert isinstance(table, OverlayTable)
    wanted = str(dcid)
    for rows in (table.inserted, table.updated):
        for row in rows.values():
            if row.get("studentsdcid") == wanted:
                return dict(row)
    if (dcid - 2) % EXTENSION_EVERY == 0:
        row_id = (dcid - 2) // EXTENSION_EVERY + 1
        base = table.get(row_id)
        if base is not None and base.get("studentsdcid") == wanted:
            return base
    return None


# Tables the server refuses outright (fact sheet §4.14).
REFUSED_TABLES = {"teachers": "GET, POST and PUT are not allowed on table"}


def build_tables(district: District, changes: ChangeLog | None = None) -> dict[str, Table]:
    tables: list[Table] = [
        StudentsTable(district),
        SchoolsTable(district),
        CCTable(district),
        attendance_table(district),
        extension_table(district),
    ]
    for table in tables:
        table.changes = changes
    return {t.key: t for t in tables}
