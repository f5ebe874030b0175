"""The REST client against the simulator over real HTTP on 127.0.0.1.

Every credential pattern, 401 after revocation, throttling, each injected fault, XML, typed
errors, redirects and threads sharing one client. Sleeps requested by the retry policy are
recorded instead of slept where the fault does not depend on time.
"""

from __future__ import annotations

import json
import os
import stat
import threading
import warnings
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pytest
import requests

import acme_powerschool
from acme_powerschool.core.call import Call
from acme_powerschool.core.errors import AccessDenied, NotFound, ServerError
from acme_powerschool.shell.effects import Effects
from acme_powerschool.testing import Simulator

SEED_403 = "ws/schema/query/com.pearson.core.attendance.daily_attendance_template"


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(students=200, seed=7) as simulator:
        yield simulator
        stats = simulator.stats  # shown with -s: the figures quoted in the note
        print(f"\nclient suite: {stats.requests} requests, {stats.token_requests} token requests")


@pytest.fixture(autouse=True)
def clean(sim: Simulator) -> Iterator[None]:
    sim.clear_faults()
    sim.throttle_ms = 0
    yield
    sim.clear_faults()
    sim.throttle_ms = 0


class Sleeps:
    def __init__(self) -> None:
        self.calls: list[float] = []

    def effects(self) -> Effects:
        return Effects(sleep=self.calls.append)


def client(sim: Simulator, **kwargs: Any) -> acme_powerschool.api:
    if not any(k in kwargs for k in ("credential_file", "plugin", "access_token")):
        kwargs.setdefault("client_id", sim.client_id)
        kwargs.setdefault("client_secret", sim.client_secret)
    return acme_powerschool.api(sim.base_url, **kwargs)


def test_client_credentials_fetch_the_token_lazily(sim: Simulator) -> None:
    before = sim.stats.token_requests
    ps = client(sim)
    assert sim.stats.token_requests == before
    assert ps.get("ws/v1/student/2").json()["student"]["name"]["first_name"] == "Brandon"
    assert ps.get("/ws/v1/student/2").status_code == 200
    assert sim.stats.token_requests == before + 1


def test_given_access_token_is_used_as_is(sim: Simulator) -> None:
    token = client(sim)._obtain_access_token()
    before = sim.stats.token_requests
    ps = acme_powerschool.api(sim.base_url, access_token=token)
    assert ps.get("ws/v1/district").status_code == 200
    assert sim.stats.token_requests == before
    sim.revoke_tokens()
    with pytest.raises(RuntimeError, match="rejected the access token"):
        ps.get("ws/v1/district")


