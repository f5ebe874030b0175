"""`Simulator.mutate`: change the district from a test, as an admin would, without HTTP.

Each change goes through the same code as the API's writes (the v1 student insert, the schema
tables' insert/update/delete), then records the row in the change log, which advances the data
version and sets the row's WHENMODIFIED.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from acme_powerschool.testing.district import SCHOOL_YEAR, Json
from acme_powerschool.testing.tables import StudentsTable, Table, TableError, text

if TYPE_CHECKING:
    from acme_powerschool.testing.state import State

ACTIONS = ("insert", "update", "delete", "touch")
# Tables without a schema-table view whose rows `touch` can still mark as changed.
_RANGES = ("users", "sections", "terms", "courses")


def apply(state: State, table: str, action: str, row_id: int | None, values: dict[str, Any]) -> int:
    if action not in ACTIONS:
        raise ValueError(f"action must be one of {ACTIONS}, not {action!r}")
    if action != "insert" and row_id is None:
        raise ValueError(f"{action} needs a row_id")
    if action == "touch":
        assert row_id is not None
        _check_exists(state, table, row_id)
        state.record_change(table, row_id)
        return row_id
    target = state.tables.get(table)
    if target is None:
        raise ValueError(f"unknown table {table!r}: use one of {sorted(state.tables)}")
    if table == "students":
        new_id = _students(state, action, row_id, values)
    else:
        new_id = _rows(target, action, row_id, _columns(target, values))
    state.record_change(table, new_id, deleted=action == "delete")
    return new_id


def _check_exists(state: State, table: str, row_id: int) -> None:
    if table in _RANGES:
        if not any(True for i in state.all_ids(table) if i == row_id):
            raise KeyError(f"no row {row_id} in {table}")
        return
    target = state.tables.get(table)
    if target is None:
        raise ValueError(f"unknown table {table!r}")
    if target.get(row_id) is None:
        raise KeyError(f"no row {row_id} in {table}")


def _columns(table: Table, values: dict[str, Any]) -> dict[str, str]:
    out = {}
    for key, value in values.items():
        column = table.column(key)
        if column is None:
            raise ValueError(f"{key!r} is not a column of {table.name}")
        out[column.lower()] = text(value)
    return out


def _rows(table: Table, action: str, row_id: int | None, values: dict[str, str]) -> int:
    try:
        if action == "insert":
            return table.insert(values)
        assert row_id is not None
        if action == "update":
            table.update(row_id, values)
        else:
            table.delete(row_id)
        return row_id
    except TableError as exc:
        if exc.status == 404:
            raise KeyError(exc.message) from None
        raise ValueError(exc.message) from None


def _students(state: State, action: str, row_id: int | None, values: dict[str, Any]) -> int:
    table = state.tables["students"]
    assert isinstance(table, StudentsTable)
    d = state.district
    if action == "delete":
        assert row_id is not None
        if not d.student_exists(row_id):
            raise KeyError(f"no student {row_id}")
        d.delete_student(row_id)
        return row_id
    columns = _columns(table, values)
    if action == "update":
        return _rows(table, "update", row_id, columns)
    return _insert_student(state, table, columns)


def _insert_student(state: State, table: StudentsTable, columns: dict[str, str]) -> int:
    """A v1 INSERT item from schema columns, defaults filled in, through the API's insert."""
    from acme_powerschool.testing.v1 import insert_student

    d = state.district
    school = d.school_by_number.get(int(columns.get("schoolid") or d.schools[0].number))
    if school is None:
        raise ValueError(f"no school number {columns['schoolid']}")
    item: Json = {
        "action": "INSERT",
        "local_id": columns.get("student_number") or str(d.next_student_id + 1),
        "name": {
            "first_name": columns.get("first_name") or "New",
            "last_name": columns.get("last_name") or "Student",
        },
        "school_enrollment": {
            "entry_date": columns.get("entrydate") or f"{SCHOOL_YEAR}-08-20",
            "exit_date": columns.get("exitdate") or f"{SCHOOL_YEAR + 1}-06-05",
            "grade_level": columns.get("grade_level") or str(school.low_grade),
            "school_number": str(school.number),
        },
    }
    errors, dcid = insert_student(state, item)
    if dcid is None:
        raise ValueError(f"insert refused: {errors}")
    rest = {
        k: v
        for k, v in columns.items()
        if k in table.paths and k not in ("first_name", "last_name")
    }
    if rest:
        table.update(dcid, rest)
    return dcid
