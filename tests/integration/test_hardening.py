"""Hardening (issue 11) and actionable errors (issue 13), over real HTTP on 127.0.0.1.

Each test names the behaviour it proves; each failed before its fix. Servers here are the
simulator or a few lines of http.server written for the one hostile behaviour under test.
Clocks are fake where a deadline matters: nothing sleeps.
"""

from __future__ import annotations

import base64
import contextlib
import json
import logging
import threading
import warnings
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

import acme_powerschool
from acme_powerschool.client import Response
from acme_powerschool.core.call import Call, InvalidPath
from acme_powerschool.core.config import Limits, Timeouts
from acme_powerschool.core.errors import (
    AuthenticationError,
    BadRequest,
    ConnectionFailed,
    NotFound,
    PowerSchoolError,
    PowerSchoolWarning,
)
from acme_powerschool.core.ids import InvalidId
from acme_powerschool.core.retry import RetryPolicy
from acme_powerschool.shell.effects import Effects
from acme_powerschool.testing import Simulator

SECRET = "s3cr3t-client-secret-value"
CLIENT_ID = "hardening-client"
BASIC = base64.b64encode(f"{CLIENT_ID}:{SECRET}".encode()).decode()


@pytest.fixture(scope="module")
def sim() -> Iterator[Simulator]:
    with Simulator(students=50, seed=11) as simulator:
        yield simulator


def own_client(url: str, **kwargs: Any) -> acme_powerschool.api:
    """A client of a scripted server, with this file's credentials."""
    return acme_powerschool.api(url, client_id=CLIENT_ID, client_secret=SECRET, **kwargs)


def sim_client(sim: Simulator, **kwargs: Any) -> acme_powerschool.api:
    return acme_powerschool.api(
        sim.base_url, client_id=sim.client_id, client_secret=sim.client_secret, **kwargs
    )


# -- a tiny scripted server -------------------------------------------------------------------


Handler = Callable[[BaseHTTPRequestHandler, int], None]


@contextlib.contextmanager
def serve(handle: Handler) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """An HTTP server on 127.0.0.1 calling `handle(request, n)` for its n-th request."""
    seen: list[dict[str, str]] = []

    class Scripted(BaseHTTPRequestHandler):
        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode("utf-8", "replace")
            seen.append({**dict(self.headers), ":path": self.path, ":body": body})
            handle(self, len(seen))

        do_GET = do_POST = do_PUT = do_DELETE = _any

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Scripted)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()


def reply(request: BaseHTTPRequestHandler, status: int, body: bytes, **headers: str) -> None:
    request.send_response(status)
    headers.setdefault("Content-Type", "application/json")
    for name, value in headers.items():
        request.send_header(name.replace("_", "-"), value)
    request.send_header("Content-Length", str(len(body)))
    request.end_headers()
    request.wfile.write(body)


def token_body(n: int) -> bytes:
    return json.dumps({"access_token": f"issued-token-{n:04d}-xyz", "expires_in": "3600"}).encode()


def echoing(request: BaseHTTPRequestHandler, n: int) -> None:
    """A server that echoes the request's credentials in every error (a bad proxy)."""
    auth = request.headers.get("Authorization", "")
    bearer = auth.removeprefix("Bearer ")
    if request.path.startswith("/oauth/"):
        if n == 1:
            reply(request, 200, token_body(n))
            return
        text = f"bad {auth} {SECRET} {bearer}"
        reply(
            request,
            401,
            json.dumps({"error": "invalid_client", "error_description": text}).encode(),
        )
        return
    body = {"message": f"echo {auth} {bearer} {SECRET}", "errors": [{"field": "x", "code": bearer}]}
    status = {3: 403, 4: 401}.get(n, 400)
    reply(request, status, json.dumps(body).encode())


def every_form(tokens: list[str]) -> list[str]:
    return [SECRET, BASIC, *tokens]


def chain_text(exc: BaseException | None) -> str:
    parts: list[str] = []
    while exc is not None:
        parts += [str(exc), repr(exc), repr(getattr(exc, "errors", ""))]
        parts += list(getattr(exc, "__notes__", []))
        exc = exc.__cause__ or exc.__context__
    return "\n".join(parts)


# -- issue 11 item 1: secrets redacted from every server text ---------------------------------