def test_credential_file_caches_the_token_across_runs(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(
        json.dumps({"client_id": sim.client_id, "client_secret": sim.client_secret, "x": 1})
    )
    before = sim.stats.token_requests
    client(sim, credential_file=path).get("ws/v1/district")
    saved = json.loads(path.read_text())
    assert saved["x"] == 1 and saved["client_secret"] == sim.client_secret
    assert saved["access_token"]
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    for _ in range(2):  # the next runs reuse it without asking the server
        assert client(sim, credential_file=path).get("ws/v1/district").status_code == 200
    assert sim.stats.token_requests == before + 1
    sim.revoke_tokens()
    client(sim, credential_file=path).get("ws/v1/district")
    assert json.loads(path.read_text())["access_token"] != saved["access_token"]
    assert sim.stats.token_requests == before + 2


def test_plugin_keyring_prompts_once_then_reuses(sim: Simulator, file_keyring: Any) -> None:
    asked: list[str] = []
    answers = iter([sim.client_id, sim.client_secret])

    def prompt(text: str) -> str:
        asked.append(text)
        return next(answers)

    import sys

    monkey_tty = sys.stdin
    try:
        sys.stdin = type("TTY", (), {"isatty": staticmethod(lambda: True)})()  # type: ignore[assignment]
        ps = client(sim, plugin="My Plugin", prompt=prompt)
    finally:
        sys.stdin = monkey_tty
    assert len(asked) == 2
    ps.get("ws/v1/district")
    service = sim.base_url.split("://", 1)[1]
    value = json.loads(file_keyring.get_password(service, "My Plugin"))
    assert value["client_id"] == sim.client_id and value["access_token"]
    before = sim.stats.token_requests
    again = client(sim, plugin="My Plugin", prompt=lambda _: pytest.fail("asked again"))
    assert again.get("ws/v1/district").status_code == 200
    assert sim.stats.token_requests == before


def test_401_after_revocation_refreshes_once(sim: Simulator) -> None:
    ps = client(sim)
    ps.get("ws/v1/district")
    before = sim.stats.token_requests
    sim.revoke_tokens()
    assert ps.get("ws/v1/student/2").status_code == 200
    assert sim.stats.token_requests == before + 1


def test_threads_sharing_a_client_make_one_token_request(sim: Simulator) -> None:
    ps = client(sim)
    ps.get("ws/v1/district")
    sim.revoke_tokens()
    before = sim.stats.token_requests
    barrier = threading.Barrier(16)
    statuses: list[int] = []

    def work() -> None:
        barrier.wait()
        statuses.append(ps.get("ws/v1/student/2").status_code)

    threads = [threading.Thread(target=work) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 16
    assert sim.stats.token_requests == before + 1


def test_throttling_is_waited_out(sim: Simulator) -> None:
    ps = client(sim)
    ps.get("ws/v1/district")
    sim.throttle_ms = 400  # far above a loopback round trip, so a 429 comes even on a busy box
    assert [ps.get("ws/v1/district").status_code for _ in range(3)] == [200, 200, 200]
    assert sim.stats.statuses.get(429, 0) >= 1


@pytest.mark.parametrize("fault", ["500", "502", "503", "429", "reset", "truncated"])
def test_reads_survive_each_fault(sim: Simulator, fault: str) -> None:
    sleeps = Sleeps()
    ps = client(sim, effects=sleeps.effects())
    ps.get("ws/v1/district")
    sim.inject("/ws/v1/student/2", fault, times=1)
    response = ps.get("ws/v1/student/2")
    if fault == "500":  # a plain 500 is final: PowerSchool's SQL errors do not heal
        assert response.status_code == 500
        return
    assert response.status_code == 200
    assert response.json()["student"]["id"] == 2
    assert len(sleeps.calls) == 1


def test_slow_response_hits_the_read_timeout_then_succeeds(sim: Simulator) -> None:
    sleeps = Sleeps()
    ps = client(sim, effects=sleeps.effects(), timeout=(5.0, 0.2))
    ps.get("ws/v1/district")
    sim.slow_ms = 1500
    sim.inject("/ws/v1/district", "slow", times=1)
    assert ps.get("ws/v1/district").status_code == 200
    assert len(sleeps.calls) == 1


def _update(ps: acme_powerschool.api, uid: str) -> requests.Response:
    body = {
        "students": {
            "student": {"id": "3", "client_uid": uid, "action": "UPDATE", "contact_info": {}}
        }
    }
    return ps.post("ws/v1/student", data=json.dumps(body))


def test_writes_are_never_sent_twice(sim: Simulator) -> None:
    sleeps = Sleeps()
    ps = client(sim, effects=sleeps.effects())
    ps.get("ws/v1/district")
    sim.inject("POST /ws/v1/student", "503", times=1)
    assert _update(ps, "w-503").status_code == 503
    sim.inject("POST /ws/v1/student", "reset_after", times=1)
    with pytest.raises(requests.ConnectionError):
        _update(ps, "w-reset")
    applied = sim.applied_client_uids()
    assert applied["w-503"] == 0
    assert applied["w-reset"] == 1
    assert sleeps.calls == []


def test_xml_per_request_and_per_session(sim: Simulator) -> None:
    ps = client(sim)
    assert ps.get("ws/v1/district/school", headers={"Accept": "application/xml"}).text.startswith(
        "<?xml"
    )
    assert ps.get("ws/v1/district/school").json()["schools"]
    ps.session.headers["Accept"] = "application/xml"
    assert "<schools" in ps.get("ws/v1/district/school").text


def test_raw_403_warns_and_sets_access_requests(sim: Simulator) -> None:
    ps = client(sim)
    with pytest.warns(acme_powerschool.PowerSchoolWarning, match="attendance"):
        response = ps.post(SEED_403, data='{"studentid": "2"}')
    assert response.status_code == 403
    assert response.access_requests == (  # type: ignore[attr-defined]
        '<field table="attendance" field="studentid" access="ViewOnly" />'
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert ps.get("ws/v1/district").access_requests == ""  # type: ignore[attr-defined]


def test_typed_send_raises_typed_errors(sim: Simulator) -> None:
    ps = client(sim)
    with pytest.raises(AccessDenied) as denied:
        ps.send(
            Call(
                "POST",
                "/ws/schema/query/{name}",
                {"name": "com.pearson.core.attendance.daily_attendance_template"},
                json={"studentid": "2"},
                idempotent=True,
            )
        )
    assert denied.value.status == 403
    assert "attendance" in denied.value.access_requests
    with pytest.raises(NotFound):
        ps.send(Call("GET", "/ws/v1/student/{id}", {"id": 999_999_999}))
    sleeps = Sleeps()
    ps = client(sim, effects=sleeps.effects())
    sim.inject("/ws/v1/district", "503", times=10)
    with pytest.raises(ServerError):
        ps.send(Call("GET", "/ws/v1/district"))
    assert len(sleeps.calls) == 4  # five attempts by default


class _Recorder(BaseHTTPRequestHandler):
    seen: ClassVar[list[dict[str, str]]] = []
    target = ""

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers))
        length = int(self.headers.get("Content-Length") or 0)
        self.rfile.read(length)
        if self.target:
            self.send_response(302)
            self.send_header("Location", self.target)
        else:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"{}")

    do_POST = do_GET

    def log_message(self, *args: Any) -> None:
        pass


