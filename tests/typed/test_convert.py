"""convert.py: one converter for every PowerSchool JSON quirk, tested on every generated model."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_strategies import all_models, model_strategy, quirk

from acme_powerschool.convert import (
    UnknownFieldError,
    default_converter,
    flat_query_record,
    grouped_query_record,
    make_converter,
    normalise_id,
    table_values,
    to_table_value,
)
from acme_powerschool.models import Student, WriteResult

MODELS = all_models()
STRICT = make_converter(strict=True)
LENIENT = make_converter()


def test_every_generated_module_has_models() -> None:
    assert len(MODELS) > 30
    assert Student in MODELS


@pytest.mark.parametrize("model", MODELS, ids=lambda cls: cls.__name__)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_structure_of_unstructure_is_the_same_model(model: type[Any], data: st.DataObject) -> None:
    value = data.draw(model_strategy(model))
    assert LENIENT.structure(LENIENT.unstructure(value), model) == value


@pytest.mark.parametrize("model", MODELS, ids=lambda cls: cls.__name__)
@settings(max_examples=25, deadline=None)
@given(data=st.data())
def test_every_quirk_variant_structures_to_the_same_model(
    model: type[Any], data: st.DataObject
) -> None:
    value = data.draw(model_strategy(model))
    body = quirk(LENIENT.unstructure(value), model, data.draw)
    assert LENIENT.structure(body, model) == value


STUDENT_2 = {
    "@expansions": "demographics, addresses, alerts, phones, school_enrollment",
    "@extensions": "c_studentlocator,u_studentsuserfields",
    "id": 2,
    "local_id": 3,
    "student_username": "ag1student1",
    "name": {"first_name": "Brandon", "last_name": "Adair"},
    "addresses": "",
    "alerts": "",
    "school_enrollment": {
        "enroll_status_code": 0,
        "grade_level": "9",
        "entry_date": "2015-08-25",
        "school_number": 3001,
        "entry_code": "03",
    },
    "lunch": {"balance_1": "0.00"},
    "fees": {"fee": {"id": 1, "fee_amount": 12.5}},
    "_extension_data": {
        "_table_extension": {
            "recordFound": False,
            "name": "u_studentsuserfields",
            "_field": {"name": "locker", "type": "String", "value": "0142"},
        }
    },
}


def test_a_captured_student_structures_with_its_quirks() -> None:
    s = STRICT.structure(STUDENT_2, Student)
    assert s.id == 2 and s.local_id == 3
    assert s.name is not None and s.name.first_name == "Brandon"
    assert s.addresses is None and s.alerts is None
    assert s.school_enrollment is not None
    assert s.school_enrollment.grade_level == 9
    assert s.school_enrollment.entry_date == datetime.date(2015, 8, 25)
    assert s.school_enrollment.entry_code == "03"
    assert s.lunch is not None and s.lunch.balance_1 == Decimal("0.00")
    assert s.fees is not None and s.fees.fee is not None and len(s.fees.fee) == 1
    ext = s.extension_data
    assert ext is not None and ext.table_extension is not None
    assert ext.table_extension[0].field is not None
    assert ext.table_extension[0].field[0].value == "0142"


def test_unknown_fields_are_kept_in_extra_and_strict_mode_raises() -> None:
    body = {"id": 5, "name": {"first_name": "A", "last_name": "B"}, "brand_new_field": {"x": 1}}
    assert default_converter().structure(body, Student).extra == {"brand_new_field": {"x": 1}}
    with pytest.raises(UnknownFieldError, match="brand_new_field"):
        STRICT.structure(body, Student)


def test_unstructure_leaves_out_none_and_uses_the_wire_keys() -> None:
    s = STRICT.structure(STUDENT_2, Student)
    out = LENIENT.unstructure(s)
    assert "alerts" not in out and "demographics" not in out
    assert "_extension_data" in out
    assert out["school_enrollment"]["entry_date"] == "2015-08-25"
    assert out["lunch"] == {"balance_1": "0.00"}


def test_write_results_keep_failures_as_data() -> None:
    body = {
        "insert_count": 0,
        "result": {
            "client_uid": 210987,
            "status": "ERROR",
            "action": "INSERT",
            "error_message": {
                "error": {"field": "student/local_id", "error_code": "INVALID_LOCAL_ID"}
            },
        },
    }
    result = STRICT.structure(body, WriteResult)
    assert result.result is not None and result.result[0].status == "ERROR"
    assert result.result[0].error_message is not None
    assert result.result[0].error_message.error is not None
    assert result.result[0].error_message.error[0].error_code == "INVALID_LOCAL_ID"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [(3001, 3001), ("3001", 3001), ("04100000", "04100000"), ("TestID", "TestID"), ("0", 0)],
)
def test_ids_normalise_plain_decimal_strings_only(raw: Any, expected: Any) -> None:
    assert normalise_id(raw) == expected
    assert type(normalise_id(raw)) is type(expected)


def test_bad_values_raise_value_errors_naming_the_field() -> None:
    with pytest.raises(ValueError, match=r"Student\.local_id"):
        LENIENT.structure({"id": 1, "local_id": [1]}, Student)
    with pytest.raises(ValueError, match="Student"):
        LENIENT.structure({"local_id": 1}, Student)  # id is required


def test_query_records_flatten_or_group_and_blank_means_none() -> None:
    grouped = {"id": 3, "name": "Students", "tables": {"students": {"dcid": "3", "x": ""}}}
    assert flat_query_record(grouped) == {"students.dcid": "3", "students.x": None}
    assert grouped_query_record(grouped) == {"students": {"dcid": "3", "x": None}}
    assert flat_query_record({"dcid": "1", "last_name": ""}) == {"dcid": "1", "last_name": None}


def test_table_values_and_written_values() -> None:
    row = {"id": 1, "tables": {"u_x": {"id": "1", "color": ""}}}
    assert table_values(row, "U_X") == {"id": "1", "color": None}
    assert [to_table_value(v) for v in (None, True, False, 3, datetime.date(2020, 1, 2))] == [
        "",
        "1",
        "0",
        "3",
        "2020-01-02",
    ]
