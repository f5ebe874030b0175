"""POST /ws/v1/student (§6): bulk INSERT/UPDATE results, per-item errors and the write log."""

from __future__ import annotations

import json
from typing import Any

from acme_powerschool.testing import Simulator


def _post(api: Any, *items: dict[str, Any]) -> Any:
    payload = {"students": {"student": list(items) if len(items) != 1 else items[0]}}
    r = api.post("/ws/v1/student", json=payload)
    assert r.status_code == 200, r.text
    return r.json()["results"]


def _insert(local_id: Any, uid: str, **extra: Any) -> dict[str, Any]:
    item = {
        "client_uid": uid,
        "action": "INSERT",
        "local_id": local_id,
        "name": {"first_name": "Nova", "last_name": "Quill"},
        "school_enrollment": {
            "entry_date": "2025-08-20",
            "exit_date": "2026-06-05",
            "grade_level": 10,
            "school_number": "100",
        },
    }
    item.update(extra)
    return item


def test_readme_email_update_persists(fresh_api: Any) -> None:
    results = _post(
        fresh_api,
        {
            "id": "2",
            "client_uid": "2",
            "action": "UPDATE",
            "contact_info": {"email": "foo@bar.com"},
        },
    )
    assert results["insert_count"] == 0
    assert results["update_count"] == 1
    assert results["delete_count"] == 0
    result = results["result"]  # one item: a bare object
    assert result["client_uid"] == 2  # a number, as in the original README
    assert result["status"] == "SUCCESS"
    assert result["action"] == "UPDATE"
    assert result["success_message"]["id"] == 2
    assert result["success_message"]["ref"].endswith("/ws/v1/student/2")
    student = fresh_api.get("/ws/v1/student/2?expansions=contact_info").json()["student"]
    assert student["contact_info"] == {"email": "foo@bar.com"}
    assert student["name"] == {"first_name": "Brandon", "last_name": "Adair"}


def test_insert_then_read_back_and_count(fresh_api: Any, powerschool_sim: Simulator) -> None:
    before = fresh_api.get("/ws/v1/district/student/count").json()["resource"]["count"]
    results = _post(fresh_api, _insert(90001, "a"), _insert(90002, "b"))
    assert results["insert_count"] == 2
    assert isinstance(results["result"], list)
    new_id = results["result"][0]["success_message"]["id"]
    student = fresh_api.get(f"/ws/v1/student/{new_id}?expansions=school_enrollment").json()
    assert student["student"]["name"]["last_name"] == "Quill"
    assert student["student"]["school_enrollment"]["school_id"] == 100
    after = fresh_api.get("/ws/v1/district/student/count").json()["resource"]["count"]
    assert after == before + 2
    found = fresh_api.get("/ws/v1/district/student", params={"q": "local_id==90002"}).json()
    assert found["students"]["student"]["id"] == new_id + 1
    in_school = fresh_api.get("/ws/v1/school/100/student", params={"q": f"id=={new_id}"}).json()
    assert in_school["students"]["student"]["id"] == new_id


def test_duplicate_local_id_error_item_exactly(fresh_api: Any) -> None:
    results = _post(fresh_api, _insert(3, "210987"))
    assert results["insert_count"] == 0
    assert results["result"] == {
        "client_uid": 210987,
        "status": "ERROR",
        "action": "INSERT",
        "error_message": {
            "error": {
                "field": "student/local_id",
                "error_code": "INVALID_LOCAL_ID",
                "error_description": (
                    "Local ID already exists in the database and can not be used in an insert."
                ),
            }
        },
    }


def test_insert_missing_fields_lists_every_error(fresh_api: Any) -> None:
    results = _post(fresh_api, {"client_uid": "x", "action": "INSERT", "local_id": 777777})
    errors = results["result"]["error_message"]["error"]
    assert isinstance(errors, list) and len(errors) == 6
    assert {e["field"] for e in errors} >= {"student/name/first_name", "student/name/last_name"}


