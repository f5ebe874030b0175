"""The simulator's installed PowerQueries: their arguments, columns and rows (all values strings).

A query here is data plus a row source over the district and tables; the server does the HTTP,
the grants, paging and ordering. Written from the fact sheet §5 only.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Any

import attrs

from acme_powerschool.testing.district import CORE_EXTENSIONS, District, is_digits
from acme_powerschool.testing.tables import ATTENDANCE_PER_STUDENT, Row, Table, text

Args = Mapping[str, Any]
# A row source yields thunks, so that paging can skip rows without building them: a page of a
# 100,000-row query costs one page of rows, not the whole table.
LazyRow = Callable[[], "Row | None"]


@attrs.frozen
class Arg:
    name: str
    column: str
    array: bool = False
    integer: bool = True
    required: bool = False


@attrs.frozen
class Column:
    table: str  # lower-case table
    column: str  # lower-case column
    alias: str  # "students.dcid" for grouped queries, "dcid" for flattened ones


@attrs.frozen
class PowerQuery:
    name: str
    core_table: str
    record_name: str
    flattened: bool
    summary: str
    args: tuple[Arg, ...]
    columns: tuple[Column, ...]
    id_alias: str
    rows: Callable[[District, Mapping[str, Table], Args], Iterator[LazyRow]]
    count: Callable[[District], int] | None = None  # the unfiltered total, when it is cheap
    # Rows start..stop of the unfiltered result, straight from the index (no scan from row 1).
    sliced: Callable[[District, int, int | None], Iterator[LazyRow]] | None = None
    # The row of one core-table id (data versions read only the changed rows), when cheap.
    row_of: Callable[[District, Mapping[str, Table], int], Row | None] | None = None

    def arg(self, name: str) -> Arg | None:
        return next((a for a in self.args if a.name == name), None)


def _cols(*specs: str) -> tuple[Column, ...]:
    out = []
    for spec in specs:
        source, _, alias = spec.partition(" as ")
        table, column = source.split(".")
        out.append(Column(table, column, alias or source))
    return tuple(out)


def _student_row(district: District, dcid: int) -> Row | None:
    rec = district.student(dcid, ("school_enrollment",))
    if rec is None:
        return None
    enrollment = rec["school_enrollment"] or {}
    school = district.school_of_student(dcid)
    return {
        "dcid": text(dcid),
        "student_number": text(rec["local_id"]),
        "first_name": text(rec["name"].get("first_name")),
        "last_name": text(rec["name"].get("last_name")),
        "grade_level": text(enrollment.get("grade_level")),
        "schoolid": text(school.number),
        "enroll_status": text(enrollment.get("enroll_status_code")),
        "school_name": school.name,
    }


def _prefixed(table: str, row: Row, keys: tuple[str, ...]) -> Row:
    return {f"{table}.{k}": row[k] for k in keys}


_ROSTER_KEYS = (
    "dcid",
    "student_number",
    "first_name",
    "last_name",
    "grade_level",
    "schoolid",
    "enroll_status",
)


def _roster_row(district: District, dcid: int) -> Row | None:
    row = _student_row(district, dcid)
    return None if row is None else _prefixed("students", row, _ROSTER_KEYS)


def _flat_row(district: District, dcid: int) -> Row | None:
    row = _student_row(district, dcid)
    keys = ("dcid", "student_number", "last_name", "first_name", "school_name")
    return None if row is None else {k: row[k] for k in keys}


def _ready(row: Row) -> LazyRow:
    return lambda: row


def _roster(district: District, tables: Mapping[str, Table], args: Args) -> Iterator[LazyRow]:
    for dcid in district.student_ids():
        yield partial(_roster_row, district, dcid)


def _flat(district: District, tables: Mapping[str, Table], args: Args) -> Iterator[LazyRow]:
    for dcid in district.student_ids():
        yield partial(_flat_row, district, dcid)


def _student_slice(
    row: Callable[[District, int], Row | None],
) -> Callable[[District, int, int | None], Iterator[LazyRow]]:
    def sliced(district: District, start: int, stop: int | None) -> Iterator[LazyRow]:
        limit = district.student_count - start if stop is None else stop - start
        for dcid in district.student_id_page(start, max(0, limit)):
            yield partial(row, district, dcid)

    return sliced


def _by_school(district: District, tables: Mapping[str, Table], args: Args) -> Iterator[LazyRow]:
    school = district.school_by_number.get(int(args["schoolid"]))
    grades = {int(g) for g in args.get("grade_levels") or ()}
    if school is None:
        return
    for dcid in district.school_students(school):
        if district.school_of_student(dcid) is not school:
            continue
        if not grades:
            yield partial(_roster_row, district, dcid)
            continue
        row = _roster_row(district, dcid)
        if row is not None and int(row["students.grade_level"] or -99) in grades:
            yield _ready(row)


def _section_roster(
    district: District, tables: Mapping[str, Table], args: Args
) -> Iterator[LazyRow]:
    for section_id in args["section_dcid"]:
        for enrollment in district.section_enrollments(int(section_id)):
            student = _student_row(district, enrollment["student_id"])
            assert student is not None
            yield _ready(
                {
                    "cc.dcid": text(enrollment["id"]),
                    "cc.sectionid": text(section_id),
                    "cc.studentid": text(enrollment["student_id"]),
                    "students.last_name": student["last_name"],
                    "students.first_name": student["first_name"],
                }
            )


_ATT_KEYS = ("id", "studentid", "schoolid", "att_date", "attendance_codeid")


def _attendance_row(table: Table, row_id: int) -> Row | None:
    row = table.get(row_id)
    return None if row is None else _prefixed("attendance", row, _ATT_KEYS)


def _daily_attendance(
    district: District, tables: Mapping[str, Table], args: Args
) -> Iterator[LazyRow]:
    table = tables["attendance"]
    wanted = args.get("studentid")
    if wanted is None:
        for row_id in table.ids():
            yield partial(_attendance_row, table, row_id)
        return
    dcid = int(wanted)
    first = (dcid - 1) * ATTENDANCE_PER_STUDENT + 1
    ids = list(range(first, first + ATTENDANCE_PER_STUDENT)) + list(_written_ids(table))
    seen: set[int] = set()
    for row_id in ids:
        if row_id in seen:
            continue
        seen.add(row_id)
        row = table.get(row_id)
        if row is None or row["studentid"] != str(dcid):
            continue
        yield _ready(_prefixed("attendance", row, _ATT_KEYS))


def _written_ids(table: Table) -> Iterator[int]:
    yield from getattr(table, "inserted", {})
    yield from getattr(table, "updated", {})


QUERIES: dict[str, PowerQuery] = {
    q.name: q
    for q in (
        PowerQuery(
            name="com.pearson.core.attendance.daily_attendance_template",
            core_table="attendance",
            record_name="Attendance",
            flattened=False,
            summary="Daily attendance records",
            args=(Arg("studentid", "ATTENDANCE.STUDENTID"),),
            columns=_cols(*(f"attendance.{k}" for k in _ATT_KEYS)),
            id_alias="attendance.id",
            rows=_daily_attendance,
            row_of=lambda d, t, i: _attendance_row(t["attendance"], i),
        ),
        PowerQuery(
            name="com.acme.sdk.students.roster",
            core_table="students",
            record_name="Students",
            flattened=False,
            summary="Every student, grouped by table",
            args=(),
            columns=_cols(*(f"students.{k}" for k in _ROSTER_KEYS)),
            id_alias="students.dcid",
            rows=_roster,
            count=lambda d: d.student_count,
            sliced=_student_slice(_roster_row),
            row_of=lambda d, t, i: _roster_row(d, i),
        ),
        PowerQuery(
            name="com.acme.sdk.students.flat",
            core_table="students",
            record_name="Students",
            flattened=True,
            summary="Every student with school name, flattened",
            args=(),
            columns=_cols(
                "students.dcid as dcid",
                "students.student_number as student_number",
                "students.last_name as last_name",
                "students.first_name as first_name",
                "schools.name as school_name",
            ),
            id_alias="dcid",
            rows=_flat,
            count=lambda d: d.student_count,
            sliced=_student_slice(_flat_row),
            row_of=lambda d, t, i: _flat_row(d, i),
        ),
        PowerQuery(
            name="com.acme.sdk.students.by_school",
            core_table="students",
            record_name="Students",
            flattened=False,
            summary="Students of one school, optionally by grade",
            args=(
                Arg("schoolid", "STUDENTS.SCHOOLID", required=True),
                Arg("grade_levels", "STUDENTS.GRADE_LEVEL", array=True),
            ),
            columns=_cols(*(f"students.{k}" for k in _ROSTER_KEYS)),
            id_alias="students.dcid",
            rows=_by_school,
        ),
        PowerQuery(
            name="com.acme.sdk.sections.roster",
            core_table="cc",
            record_name="CC",
            flattened=False,
            summary="Enrollments of the given sections",
            args=(Arg("section_dcid", "CC.SECTIONID", array=True, required=True),),
            columns=_cols(
                "cc.dcid",
                "cc.sectionid",
                "cc.studentid",
                "students.last_name",
                "students.first_name",
            ),
            id_alias="cc.dcid",
            rows=_section_roster,
        ),
    )
}


def record_of(query: PowerQuery, row: Row, meta: bool = True) -> dict[str, Any]:
    """One wire record: flattened columns at the top (with `_name`, the core table, and the
    numeric `_id` when `meta`: captures swift_powerquery_flat_*), or grouped under tables."""
    ident = row.get(query.id_alias, "")
    number = int(ident) if is_digits(ident) else ident
    if query.flattened:
        out: dict[str, Any] = dict(row)
        if meta:
            out["_name"] = query.core_table.upper()
            out["_id"] = number
        return out
    tables: dict[str, dict[str, str]] = {}
    for col in query.columns:
        tables.setdefault(col.table, {})[col.column] = row.get(col.alias, "")
    return {"id": number, "name": query.record_name, "tables": tables}


def extensions_of(query: PowerQuery) -> str:
    """The top-level "@extensions" of a PowerQuery answer: its core table's extensions."""
    return ",".join(CORE_EXTENSIONS.get(query.core_table, ()))
