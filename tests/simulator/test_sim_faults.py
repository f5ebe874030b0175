"""Fault injection, throttling, latency and the accessLevelV1Api mode: deterministic, no sleeps."""

from __future__ import annotations

from typing import Any

import pytest
import requests

from acme_powerschool.testing import FAULT_KINDS, Simulator

BROKEN = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)


@pytest.mark.parametrize("kind", ["500", "502", "503"])
def test_server_errors_then_recovery(fresh_api: Any, powerschool_sim: Simulator, kind: str) -> None:
    powerschool_sim.inject("/ws/v1/student", kind, times=2)
    assert fresh_api.get("/ws/v1/student/2").status_code == int(kind)
    assert fresh_api.get("/ws/v1/student/2").status_code == int(kind)
    assert fresh_api.get("/ws/v1/student/2").status_code == 200
    assert powerschool_sim.stats.faults == {kind: 2}
    assert powerschool_sim.pending_faults == 0


def test_503_is_the_html_maintenance_page(fresh_api: Any, powerschool_sim: Simulator) -> None:
    powerschool_sim.inject("GET /ws/v1/district", "503")
    r = fresh_api.get("/ws/v1/district")
    assert r.headers["Content-Type"].startswith("text/html")
    assert "PowerSchool page unavailable" in r.text
    assert int(r.headers["Content-Length"]) == len(r.content)


def test_500_is_json(fresh_api: Any, powerschool_sim: Simulator) -> None:
    powerschool_sim.inject("*", "500")
    assert "message" in fresh_api.get("/ws/v1/district").json()


def test_reset_drops_the_connection_and_the_next_request_works(
    fresh_api: Any, powerschool_sim: Simulator
) -> None:
    powerschool_sim.inject("/ws/v1/student/*", "reset")
    with pytest.raises(BROKEN):
        fresh_api.get("/ws/v1/student/2")
    assert fresh_api.get("/ws/v1/student/2").status_code == 200


def test_truncated_body(fresh_api: Any, powerschool_sim: Simulator) -> None:
    powerschool_sim.inject("GET /ws/v1/student/{id}", "truncated")
    with pytest.raises(BROKEN):
        fresh_api.get("/ws/v1/student/2").json()
    assert fresh_api.get("/ws/v1/student/2").status_code == 200


def test_slow_answers_late_but_whole(fresh_api: Any, powerschool_sim: Simulator) -> None:
    powerschool_sim.slow_ms = 1
    powerschool_sim.inject("/ws/", "slow")
    assert fresh_api.get("/ws/v1/student/2").json()["student"]["id"] == 2
    assert powerschool_sim.stats.faults == {"slow": 1}


def test_429_fault_has_retry_after(fresh_api: Any, powerschool_sim: Simulator) -> None:
    powerschool_sim.inject("/ws/v1", "429")
    r = fresh_api.get("/ws/v1/district")
    assert r.status_code == 429
    assert r.headers["Retry-After"] == "1"


def test_faults_only_hit_matching_routes(fresh_api: Any, powerschool_sim: Simulator) -> None:
    powerschool_sim.inject("POST /ws/v1/student", "500")
    assert fresh_api.get("/ws/v1/student/2").status_code == 200
    assert fresh_api.post("/ws/v1/student", json={"students": {"student": []}}).status_code == 500
    assert powerschool_sim.writes == []  # a 5xx fault is answered before the write


def test_reset_after_applies_the_write(fresh_api: Any, powerschool_sim: Simulator) -> None:
    powerschool_sim.inject("POST /ws/v1/student", "reset_after")
    item = {"client_uid": "once", "action": "UPDATE", "id": 2, "contact_info": {"email": "a@b"}}
    with pytest.raises(BROKEN):
        fresh_api.post("/ws/v1/student", json={"students": {"student": item}})
    assert powerschool_sim.applied_client_uids() == {"once": 1}
    student = fresh_api.get("/ws/v1/student/2?expansions=contact_info").json()["student"]
    assert student["contact_info"]["email"] == "a@b"


def test_token_endpoint_can_fail_too(powerschool_sim: Simulator) -> None:
    powerschool_sim.inject("/oauth/access_token", "503")
    r = requests.post(
        powerschool_sim.base_url + "/oauth/access_token",
        data="grant_type=client_credentials",
        auth=(powerschool_sim.client_id, powerschool_sim.client_secret),
        timeout=10,
    )
    assert r.status_code == 503