def test_update_errors_missing_and_unknown_id(fresh_api: Any) -> None:
    results = _post(
        fresh_api,
        {"client_uid": "1", "action": "UPDATE", "name": {"first_name": "X"}},
        {"client_uid": "2", "action": "UPDATE", "id": 99999999, "name": {"first_name": "X"}},
        {"client_uid": "3", "action": "UPDATE", "id": 5, "school_enrollment": {"grade_level": 3}},
        {"client_uid": "4", "action": "DELETE", "id": 5},
    )
    assert results["update_count"] == 0
    fields = [r["error_message"]["error"]["field"] for r in results["result"]]
    assert fields == ["student/id", "student/id", "student/school_enrollment", "student/action"]
    assert all(r["status"] == "ERROR" for r in results["result"])


def test_partial_failure_is_still_200(fresh_api: Any) -> None:
    results = _post(
        fresh_api,
        {"client_uid": "ok", "action": "UPDATE", "id": 7, "name": {"first_name": "Zed"}},
        _insert(8, "dup"),
    )
    assert results["update_count"] == 1
    assert [r["status"] for r in results["result"]] == ["SUCCESS", "ERROR"]
    name = fresh_api.get("/ws/v1/student/7").json()["student"]["name"]
    assert name["first_name"] == "Zed"


def test_write_log_and_applied_client_uids(fresh_api: Any, powerschool_sim: Simulator) -> None:
    _post(fresh_api, _insert(91001, "u1"), _insert(3, "u2"))
    _post(fresh_api, {"client_uid": "u3", "action": "UPDATE", "id": 4, "contact": {"mother": "M"}})
    writes = powerschool_sim.writes
    assert [(w.method, w.path, w.applied) for w in writes] == [
        ("POST", "/ws/v1/student", ("u1",)),
        ("POST", "/ws/v1/student", ("u3",)),
    ]
    assert writes[0].body["students"]["student"][0]["client_uid"] == "u1"
    counts = powerschool_sim.applied_client_uids()
    assert counts == {"u1": 1, "u3": 1}


def test_malformed_bodies_are_400(fresh_api: Any) -> None:
    r = fresh_api.post(
        "/ws/v1/student", data="{not json", headers={"Content-Type": "application/json"}
    )
    assert r.status_code == 400
    assert "message" in r.json()
    assert fresh_api.post("/ws/v1/student", json={"nope": 1}).status_code == 400
    assert fresh_api.post("/ws/v1/student", json={"students": {"student": 5}}).status_code == 400


def test_local_id_update_moves_the_lookup(fresh_api: Any) -> None:
    _post(fresh_api, {"client_uid": "m", "action": "UPDATE", "id": 10, "local_id": 424242})
    found = fresh_api.get("/ws/v1/district/student", params={"q": "local_id==424242"}).json()
    assert found["students"]["student"]["id"] == 10
    gone = fresh_api.get("/ws/v1/district/student", params={"q": "local_id==11"}).json()
    assert "student" not in gone["students"]
    dup = _post(fresh_api, {"client_uid": "d", "action": "UPDATE", "id": 12, "local_id": 424242})
    assert dup["result"]["error_message"]["error"]["error_code"] == "INVALID_LOCAL_ID"


def test_chunked_request_body_is_read(fresh_api: Any) -> None:
    item = {"client_uid": "c", "action": "UPDATE", "id": 2, "contact_info": {"email": "c@d"}}
    chunks = iter([json.dumps({"students": {"student": item}}).encode()])
    r = fresh_api.post("/ws/v1/student", data=chunks, headers={"Content-Type": "application/json"})
    assert r.status_code == 200
    assert r.json()["results"]["update_count"] == 1
    assert fresh_api.get("/ws/v1/district").status_code == 200  # the connection stays usable


ROSTER = "/ws/schema/query/com.acme.sdk.students.roster"


