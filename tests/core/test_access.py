"""The 403 parser: PowerQuery, schema-table and XML bodies, and the rendered tags."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acme_powerschool.core.access import (
    FieldAccess,
    access_request_block,
    parse_access_denied,
    parse_access_requests,
    render_access_requests,
)

POWERQUERY_403 = json.dumps(
    {
        "message": "Validation Failed",
        "errors": [
            {
                "resource": "com.gmail.PowerSchool-AD-Sync.api.students",
                "field": "pssis_person_phone.phonetype",
                "code": "No access to the field",
            },
            {
                "resource": "com.gmail.PowerSchool-AD-Sync.api.students",
                "field": "pssis_stu_contact_act.studentdcid",
                "code": "No access to the field",
            },
            {
                "resource": "com.gmail.PowerSchool-AD-Sync.api.students",
                "field": "pssis_person_phone.phonetype",
                "code": "No access to the field",
            },
        ],
    }
)


def test_powerquery_body() -> None:
    fields = parse_access_denied(POWERQUERY_403, "application/json")
    assert fields == (
        FieldAccess("pssis_person_phone", "phonetype"),
        FieldAccess("pssis_stu_contact_act", "studentdcid"),
    )
    assert render_access_requests(fields).splitlines() == [
        '<field table="pssis_person_phone" field="phonetype" access="ViewOnly" />',
        '<field table="pssis_stu_contact_act" field="studentdcid" access="ViewOnly" />',
    ]


def test_seed_example_renders_exactly() -> None:
    body = b'{"message":"Validation Failed","errors":[{"resource":"com.pearson.core.attendance.daily_attendance_template","field":"attendance.studentid","code":"No access to the field"}]}'
    tags = render_access_requests(parse_access_denied(body))
    assert tags == '<field table="attendance" field="studentid" access="ViewOnly" />'


def test_schema_table_no_access() -> None:
    body = {
        "message": "At least one column lacks sufficient permission",
        "errors": [{"code": "NoAccess", "field": "SchoolID", "resource": "Log"}],
    }
    assert parse_access_denied(json.dumps(body)) == (FieldAccess("log", "schoolid"),)


def test_single_error_object_quirk() -> None:
    body = {"message": "Validation Failed", "errors": {"field": "cc.dcid", "resource": "q"}}
    assert parse_access_denied(json.dumps(body)) == (FieldAccess("cc", "dcid"),)


@pytest.mark.parametrize(
    "body",
    [
        "<errors><field>attendance.studentid</field></errors>",
        '<?xml version="1.0"?><errors><error><resource>q</resource>'
        "<field>attendance.studentid</field><code>No access to the field</code></error></errors>",
    ],
)
def test_xml_forms(body: str) -> None:
    assert parse_access_denied(body, "application/xml") == (FieldAccess("attendance", "studentid"),)


def test_block_is_sorted_and_unique() -> None:
    block = access_request_block(
        [FieldAccess("students", "dcid"), FieldAccess("cc", "id"), FieldAccess("students", "dcid")]
    )
    assert block.splitlines() == [
        "<access_request>",
        '    <field table="cc" field="id" access="ViewOnly" />',
        '    <field table="students" field="dcid" access="ViewOnly" />',
        "</access_request>",
    ]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=30),
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["errors", "field", "resource", "code", "x"]), children, max_size=4
        )
    ),
    max_leaves=20,
)


@given(json_values)
def test_never_raises_on_arbitrary_json(value: object) -> None:
    parse_access_denied(json.dumps(value))


@given(st.binary(max_size=500), st.sampled_from(["", "application/json", "application/xml"]))
def test_never_raises_on_arbitrary_bytes(body: bytes, content_type: str) -> None:
    parse_access_denied(body, content_type)


def test_deep_nesting_does_not_raise() -> None:
    assert parse_access_denied("[" * 100_000) == ()
    assert parse_access_denied("<a>" * 50_000) == ()


names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,29}", fullmatch=True)


@given(st.lists(st.tuples(names, names), max_size=8))
def test_rendered_tags_parse_back_to_the_same_fields(pairs: list[tuple[str, str]]) -> None:
    fields = [FieldAccess(t, f) for t, f in pairs]
    body = json.dumps({"errors": [{"field": f"{t}.{f}"} for t, f in pairs]})
    parsed = parse_access_denied(body)
    assert parsed == tuple(dict.fromkeys(fields))
    assert parse_access_requests(render_access_requests(parsed)) == parsed