def _outcomes(seed: int) -> list[int | str]:
    out: list[int | str] = []
    with Simulator(students=10, seed=seed) as sim:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {sim.issue_token()}"
        sim.fault_rate(0.3, kinds=["500", "503", "reset"])
        for _ in range(40):
            try:
                out.append(session.get(sim.base_url + "/ws/v1/student/2", timeout=10).status_code)
            except BROKEN:
                out.append("reset")
        session.close()
    return out


def test_random_faults_are_deterministic_from_the_seed() -> None:
    first, again, other = _outcomes(3), _outcomes(3), _outcomes(4)
    assert first == again
    assert first != other
    assert {"reset", 500, 503, 200} >= set(first)
    assert first.count(200) < 40


def test_fault_rate_skips_token_route_by_default(powerschool_sim: Simulator, make_api: Any) -> None:
    powerschool_sim.fault_rate(1.0, kinds=["500"])
    api = make_api(powerschool_sim)  # the token request is not faulted
    assert api.get("/ws/v1/district").status_code == 500
    powerschool_sim.clear_faults()
    assert api.get("/ws/v1/district").status_code == 200


def test_bad_fault_arguments() -> None:
    sim = Simulator(students=1)
    with pytest.raises(ValueError):
        sim.inject("/ws/", "explode")
    with pytest.raises(ValueError):
        sim.fault_rate(2.0)
    assert "reset" in FAULT_KINDS


@pytest.mark.powerschool_sim(throttle_ms=60_000)
def test_throttle_answers_429_with_retry_after(powerschool_sim: Simulator) -> None:
    url = powerschool_sim.base_url + "/ws/v1/time"
    assert requests.get(url, timeout=10).status_code == 200
    r = requests.get(url, timeout=10)
    assert r.status_code == 429
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert "message" in r.json()
    powerschool_sim.throttle_ms = 0
    assert requests.get(url, timeout=10).status_code == 200


@pytest.mark.powerschool_sim(latency_ms=1)
def test_latency_setting_still_answers(fresh_api: Any) -> None:
    assert fresh_api.get("/ws/v1/student/2").status_code == 200


@pytest.mark.powerschool_sim(v1_access=None)
def test_missing_v1_access_level(fresh_api: Any) -> None:
    r = fresh_api.get("/ws/v1/student/2")
    assert r.status_code == 401
    assert r.json() == {
        "errorMessage": {"message": "Plugin is missing required accessLevelV1Api READ permission"}
    }
    assert fresh_api.get("/ws/v1/metadata").status_code == 200
    assert fresh_api.get("/ws/schema/table/students/2?projection=dcid").status_code == 200


@pytest.mark.powerschool_sim(v1_access="READ")
def test_read_level_cannot_write(fresh_api: Any) -> None:
    assert fresh_api.get("/ws/v1/student/2").status_code == 200
    r = fresh_api.post("/ws/v1/student", json={"students": {"student": []}})
    assert r.status_code == 401
    assert "FULL" in r.json()["errorMessage"]["message"]


def test_handler_bug_answers_500_json(fresh_api: Any, powerschool_sim: Simulator) -> None:
    def boom(*args: Any) -> Any:
        raise RuntimeError("simulated bug")

    powerschool_sim.district.student = boom  # type: ignore[method-assign,assignment]
    r = fresh_api.get("/ws/v1/student/2")
    assert r.status_code == 500
    assert r.json()["message"].startswith("Simulator error")
    assert fresh_api.get("/ws/v1/district").status_code == 200


@pytest.mark.powerschool_sim(throttle_ms=60_000, throttle_status=509)
def test_throttle_status_can_be_509(powerschool_sim: Simulator) -> None:
    """§7 conflict: ACME maps 509 to throttling; the status is a constructor option."""
    url = powerschool_sim.base_url + "/ws/v1/time"
    assert requests.get(url, timeout=10).status_code == 200
    r = requests.get(url, timeout=10)
    assert r.status_code == 509
    assert r.reason == "Bandwidth Limit Exceeded"
    assert 1 <= int(r.headers["Retry-After"]) <= 60
    assert powerschool_sim.stats.statuses[509] == 1


def test_bad_inferred_choice_options_are_refused() -> None:
    for bad in (
        {"throttle_status": 503},
        {"oversize_pagesize": "silent"},
        {"default_format": "html"},
    ):
        with pytest.raises(ValueError):
            Simulator(students=5, **bad)
