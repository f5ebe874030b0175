"""convert.py: one converter for every PowerSchool JSON quirk, tested on every generated model."""

from __future__ import annotations

import datetime
import re
import sys
from decimal import Decimal
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from model_strategies import EXTRA_KEYS, all_models, model_strategy, quirk

from acme_powerschool.convert import (
    UnknownFieldError,
    _Fields,
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


PLAIN = make_converter(generated=False)
STRICT_PLAIN = make_converter(strict=True, generated=False)
_WRONG = (
    st.none()
    | st.sampled_from(["", "x", True, False])
    | st.builds(list, st.just([1]))
    | st.builds(dict, x=st.just(1))
)


def _outcome(converter: Any, body: Any, model: type[Any]) -> Any:
    try:
        return converter.structure(body, model)
    except Exception as exc:  # the same error, whichever path made it
        return (type(exc), str(exc))


def _spoil(body: dict[str, Any], draw: Any) -> None:
    """One object somewhere in `body` (the top or a nested one) gets a wrong or empty value, a
    key its model does not know, or loses a key."""
    target = body
    while draw(st.booleans()):
        nested = sorted(key for key, value in target.items() if type(value) is dict and value)
        if not nested:
            break
        target = target[draw(st.sampled_from(nested))]
    action = draw(st.sampled_from(["wrong", "unknown", "drop"]))
    if action == "unknown":
        target["zz_future_field"] = draw(_WRONG)
    elif target:
        key = draw(st.sampled_from(sorted(target)))
        if action == "wrong":
            target[key] = draw(_WRONG)
        else:
            del target[key]


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_generated_structure_functions_give_what_the_hooks_give(data: st.DataObject) -> None:
    """Codegen's per-model functions (nested models called directly, instances built without
    __init__) are a speed-up only: on regular bodies, quirky bodies and bodies spoilt at any
    depth, the record (or the error) is the general path's, lenient and strict."""
    model = data.draw(st.sampled_from(MODELS))
    body = LENIENT.unstructure(data.draw(model_strategy(model)))
    if data.draw(st.booleans()):
        body = quirk(body, model, data.draw)
    for _ in range(data.draw(st.integers(0, 2))):
        _spoil(body, data.draw)
    assert _outcome(LENIENT, body, model) == _outcome(PLAIN, body, model)
    assert _outcome(STRICT, body, model) == _outcome(STRICT_PLAIN, body, model)


@pytest.mark.parametrize("model", MODELS, ids=lambda cls: cls.__name__)
@settings(max_examples=20, deadline=None)
@given(data=st.data())
def test_a_regular_body_is_built_by_the_generated_function(
    model: type[Any], data: st.DataObject
) -> None:
    """Not vacuous: a body with only known keys is built by the generated function itself
    (returns the record, not None), equal to what __init__ and the hooks build."""
    value = data.draw(model_strategy(model))
    body = {k: v for k, v in LENIENT.unstructure(value).items() if k not in EXTRA_KEYS}
    fast = sys.modules[model.__module__].STRUCTURE[model]
    assert fast(body, _Fields(PLAIN)) == PLAIN.structure(body, model)


def test_generated_construction_is_only_for_plain_frozen_models() -> None:
    """Building without __init__ gives the same instance only when the class has no
    validators, converters or __attrs_post_init__ and every field is set: each model has a
    slot setter for every field."""
    for model in MODELS:
        module = vars(sys.modules[model.__module__])
        snake = re.sub(r"(?<!^)(?=[A-Z])", "_", model.__name__).lower()
        assert not hasattr(model, "__attrs_post_init__"), model
        assert "__slots__" in vars(model), model
        for field in attrs.fields(model):
            assert field.validator is None and field.converter is None, (model, field.name)
            assert module[f"_set_{snake}__{field.name}"] == vars(model)[field.name].__set__


def test_a_regular_record_takes_the_generated_path() -> None:
    from acme_powerschool.models import PersonName, students

    regular = {
        "id": 2,
        "name": {"first_name": "B", "last_name": "A"},
        "local_id": "0412",
        "school_enrollment": {"grade_level": 9, "full_time_equivalency": {"fteid": 1}},
        "demographics": {"birth_date": "2010-11-17"},
    }
    hooked: list[tuple[str, str]] = []
    fields = _Fields(PLAIN)

    def field(cls: type[Any], key: str, raw: Any) -> Any:
        hooked.append((cls.__name__, key))
        return fields(cls, key, raw)

    built = students.STRUCTURE[Student](regular, field)
    assert built == PLAIN.structure(regular, Student)
    assert hooked == [("Student", "local_id")]  # nested records by their generated functions
    hooked.clear()
    odd_name = {**regular, "name": {"first_name": "B", "last_name": "A", "zz": 1}}
    built = students.STRUCTURE[Student](odd_name, field)
    assert built is not None
    assert built.name == PersonName(first_name="B", last_name="A", extra={"zz": 1})
    assert hooked == [("Student", "local_id"), ("Student", "name")]  # the converter decides
    assert students.STRUCTURE[Student]({**regular, "@expansions": ""}, field) is None


def test_nested_models_of_another_family_are_called_directly() -> None:
    from acme_powerschool.models import StaffMember, staff

    body = {"id": 7, "name": {"first_name": "A", "last_name": "B"}}
    hooked: list[str] = []

    def field(cls: type[Any], key: str, raw: Any) -> Any:
        hooked.append(key)
        return _Fields(PLAIN)(cls, key, raw)

    assert staff.STRUCTURE[StaffMember](body, field) == PLAIN.structure(body, StaffMember)
    assert hooked == []