def test_api_calls_never_follow_a_redirect() -> None:
    """A 3xx is returned (raw verbs, with a warning naming the target) or raised (typed path),
    never followed: a write cannot turn into a GET, nor its body go to another host."""
    from acme_powerschool.core.call import Call
    from acme_powerschool.core.errors import PowerSchoolError, PowerSchoolWarning

    class Other(_Recorder):
        seen: ClassVar[list[dict[str, str]]] = []

    class First(_Recorder):
        seen: ClassVar[list[dict[str, str]]] = []

    other = ThreadingHTTPServer(("127.0.0.2", 0), Other)
    first = ThreadingHTTPServer(("127.0.0.1", 0), First)
    First.target = f"http://127.0.0.2:{other.server_address[1]}/landing"
    for server in (other, first):
        threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        ps = acme_powerschool.api(f"http://127.0.0.1:{first.server_address[1]}", access_token="tok")
        with pytest.warns(PowerSchoolWarning, match=f"redirected to {First.target}"):
            assert ps.post("ws/v1/student", json={"students": {}}).status_code == 302
        with pytest.raises(PowerSchoolError, match=f"redirected to {First.target}") as caught:
            ps.send(Call("GET", "/ws/v1/district"))
        assert caught.value.status == 302
        assert First.seen[0]["Authorization"] == "Bearer tok"
        assert len(First.seen) == 2 and Other.seen == []
    finally:
        for server in (other, first):
            server.shutdown()
            server.server_close()


def test_logs_never_carry_secrets_or_tokens(
    sim: Simulator, caplog: pytest.LogCaptureFixture
) -> None:
    import logging

    caplog.set_level(logging.DEBUG)
    sleeps = Sleeps()
    ps = client(sim, effects=sleeps.effects())
    ps.get("ws/v1/district")
    sim.revoke_tokens()
    sim.inject("/ws/v1/district", "503", times=1)
    ps.get("ws/v1/district")
    token = ps._access_token
    assert token
    text = "\n".join(record.getMessage() for record in caplog.records)
    assert "retrying" in text and "access token" in text
    for secret in (sim.client_secret, token):
        assert secret not in text


