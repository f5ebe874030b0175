"""OAuth, Bearer checks, metadata and time, as the fact sheet §1-2 describes them."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests

from acme_powerschool.testing import Simulator

FORM = {"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"}


def _token(sim: Simulator, path: str = "/oauth/access_token", **kw: object) -> requests.Response:
    kw.setdefault("data", "grant_type=client_credentials")
    kw.setdefault("auth", (sim.client_id, sim.client_secret))
    return requests.post(sim.base_url + path, headers=FORM, timeout=10, **kw)  # type: ignore[arg-type]


def test_token_body_has_string_expires_in_and_bearer_type(powerschool_sim: Simulator) -> None:
    r = _token(powerschool_sim)
    assert r.status_code == 200
    body = r.json()
    assert set(body) == {"access_token", "token_type", "expires_in"}
    assert body["token_type"] == "Bearer"
    assert isinstance(body["expires_in"], str)
    assert int(body["expires_in"]) == 30 * 24 * 3600


def test_token_endpoint_accepts_trailing_slash_and_query_string_grant(
    powerschool_sim: Simulator,
) -> None:
    assert _token(powerschool_sim, "/oauth/access_token/").status_code == 200
    r = _token(powerschool_sim, "/oauth/access_token?grant_type=client_credentials", data="")
    assert r.status_code == 200


def test_same_token_reissued_while_valid(powerschool_sim: Simulator) -> None:
    first = _token(powerschool_sim).json()
    second = _token(powerschool_sim).json()
    assert first["access_token"] == second["access_token"]
    assert int(second["expires_in"]) <= int(first["expires_in"])


def test_bad_credentials_answer_401_invalid_client(powerschool_sim: Simulator) -> None:
    r = _token(powerschool_sim, auth=(powerschool_sim.client_id, "wrong"))
    assert r.status_code == 401
    assert r.json()["error"] == "invalid_client"
    assert "error_description" in r.json()
    assert (
        requests.post(
            powerschool_sim.base_url + "/oauth/access_token",
            data="grant_type=client_credentials",
            headers=FORM,
            timeout=10,
        ).status_code
        == 401
    )


def test_wrong_grant_type_is_400_and_get_is_405(powerschool_sim: Simulator) -> None:
    assert _token(powerschool_sim, data="grant_type=password").status_code == 400
    r = requests.get(powerschool_sim.base_url + "/oauth/access_token", timeout=10)
    assert r.status_code == 405


def test_bearer_required_on_ws(powerschool_sim: Simulator) -> None:
    r = requests.get(powerschool_sim.base_url + "/ws/v1/student/2", timeout=10)
    assert r.status_code == 401
    header = r.headers["WWW-Authenticate"]
    assert header.startswith('Bearer error="invalid_token",realm="PowerSchool"')
    r = requests.get(
        powerschool_sim.base_url + "/ws/v1/student/2",
        headers={"Authorization": "Bearer not-a-token"},
        timeout=10,
    )
    assert r.status_code == 401


def test_expired_token_gets_the_expired_header_and_a_new_token(
    powerschool_sim: Simulator, make_api: Callable[..., Any]
) -> None:
    api = make_api(powerschool_sim)
    assert api.get("/ws/v1/student/2").status_code == 200
    powerschool_sim.expire_tokens()
    r = api.get("/ws/v1/student/2")
    assert r.status_code == 401
    assert r.headers["WWW-Authenticate"] == (
        'Bearer error="invalid_token",realm="PowerSchool",'
        'error_description="The access token has expired"'
    )
    assert api.fetch_token() != api.token


def test_zero_lifetime_tokens_are_born_expired(powerschool_sim: Simulator) -> None:
    powerschool_sim.token_lifetime = 0
    body = _token(powerschool_sim).json()
    assert body["expires_in"] == "0"
    r = requests.get(
        powerschool_sim.base_url + "/ws/v1/district",
        headers={"Authorization": f"Bearer {body['access_token']}"},
        timeout=10,
    )
    assert r.status_code == 401
    assert "has expired" in r.headers["WWW-Authenticate"]


def test_revoked_tokens_are_invalid(
    powerschool_sim: Simulator, make_api: Callable[..., Any]
) -> None:
    api = make_api(powerschool_sim)
    powerschool_sim.revoke_tokens()
    r = api.get("/ws/v1/district")
    assert r.status_code == 401
    assert "invalid" in r.headers["WWW-Authenticate"]


def test_metadata_open_without_token_plugin_id_only_with_one(
    powerschool_sim: Simulator, make_api: Callable[..., Any]
) -> None:
    r = requests.get(powerschool_sim.base_url + "/ws/v1/metadata", timeout=10)
    assert r.status_code == 200
    meta = r.json()["metadata"]
    assert "plugin_id" not in meta
    assert meta["student_max_page_size"] == 100
    assert meta["staff_max_page_size"] == 100
    assert meta["schema_table_query_max_page_size"] == 100
    assert isinstance(meta["powerschool_version"], str)
    api = make_api(powerschool_sim)
    assert api.get("/ws/v1/metadata").json()["metadata"]["plugin_id"] == 1234


def test_metadata_reports_configured_page_size() -> None:
    with Simulator(students=10, max_page_size=250) as sim:
        meta = requests.get(sim.base_url + "/ws/v1/metadata", timeout=10).json()["metadata"]
        assert meta["student_max_page_size"] == 250


def test_time_needs_no_token(powerschool_sim: Simulator) -> None:
    r = requests.get(powerschool_sim.base_url + "/ws/v1/time", timeout=10)
    assert r.status_code == 200
    resource = r.json()["resource"]
    assert isinstance(resource["time"], str)
    assert isinstance(resource["timestamp"], int)


def test_stats_count_token_requests_apart(
    powerschool_sim: Simulator, make_api: Callable[..., Any]
) -> None:
    api = make_api(powerschool_sim)
    api.get("/ws/v1/student/2")
    api.get("/ws/v1/student/3")
    api.get("/ws/v1/district/student/count")
    stats = powerschool_sim.stats
    assert stats.token_requests == 1
    assert stats.requests == 3
    assert stats.by_route["GET /ws/v1/student/{id}"] == 2
    assert stats.by_route["POST /oauth/access_token"] == 1
    assert stats.statuses[200] == 4
    stats.reset()
    assert stats.requests == 0
    assert stats.by_route == {}


def test_credentials_are_deterministic_from_the_seed() -> None:
    a, b, c = Simulator(students=1, seed=5), Simulator(students=1, seed=5), Simulator(seed=6)
    assert (a.client_id, a.client_secret) == (b.client_id, b.client_secret)
    assert a.client_id != c.client_id
    custom = Simulator(students=1, client_id="id", client_secret="secret")
    assert (custom.client_id, custom.client_secret) == ("id", "secret")