def test_server_text_never_carries_any_form_of_any_secret(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with serve(echoing) as (url, seen):
        ps = own_client(
            url,
        )
        with pytest.raises(BadRequest) as bad:
            ps.send(Call("GET", "/ws/v1/district"))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert ps.get("ws/v1/district").status_code == 403
            with pytest.raises(AuthenticationError) as refused:
                ps.get("ws/v1/district")  # 401 -> the token request is refused, echoing
        tokens = ["issued-token-0001-xyz"]
        texts = [
            chain_text(bad.value),
            chain_text(refused.value),
            *(str(w.message) for w in caught),
            caplog.text,
            repr(ps),
        ]
    assert any("Basic" in s.get("Authorization", "") for s in seen)  # the echo had material
    assert len(caught) == 1 and "PowerSchool refused the request (403)" in texts[2]
    assert "[redacted]" in texts[0] and "[redacted]" in texts[1]
    for text in texts:
        for form in every_form(tokens):
            assert form not in text


# -- item 4: the caller's transport settings win over the environment ------------------------


def test_netrc_and_environment_proxies_are_never_used(
    sim: Simulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A ~/.netrc entry for the server and HTTP(S)_PROXY would replace our headers or send
    the token through a proxy in clear; for a loopback http:// server neither applies."""
    proxied: list[dict[str, str]] = []

    def proxy(request: BaseHTTPRequestHandler, n: int) -> None:
        proxied.append(dict(request.headers))
        reply(request, 502, b"{}")

    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login intruder password from-netrc\n")
    netrc.chmod(0o600)
    with serve(proxy) as (proxy_url, _):
        monkeypatch.setenv("HOME", str(tmp_path))
        monkeypatch.setenv("NETRC", str(netrc))
        for name in ("HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY"):
            monkeypatch.setenv(name, proxy_url)
        monkeypatch.delenv("NO_PROXY", raising=False)
        monkeypatch.delenv("no_proxy", raising=False)
        ps = sim_client(sim)
        assert ps.get("ws/v1/student/2").status_code == 200
    assert proxied == []
    assert ps.session.trust_env is False and ps.session.proxies == {}


def test_the_callers_verify_wins_over_requests_ca_bundle(sim: Simulator) -> None:
    env = {"REQUESTS_CA_BUNDLE": "/nonexistent/ca.pem", "CURL_CA_BUNDLE": "/nope.pem"}
    said = acme_powerschool.api(
        sim.base_url, access_token="t0k3n-value", verify=False, effects=Effects(environ=lambda: env)
    )
    silent = acme_powerschool.api(
        sim.base_url, access_token="t0k3n-value", effects=Effects(environ=lambda: env)
    )
    assert said.session.verify is False
    assert silent.session.verify == "/nonexistent/ca.pem"


# -- item 5 is in test_client_sim.py::test_api_calls_never_follow_a_redirect ------------------

# -- item 6: deadlines and sizes ------------------------------------------------------------


def test_a_huge_token_answer_is_cut_off() -> None:
    def huge(request: BaseHTTPRequestHandler, n: int) -> None:
        reply(request, 200, b'{"access_token": "' + b"a" * 200_000 + b'"}')

    with serve(huge) as (url, _):
        ps = own_client(
            url,
        )
        with pytest.raises(AuthenticationError, match="larger than"):
            ps.fetch_token()


def test_a_huge_error_body_is_cut_off_and_not_retried() -> None:
    def huge(request: BaseHTTPRequestHandler, n: int) -> None:
        if request.path.startswith("/oauth/"):
            reply(request, 200, token_body(n))
        else:
            reply(request, 500, b"x" * 300_000, Content_Type="text/plain")

    with serve(huge) as (url, seen):
        ps = own_client(url, limits=Limits(error_body=100_000))
        with pytest.raises(ConnectionFailed, match="larger than") as info:
            ps.send(Call("GET", "/ws/v1/district"))
    assert info.value.kind == "too-large"
    assert len(seen) == 2  # the token, then one try


def test_a_slow_body_is_cut_off_at_the_deadline() -> None:
    """The clock is fake: each reading of it moves it on by 10 s, so the second chunk of the
    body arrives past a 15 s deadline however fast the machine is."""

    def dripping(request: BaseHTTPRequestHandler, n: int) -> None:
        if request.path.startswith("/oauth/"):
            reply(request, 200, token_body(n))
            return
        request.send_response(200)
        request.send_header("Content-Type", "application/json")
        request.send_header("Transfer-Encoding", "chunked")
        request.end_headers()
        for _ in range(50):
            piece = b" " * 70_000
            request.wfile.write(f"{len(piece):x}\r\n".encode() + piece + b"\r\n")
            request.wfile.flush()
        request.wfile.write(b"0\r\n\r\n")

    clock = [1_000.0]

    def now() -> float:
        clock[0] += 10.0
        return clock[0]

    with serve(dripping) as (url, _):
        ps = own_client(
            url,
            timeout=Timeouts(total=15.0),
            retry=RetryPolicy(max_attempts=1),
            effects=Effects(now=now, sleep=lambda s: None),
        )
        with pytest.raises(ConnectionFailed, match="deadline") as info:
            ps.send(Call("GET", "/ws/v1/district"))
    assert info.value.kind == "deadline"


# -- item 7: dot segments ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "ws/schema/query/../../v1/student",
        "ws/schema/query/%2e%2e/%2E%2E/v1/student",
        "ws/schema/query/..;/..;/v1/student",
        "ws/v1/./student",
    ],
)
def test_dot_segments_are_refused_before_anything_is_sent(path: str) -> None:
    with serve(lambda r, n: reply(r, 200, token_body(n))) as (url, seen):
        ps = own_client(
            url,
        )
        with pytest.raises(InvalidPath, match="dot segment"):
            ps.post(path, json={"students": {"student": {}}})
    assert seen == []


