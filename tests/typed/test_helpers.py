"""The typed helpers over a fake client: what they send, what they return, what they raise."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typed_fakes import FakeClient, response, v1_list

from acme_powerschool.core.call import Call, render_path
from acme_powerschool.core.errors import NotFound, ResponseFormatError
from acme_powerschool.models import FlatStudentRow, RosterRow, Student, StudentWrite


def test_get_sends_one_call_and_returns_a_typed_student() -> None:
    def route(call: Call) -> Any:
        assert render_path(call) == "/ws/v1/student/2"
        assert call.params == {"expansions": "contact_info,lunch"}
        return {
            "student": {
                "@expansions": "x",
                "id": "2",
                "name": {"first_name": "B", "last_name": "A"},
                "contact_info": {"email": "a@b"},
            }
        }

    ps = FakeClient(route)
    s = ps.students.get(2, expansions=["contact_info", "lunch"])
    assert isinstance(s, Student) and s.id == 2
    assert s.contact_info is not None and s.contact_info.email == "a@b"
    assert ps.calls[0].method == "GET" and ps.calls[0].safe_to_repeat


@pytest.mark.parametrize(
    "body",
    [{"students": {}}, {"student": "nope"}, {"student": {"name": "x"}}, {"student": []}],
)
def test_a_2xx_body_of_the_wrong_shape_raises_response_format_error(body: Any) -> None:
    ps = FakeClient(lambda call: body)
    with pytest.raises(ResponseFormatError) as info:
        ps.students.get(2)
    assert info.value.status == 200 and info.value.response is not None


def test_non_json_2xx_raises_response_format_error() -> None:
    resp = response(None)
    resp._content = b"<html>PowerSchool page unavailable</html>"
    ps = FakeClient(lambda call: resp)
    with pytest.raises(ResponseFormatError):
        ps.schools.count()


def test_typed_errors_from_send_pass_through() -> None:
    ps = FakeClient(lambda call: None)
    with pytest.raises(NotFound):
        ps.students.get(999)


def test_every_family_loads_lazily_and_is_cached_per_client() -> None:
    ps = FakeClient(lambda call: None)
    assert ps.students is ps.students
    assert FakeClient(lambda call: None).students is not ps.students


def test_counts_read_the_resource_wrapper() -> None:
    ps = FakeClient(lambda call: {"resource": {"count": 12}})
    assert ps.schools.count() == 12
    assert ps.staff.count_for_school(100) == 12
    assert render_path(ps.calls[-1]) == "/ws/v1/school/100/staff/count"


def test_staff_list_reads_the_staffs_envelope_and_affiliation_quirk() -> None:
    staff = {"id": 1, "school_affiliations": {"school_affiliation": {"school_id": 100}}}

    def route(call: Call) -> Any:
        if render_path(call).endswith("/count"):
            return {"resource": {"count": 1}}
        return v1_list("staffs", "staff", [staff])

    members = FakeClient(route).staff.for_school(100).to_list()
    assert members[0].school_affiliations is not None
    assert members[0].school_affiliations.school_affiliation[0].school_id == 100


def test_metadata_is_fetched_once_per_client() -> None:
    ps = FakeClient(lambda call: None, max_page_size=25)
    assert ps.metadata().student_max_page_size == 25
    assert ps.metadata().schema_table_query_max_page_size == 25
    assert ps.paths(metadata=True).count("/ws/v1/metadata") == 1
    ps.metadata(refresh=True)
    assert ps.paths(metadata=True).count("/ws/v1/metadata") == 2


def test_bulk_writes_are_sent_once_numbered_and_failures_are_data() -> None:
    answer = {
        "results": {
            "insert_count": 1,
            "update_count": 0,
            "result": [
                {"client_uid": 1, "status": "SUCCESS", "action": "INSERT",
                 "success_message": {"id": 7337, "ref": "https://x/ws/v1/student/7337"}},
                {"client_uid": "2", "status": "ERROR", "action": "INSERT",
                 "error_message": {"error": {"field": "student/local_id",
                                             "error_code": "INVALID_LOCAL_ID"}}},
            ],
        }
    }  # fmt: skip
    ps = FakeClient(lambda call: answer)
    item = StudentWrite(local_id=9, name=None)
    result = ps.students.bulk_insert([item, {"local_id": 3, "client_uid": "2"}])
    call = ps.calls[0]
    assert call.method == "POST" and call.idempotent is False and not call.safe_to_repeat
    sent = call.json["students"]["student"]
    assert sent[0] == {"local_id": 9, "action": "INSERT", "client_uid": "1"}
    assert sent[1] == {"local_id": 3, "client_uid": "2", "action": "INSERT"}
    assert result.insert_count == 1
    assert [r.status for r in result.result] == ["SUCCESS", "ERROR"]
    failed = [r for r in result.result if r.status == "ERROR"]
    assert failed[0].client_uid == 2
    assert failed[0].error_message is not None
    assert failed[0].error_message.error[0].error_code == "INVALID_LOCAL_ID"


def test_bulk_update_single_result_quirk() -> None:
    answer = {"results": {"update_count": 1, "result": {"client_uid": 1, "status": "SUCCESS"}}}
    ps = FakeClient(lambda call: answer)
    result = ps.students.bulk_update([{"id": 2, "name": {"first_name": "B"}}])
    assert ps.calls[0].json["students"]["student"][0]["action"] == "UPDATE"
    assert len(result.result) == 1


def test_schema_table_helpers_send_strings_and_read_rows() -> None:
    def route(call: Call) -> Any:
        path = render_path(call)
        if call.method == "DELETE":
            return response(None, 204)
        if path.endswith("/count"):
            return {"count": 3}
        if call.method in ("POST", "PUT"):
            return {
                "insert_count": 1,
                "result": {"status": "SUCCESS", "success_message": {"id": 9}},
            }
        if path.endswith("/u_x/4"):
            return {"id": 4, "name": "U_X", "tables": {"u_x": {"id": "4", "color": ""}}}
        return {
            "name": "U_X",
            "record": [{"id": 1, "tables": {"u_x": {"id": "1", "color": "red"}}}],
        }

    ps = FakeClient(route)
    table = ps.table("u_x")
    assert table.count(q="color==red") == 3
    row = table.get(4)
    assert row.id == 4 and row.values == {"id": "4", "color": None} and row["COLOR"] is None
    assert [r.values["color"] for r in table.query(q="color==red", pagesize=10)] == ["red"]
    result = table.insert({"color": "blue", "active": True, "gone": None})
    assert ps.calls[-1].json == {"tables": {"u_x": {"color": "blue", "active": "1", "gone": ""}}}
    assert ps.calls[-1].idempotent is False
    assert result.result[0].success_message is not None
    table.update(4, {"color": "green"})
    assert ps.calls[-1].method == "PUT" and ps.calls[-1].json["id"] == "4"
    table.delete(4)
    assert render_path(ps.calls[-1]) == "/ws/schema/table/u_x/4"


def test_powerquery_asks_count_on_the_first_page_and_plans_the_rest() -> None:
    rows = [
        {"id": i, "name": "Students", "tables": {"students": {"dcid": str(i)}}} for i in range(250)
    ]

    def route(call: Call) -> Any:
        params = call.params or {}
        if render_path(call).endswith("/count"):
            return {"count": len(rows)}
        page, size = int(params["page"]), int(params["pagesize"])
        body: dict[str, Any] = {"name": "Students", "record": rows[(page - 1) * size : page * size]}
        if params.get("count") == "true":
            body["count"] = len(rows)
        return body

    ps = FakeClient(route)
    records = ps.powerquery("com.acme.x", args={"schoolid": 100, "grades": (9, 10)}, prefetch=2)
    got = [r["students.dcid"] for r in records]
    assert got == [str(i) for i in range(250)]
    assert len(ps.calls) == 3  # ceil(250 / 100) pages, no separate count
    assert ps.calls[0].json == {"schoolid": 100, "grades": [9, 10]}
    assert ps.calls[0].params is not None and ps.calls[0].params["count"] == "true"
    assert all(c.safe_to_repeat for c in ps.calls)
    assert records.count() == 250
    grouped = ps.powerquery("com.acme.x", grouped=True).first()
    assert grouped == {"students": {"dcid": "0"}}


def test_named_powerqueries_have_typed_rows() -> None:
    def route(call: Call) -> Any:
        if render_path(call).endswith("students.flat"):
            return {"name": "Students", "record": {"dcid": "1", "last_name": "Kim"}}
        return {"record": [{"id": 2, "tables": {"students": {"dcid": "2", "grade_level": "10"}}}]}

    ps = FakeClient(route)
    flat = ps.powerqueries.students_flat().to_list()
    assert flat == [FlatStudentRow(dcid=1, last_name="Kim")]
    roster = ps.powerqueries.students_by_school(schoolid=100, grade_levels=[10]).to_list()
    assert roster == [RosterRow(dcid=2, grade_level=10)]
    assert ps.calls[-1].json == {"schoolid": 100, "grade_levels": [10]}


def test_importing_the_typed_layer_loads_no_family_model_or_dataframe_library() -> None:
    code = (
        "import sys, acme_powerschool.typed, acme_powerschool.pager;"
        "bad = [m for m in sys.modules if m.startswith(('acme_powerschool.endpoints.',"
        " 'acme_powerschool.models.', 'pandas', 'polars', 'cattrs'))];"
        "print(bad); raise SystemExit(1 if bad else 0)"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr


def _student_2(call: Call) -> Any:
    return {"student": {"id": 2, "name": {"first_name": "B", "last_name": "A"}}}


@pytest.mark.parametrize(
    ("expansions", "unknown"),
    [
        (["contactinfo"], "'contactinfo'"),
        (["lunch", "Lunch "], "'Lunch'"),
        ("fees,alertz", "'alertz'"),
    ],
)
def test_an_unknown_expansion_raises_naming_it_before_anything_is_sent(
    expansions: Any, unknown: str
) -> None:
    ps = FakeClient(_student_2)
    with pytest.raises(ValueError, match=rf"unknown expansion {unknown}.*contact_info"):
        ps.students.get(2, expansions=expansions)
    with pytest.raises(ValueError, match="unknown expansion"):
        ps.schools.students(100, expansions=expansions)  # the delegation checks too
    assert ps.calls == []


def test_expansions_as_one_comma_separated_string_are_sent_as_names() -> None:
    ps = FakeClient(_student_2)
    ps.students.get(2, expansions="contact_info, lunch")  # type: ignore[arg-type]
    assert ps.calls[0].params == {"expansions": "contact_info,lunch"}


def test_none_means_no_expansions_and_no_extensions() -> None:
    ps = FakeClient(_student_2)
    student = ps.students.get(2, expansions=None, extensions=None)  # type: ignore[arg-type]
    assert student.id == 2 and len(ps.calls) == 1
    assert ps.calls[0].params in (None, {})


@pytest.mark.parametrize("bad", ["u_students userfields", "", "1abc", "x;drop"])
def test_a_malformed_extension_name_raises(bad: str) -> None:
    ps = FakeClient(_student_2)
    if not bad:
        ps.students.get(2, extensions=[bad])  # blank names are left out
        assert ps.calls[0].params in (None, {})
        return
    with pytest.raises(ValueError, match="not an extension name"):
        ps.students.get(2, extensions=[bad])


def test_require_returns_the_block_or_names_the_expansion_to_ask_for() -> None:
    from acme_powerschool import MissingFieldError

    ps = FakeClient(
        lambda call: {
            "student": {
                "id": 2,
                "name": {"first_name": "B", "last_name": "A"},
                "contact_info": {"email": "a@b"},
            }
        }
    )
    student = ps.students.get(2, expansions=["contact_info"])
    assert student.require("contact_info").email == "a@b"
    with pytest.raises(MissingFieldError, match=r"Student\.lunch is None.*expansions=\['lunch'"):
        student.require("lunch")
    with pytest.raises(MissingFieldError, match=r"Student\.extension_data.*did not send it"):
        student.require("extension_data")


@pytest.mark.parametrize(
    "student",
    [
        {"id": 2},  # no name
        {"id": 2, "name": {"first_name": "B"}},  # no last name
        {"id": "02x", "name": {"first_name": "B", "last_name": "A"}},  # DCIDs are integers
    ],
)
def test_a_student_without_what_powerschool_always_sends_is_a_format_error(
    student: dict[str, Any],
) -> None:
    ps = FakeClient(lambda call: {"student": student})
    with pytest.raises(ResponseFormatError):
        ps.students.get(2)


def test_write_item_status_is_one_of_three_words() -> None:
    answer = {"results": {"insert_count": 0, "result": {"status": "MAYBE", "client_uid": 1}}}
    ps = FakeClient(lambda call: answer)
    with pytest.raises(ResponseFormatError, match="status"):
        ps.students.bulk_insert([{"local_id": 1}])


_json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**30), max_value=10**30)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=10),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3)
    ),
    max_leaves=10,
)


@settings(max_examples=200, deadline=None)
@given(value=_json_values, encoding=st.sampled_from(["utf-8", "utf-16"]))
def test_the_fast_decoder_gives_exactly_what_json_gives(value: Any, encoding: str) -> None:
    """orjson (when installed) is only a speed-up: big integers stay exact, other encodings
    and bad bodies are read or refused exactly as requests' json would."""
    import json

    from acme_powerschool.runtime import _json

    resp = response(None)
    resp._content = json.dumps(value, ensure_ascii=False).encode(encoding)
    resp.encoding = None
    assert _json(resp) == resp.json() == value