def test_streamed_responses_are_left_unread(sim: Simulator) -> None:
    ps = client(sim)
    response = ps.get("ws/v1/district/school", stream=True)
    assert response.status_code == 200
    assert not response._content_consumed  # type: ignore[attr-defined]
    assert json.loads(b"".join(response.iter_content(1024)))["schools"]


@pytest.mark.parametrize("fault", ["502", "503", "429", "reset", "truncated"])
def test_the_token_request_survives_each_fault(sim: Simulator, fault: str) -> None:
    sleeps = Sleeps()
    ps = client(sim, effects=sleeps.effects())
    sim.inject("/oauth/access_token", fault, times=1)
    assert ps.get("ws/v1/district").status_code == 200
    assert len(sleeps.calls) == 1


def test_a_throttled_write_is_retried_and_applied_once(sim: Simulator) -> None:
    sleeps = Sleeps()
    ps = client(sim, effects=sleeps.effects())
    ps.get("ws/v1/district")
    sim.inject("POST /ws/v1/student", "429", times=1)
    assert _update(ps, "w-429").status_code == 200
    assert sim.applied_client_uids()["w-429"] == 1
    assert len(sleeps.calls) == 1


def test_a_raw_powerquery_post_is_retried(sim: Simulator) -> None:
    sleeps = Sleeps()
    ps = client(sim, effects=sleeps.effects())
    sim.inject("/ws/schema/query/", "503", times=1)
    response = ps.post("ws/schema/query/com.acme.sdk.students.flat", json={})
    assert response.status_code == 200
    assert response.json()["record"]


def test_a_client_reuses_the_token_another_client_saved(sim: Simulator, tmp_path: Path) -> None:
    """Two processes (here two clients) on one credential file: after a revocation the first
    refreshes, the second finds that token in the file instead of asking the server."""
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"client_id": sim.client_id, "client_secret": sim.client_secret}))
    first, second = client(sim, credential_file=path), client(sim, credential_file=path)
    first.get("ws/v1/district")
    second.get("ws/v1/district")
    sim.revoke_tokens()
    before = sim.stats.token_requests
    first.get("ws/v1/district")
    assert second.get("ws/v1/district").status_code == 200
    assert sim.stats.token_requests == before + 1
    assert second._access_token == first._access_token


def test_a_symlinked_credential_file_is_written_through(sim: Simulator, tmp_path: Path) -> None:
    target = tmp_path / "secrets" / "credentials.json"
    target.parent.mkdir()
    target.write_text(json.dumps({"client_id": sim.client_id, "client_secret": sim.client_secret}))
    link = tmp_path / "credentials.json"
    link.symlink_to(target)
    client(sim, credential_file=link).get("ws/v1/district")
    assert link.is_symlink()
    assert json.loads(target.read_text())["access_token"]


def test_the_keyring_entry_keeps_keys_it_does_not_know(sim: Simulator, file_keyring: Any) -> None:
    service = sim.base_url.split("://", 1)[1]
    file_keyring.set_password(
        service,
        "Keep",
        json.dumps(
            {"client_id": sim.client_id, "client_secret": sim.client_secret, "note": "mine"}
        ),
    )
    client(sim, plugin="Keep").get("ws/v1/district")
    value = json.loads(file_keyring.get_password(service, "Keep"))
    assert value["note"] == "mine" and value["access_token"]


def test_rejected_stored_credentials_name_their_store(sim: Simulator, tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    path.write_text(json.dumps({"client_id": "wrong", "client_secret": "also-wrong"}))
    with pytest.raises(RuntimeError) as info:
        client(sim, credential_file=path).get("ws/v1/district")
    assert str(path) in str(info.value)
    assert "also-wrong" not in str(info.value)