def test_update_with_a_non_object_block_is_an_item_error_and_stores_nothing(
    fresh_api: Any, powerschool_sim: Simulator
) -> None:
    bad: list[dict[str, Any]] = [
        {"action": "UPDATE", "id": "2", "client_uid": "a", "name": "x"},
        {"action": "UPDATE", "id": "2", "client_uid": "b", "contact_info": "x"},
        {"action": "UPDATE", "id": "2", "client_uid": "c", "name": None},
        {"action": "UPDATE", "id": "2", "client_uid": "d", "name": {"first_name": {"a": 1}}},
        {"action": "UPDATE", "id": "2", "client_uid": "e", "addresses": {"physical": "x"}},
        {"action": "UPDATE", "id": "2", "client_uid": "f", "phones": {"main": ["x"]}},
        {"action": "UPDATE", "id": "2", "client_uid": "g", "local_id": {"a": 1}},
        {"action": "UPDATE", "id": "2", "client_uid": "h", "student_username": ["x"]},
        # alerts is "" for student 2: the shape comes from the generator's blocks
        {"action": "UPDATE", "id": "2", "client_uid": "j", "alerts": {"medical": "x"}},
        # a bad block after a good change: nothing of the item is applied
        {"action": "UPDATE", "id": "2", "client_uid": "i", "local_id": "77", "name": "x"},
    ]
    fields = ["name", "contact_info", "name", "name/first_name", "addresses/physical"]
    fields += ["phones/main", "local_id", "student_username", "alerts/medical", "name"]
    results = _post(fresh_api, *bad)
    assert results["update_count"] == 0
    for result, field in zip(results["result"], fields, strict=True):
        assert result["status"] == "ERROR"
        assert result["error_message"]["error"]["error_code"] == "INVALID_FIELD"
        assert result["error_message"]["error"]["field"] == f"student/{field}"
    assert powerschool_sim.applied_client_uids() == {}
    roster = fresh_api.post(ROSTER + "?pagesize=0", json={})
    assert roster.status_code == 200
    by_school = "/ws/schema/query/com.acme.sdk.students.by_school"
    assert fresh_api.post(by_school, json={"schoolid": 100}).status_code == 200
    student = fresh_api.get("/ws/v1/student/2?expansions=contact_info,addresses").json()
    assert student["student"]["name"] == {"first_name": "Brandon", "last_name": "Adair"}
    assert student["student"]["local_id"] == 3
    assert student["student"]["contact_info"] == {"email": "Brandom.Adair@powerschool.com"}
    row = fresh_api.get("/ws/schema/table/students/2?projection=*")
    assert row.status_code == 200


def test_a_bad_item_does_not_stop_the_good_ones(fresh_api: Any) -> None:
    results = _post(
        fresh_api,
        {"action": "UPDATE", "id": "2", "client_uid": "bad", "name": "x"},
        {"action": "UPDATE", "id": "2", "client_uid": "ok", "name": {"middle_name": "Q"}},
    )
    assert results["update_count"] == 1
    assert [r["status"] for r in results["result"]] == ["ERROR", "SUCCESS"]
    name = fresh_api.get("/ws/v1/student/2").json()["student"]["name"]
    assert name == {"first_name": "Brandon", "last_name": "Adair", "middle_name": "Q"}


def test_insert_with_malformed_blocks_is_an_item_error(fresh_api: Any) -> None:
    results = _post(
        fresh_api,
        _insert(9001, "a", contact_info="x"),
        _insert(9002, "b", name={"first_name": ["N"], "last_name": "Q"}),
        _insert({"x": 1}, "c"),
        _insert(
            9004,
            "d",
            school_enrollment={
                "entry_date": "2025-08-20",
                "exit_date": "2026-06-05",
                "grade_level": "tenth",
                "school_number": "100",
            },
        ),
    )
    assert results["insert_count"] == 0
    fields = [r["error_message"]["error"]["field"] for r in results["result"]]
    assert fields == [
        "student/contact_info",
        "student/name/first_name",
        "student/local_id",
        "student/school_enrollment/grade_level",
    ]
    assert fresh_api.post(ROSTER + "?pagesize=0", json={}).status_code == 200