def test_a_path_parameter_is_held_to_the_id_rule(sim: Simulator) -> None:
    ps = sim_client(sim)
    with pytest.raises(InvalidId, match="not an ASCII digit"):
        ps.students.get("²")
    with pytest.raises(InvalidPath):
        ps.send(Call("GET", "/ws/v1/student/{id}", path_params={"id": ".."}))


# -- item 13: a persistent 401 ------------------------------------------------------------------


def test_a_persistent_401_stops_token_requests_for_a_while(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def refusing(request: BaseHTTPRequestHandler, n: int) -> None:
        if request.path.startswith("/oauth/"):
            reply(request, 200, token_body(n))
        else:
            reply(request, 401, b"{}", WWW_Authenticate='Bearer error="invalid_token"')

    clock = [1_000.0]
    effects = Effects(now=lambda: clock[0], sleep=lambda s: None)
    with serve(refusing) as (url, _):
        ps = own_client(
            url,
            retry=RetryPolicy(refused_token_hold=600.0),
            effects=effects,
        )
        with caplog.at_level(logging.WARNING, logger="acme_powerschool"):
            statuses = [ps.get("ws/v1/district").status_code for _ in range(10)]
        assert statuses == [401] * 10
        assert ps.token_requests == 2  # was 11: one per call after the first
        assert "refused a freshly issued token" in caplog.text
        with pytest.raises(AuthenticationError, match="freshly issued token"):
            ps.send(Call("GET", "/ws/v1/district"))
        assert ps.token_requests == 2
        clock[0] += 601  # the hold is over: one more try with a fresh token
        ps.get("ws/v1/district")
        assert ps.token_requests == 3


# -- item 15: the XML form of a schema-table 403 ----------------------------------------------


def test_the_xml_schema_table_403_names_the_missing_fields() -> None:
    with Simulator(students=5, seed=3, grants=[("students", "dcid")]) as sim:
        ps = sim_client(sim)
        with pytest.warns(PowerSchoolWarning, match="access_requests"):
            xml = ps.get(
                "ws/schema/table/students",
                params={"projection": "dcid,last_name"},
                headers={"Accept": "application/xml"},
            )
        assert xml.status_code == 403 and xml.headers["Content-Type"].startswith("application/xml")
        assert xml.access_requests == (
            '<field table="students" field="last_name" access="ViewOnly" />'
        )


# -- issue 13: errors a user can act on ---------------------------------------------------------


def test_a_bad_request_keeps_powerschools_field_errors(sim: Simulator) -> None:
    ps = sim_client(sim)
    with pytest.raises(BadRequest) as info:
        query = "/ws/schema/query/com.acme.sdk.students.by_school"
        ps.send(Call("POST", query, json={"schoolid": "abc"}))
    assert "schoolid: Invalid number" in str(info.value)


def test_a_refused_port_is_named(sim: Simulator) -> None:
    with serve(lambda r, n: None) as (url, _):
        pass  # the port is free again: nothing listens
    once = RetryPolicy(max_attempts=1)
    ps = acme_powerschool.api(url, access_token="t0k3n-value", retry=once)
    with pytest.raises(ConnectionFailed, match="refused") as info:
        ps.send(Call("GET", "/ws/v1/district"))
    assert info.value.kind == "connect-refused"
    fresh = acme_powerschool.api(url, client_id="a", client_secret="b-secret", retry=once)
    with pytest.raises(AuthenticationError, match="refused"):
        fresh.fetch_token()


def test_raw_verbs_return_a_typed_response_and_the_client_closes(sim: Simulator) -> None:
    with sim_client(sim) as ps:
        r = ps.get("ws/v1/student/2")
        assert isinstance(r, Response) and r.access_requests == ""
        assert r.json()["student"]["id"] == 2
        pools = ps.session.get_adapter(sim.base_url).poolmanager.pools  # type: ignore[attr-defined]
        assert len(pools) == 1
    assert len(pools) == 0  # close() released the connections


def test_raise_for_response_is_the_typed_error(sim: Simulator) -> None:
    ps = sim_client(sim)
    response = ps.get("ws/v1/student/99999999")
    with pytest.raises(NotFound) as info:
        ps.raise_for_response(response)
    assert info.value.status == 404 and info.value.response is response
    blank = ps.get("ws/v1/student/99999999")
    blank._content = b""  # no message from the server: the fallback names the call
    with pytest.raises(PowerSchoolError, match="GET /ws/v1/student/99999999"):
        ps.raise_for_response(blank)
    ps.raise_for_response(ps.get("ws/v1/student/2"))  # a 2xx is quiet


def test_no_channel_carries_any_token_ever_issued(caplog: pytest.LogCaptureFixture) -> None:
    """Three tokens issued in turn, then every answer echoes all of them, the secret and the
    Basic value: exceptions (typed, raise_for_response, redirect, refused token), warnings
    (403, 3xx), DEBUG logs and reprs carry none of them."""
    issued: list[str] = []

    def echo_all(request: BaseHTTPRequestHandler, n: int) -> None:
        auth = request.headers.get("Authorization", "")
        everything = " ".join([auth, SECRET, *issued])
        if request.path.startswith("/oauth/"):
            if len(issued) < 3:
                issued.append(f"issued-token-{len(issued) + 1:04d}-xyz")
                reply(request, 200, json.dumps({"access_token": issued[-1]}).encode())
            else:
                reply(request, 401, json.dumps({"error_description": everything}).encode())
            return
        status = {"/ws/a": 400, "/ws/b": 403, "/ws/c": 302}[request.path]
        body = {"message": everything, "errors": [{"field": "f", "code": everything}]}
        reply(request, status, json.dumps(body).encode(), Location=f"https://x/{everything}")

    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    with serve(echo_all) as (url, _), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ps = own_client(
            url,
        )
        for _ in range(3):
            texts.append(repr(ps.fetch_token()))
        for path in ("/ws/a", "/ws/b", "/ws/c"):
            with pytest.raises(PowerSchoolError) as typed:
                ps.send(Call("GET", path))
            texts.append(chain_text(typed.value))
            raw = ps.get(path)
            with pytest.raises(PowerSchoolError) as mapped:
                ps.raise_for_response(raw)
            texts.append(chain_text(mapped.value))
        with pytest.raises(AuthenticationError) as refused:
            ps.fetch_token()
        texts.append(chain_text(refused.value))
        texts += [str(w.message) for w in caught]
        texts += [caplog.text, repr(ps), repr(ps.token_state)]
    assert len(issued) == 3 and len(caught) >= 2
    joined = "\n".join(texts)
    assert joined.count("[redacted]") >= 10
    for form in every_form(issued):
        assert form not in joined, form


def test_the_client_redacts_text_for_its_callers(sim: Simulator) -> None:
    ps = sim_client(sim)
    token = ps.fetch_token().access_token
    basic = base64.b64encode(f"{sim.client_id}:{sim.client_secret}".encode()).decode()
    text = ps.redact(f"a {sim.client_secret} b Basic {basic} c Bearer {token} d")
    assert text == "a [redacted] b Basic [redacted] c Bearer [redacted] d"


def test_no_retry_starts_past_the_calls_overall_deadline() -> None:
    def busy(request: BaseHTTPRequestHandler, n: int) -> None:
        if request.path.startswith("/oauth/"):
            reply(request, 200, token_body(n))
        else:
            reply(request, 503, b"{}", Retry_After="100")

    sleeps: list[float] = []
    with serve(busy) as (url, seen):
        ps = own_client(
            url,
            timeout=Timeouts(total=60.0),
            retry=RetryPolicy(max_total_wait=1000.0),
            effects=Effects(sleep=sleeps.append),
        )
        with pytest.raises(PowerSchoolError, match="would pass the call's deadline"):
            ps.send(Call("GET", "/ws/v1/district"))
    assert sleeps == [] and len(seen) == 2  # the token, one try, no 100 s wait
