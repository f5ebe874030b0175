"""A user's script that `mypy --strict` checks: it proves an IDE sees real types on the typed
helpers. It is never run by pytest (not named test_*) and needs no server to type-check."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import acme_powerschool
from acme_powerschool import (
    ContactInfo,
    MissingFieldError,
    Pager,
    PersonName,
    School,
    Student,
    StudentWrite,
    TableRecord,
    WriteResult,
    read_dataframe_batches,
)
from acme_powerschool.models.students import Demographics
from acme_powerschool.types import Id

if TYPE_CHECKING:
    from typing_extensions import assert_type
else:

    def assert_type(value: Any, _: Any) -> Any:
        return value


def report(ps: acme_powerschool.api) -> None:
    s: Student = ps.students.get(2, expansions=["contact_info", "school_enrollment"])
    assert_type(ps.students.get(2), Student)
    assert_type(ps.students.list(), Pager[Student])
    assert_type(ps.schools.count(), int)
    assert_type(s.name.first_name, str)
    assert_type(s.name.middle_name, str | None)
    assert_type(s.id, int)
    assert_type(s.require("contact_info"), ContactInfo)
    assert_type(s.demographics, Demographics | None)
    if s.demographics is not None:
        assert_type(s.demographics.birth_date, datetime.date | None)
    first: str = s.name.first_name
    student_id: Id = s.id
    email: str | None = s.require("contact_info").email
    try:
        s.require("lunch")
    except MissingFieldError as exc:
        print(exc)
    if s.school_enrollment is not None:
        entered: datetime.date | None = s.school_enrollment.entry_date
        grade: int | None = s.school_enrollment.grade_level
        print(entered, grade)
    if s.lunch is not None:
        balance: Decimal | None = s.lunch.balance_1
        print(balance)
    print(first, student_id, email)

    pager: Pager[Student] = ps.students.for_school(100, q="school_enrollment.enroll_status==A")
    for student in pager.with_options(prefetch=2):
        print(student.local_id)
    total: int = ps.students.count()
    schools: list[School] = ps.schools.list().to_list()
    print(total, [school.name for school in schools], ps.metadata().student_max_page_size)

    for row in ps.powerquery("com.acme.sdk.students", args={"schoolid": 100}):
        print(row.get("students.dcid"))

    table = ps.table("u_my_extension")
    record: TableRecord = table.get(1)
    value: str | None = record.values.get("my_field")
    written: WriteResult = table.insert({"my_field": "x", "active": True})
    print(value, written.insert_count)

    result: WriteResult = ps.students.bulk_update([{"id": 2, "name": {"first_name": "B"}}])
    for item in result.result:
        assert_type(item.status, Literal["SUCCESS", "ERROR", "WARNING"])
        if item.status == "ERROR":
            print(
                item.client_uid, [e.error_description for e in item.require("error_message").error]
            )
        else:
            new_id: Id = item.require("success_message").id
            print(new_id)
    write = StudentWrite(local_id=9, name=PersonName(first_name="A", last_name="B"))
    ps.students.bulk_insert([write])


def main() -> None:
    ps = acme_powerschool.api("127.0.0.1:8080", client_id="id", client_secret="secret")
    raw = ps.get("ws/v1/student/2")  # the raw escape hatch still returns a Response
    status: int = raw.status_code
    print(status)
    report(ps)
    print(read_dataframe_batches)