def test_write_errors_as_captured(fresh_api: Any) -> None:
    """sm_write_insert_errors: REQUIRED for a missing element, FIELD_VALIDATION_ERROR for each
    rule a school_number breaks, all in one item's error array."""
    item = _insert("1245", "1245")
    del item["school_enrollment"]["entry_date"]
    item["school_enrollment"]["school_number"] = "abcdefghijkl"
    result = _post(fresh_api, item)["result"]
    errors = result["error_message"]["error"]
    assert [(e["field"], e["error_code"]) for e in errors] == [
        ("student/school_enrollment/entry_date", "REQUIRED"),
        ("student/school_enrollment/school_number", "FIELD_VALIDATION_ERROR"),
        ("student/school_enrollment/school_number", "FIELD_VALIDATION_ERROR"),
        ("student/school_enrollment/school_number", "FIELD_VALIDATION_ERROR"),
    ]
    assert errors[0]["error_description"] == "No data submitted for required element"
    bad_date = _insert("777777", "7", demographics={"birth_date": "2010-02-30"})
    result = _post(fresh_api, bad_date)["result"]
    assert result["status"] == "ERROR"
    assert result["error_message"]["error"]["field"] == "student/demographics/birth_date"
    update = {"action": "UPDATE", "id": 2, "client_uid": "8", "demographics": {"birth_date": "x"}}
    assert _post(fresh_api, update)["result"]["status"] == "ERROR"


def test_an_insert_into_a_fee_warning_school_is_a_warning(
    fresh_api: Any, powerschool_sim: Simulator
) -> None:
    """sm_write_warning: status WARNING, the student inserted, both messages present."""

    def into(school: str, local_id: str) -> dict[str, Any]:
        item = _insert(local_id, local_id)
        item["school_enrollment"] = {**item["school_enrollment"], "school_number": school}
        item["school_enrollment"]["grade_level"] = 3
        return item

    result = _post(fresh_api, into("700", "100100"))["result"]
    assert result["status"] == "WARNING"
    assert result["warning_message"]["warning"]["warning_code"] == "FEES_ASSIGN_FEES_FAILED"
    dcid = result["success_message"]["id"]
    assert fresh_api.get(f"/ws/v1/student/{dcid}").status_code == 200
    assert _post(fresh_api, into("600", "100101"))["result"]["status"] == "SUCCESS"
    powerschool_sim.behaviour.fee_warning_schools = ()
    assert _post(fresh_api, into("700", "100102"))["result"]["status"] == "SUCCESS"


def test_extension_data_writes_are_applied(fresh_api: Any, powerschool_sim: Simulator) -> None:
    """PSU's extension write format: the fields land in u_studentsuserfields and read back."""

    def ext(**fields: str) -> dict[str, Any]:
        table = {
            "name": "u_studentsuserfields",
            "recordFound": False,
            "_field": [{"name": k, "type": "String", "value": v} for k, v in fields.items()],
        }
        return {"_table_extension": table}

    version = powerschool_sim.data_version
    update = {
        "action": "UPDATE",
        "id": 3,
        "client_uid": "e1",
        "_extension_data": ext(bus_route="12"),
    }
    assert _post(fresh_api, update)["result"]["status"] == "SUCCESS"
    inserted = _post(fresh_api, _insert("424242", "e2", _extension_data=ext(favorite_color="teal")))
    dcid = inserted["result"]["success_message"]["id"]
    for student, (key, value) in ((3, ("bus_route", "12")), (dcid, ("favorite_color", "teal"))):
        body = fresh_api.get(f"/ws/v1/student/{student}?extensions=u_studentsuserfields").json()
        block = body["student"]["_extension_data"]["_table_extension"]
        assert block["recordFound"] is True
        found = {f["name"]: str(f["value"]) for f in block["_field"]}  # "12" is 12 (xml_quirks)
        assert found[key] == value
    changes = fresh_api.get(f"/ws/dataversion/acme_sync/{version}").json()["tables"]
    assert (
        sorted(changes["students"]) == sorted([3, dcid])
        and len(changes["u_studentsuserfields"]) == 2
    )
    unknown = {"action": "UPDATE", "id": 3, "client_uid": "e3", "_extension_data": ext(nope="1")}
    assert _post(fresh_api, unknown)["result"]["status"] == "ERROR"
    other = ext(bus_route="1")
    other["_table_extension"]["name"] = "u_nothing"
    bad = {"action": "UPDATE", "id": 3, "client_uid": "e4", "_extension_data": other}
    assert _post(fresh_api, bad)["result"]["status"] == "ERROR"
