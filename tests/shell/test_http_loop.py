"""The shell's loop driven by a scripted session and fake Effects: no sockets, no clock."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
import requests
import urllib3

from acme_powerschool.client import api
from acme_powerschool.core.errors import AuthenticationError, ServerError
from acme_powerschool.core.retry import RetryPolicy
from acme_powerschool.shell.effects import Effects

TOKEN_BODY = {"access_token": "tok-1", "token_type": "Bearer", "expires_in": "3600"}


def response(
    status: int, body: Any = None, headers: dict[str, str] | None = None
) -> requests.Response:
    resp = requests.Response()
    resp.status_code = status
    if isinstance(body, bytes):
        resp._content = body
    else:
        resp._content = json.dumps(body if body is not None else {}).encode()
    resp.headers.update({"Content-Type": "application/json", **(headers or {})})
    return resp


Step = requests.Response | Exception | Callable[[], requests.Response]


class ScriptedSession(requests.Session):
    """Answers each request with the next scripted step; records what was sent."""

    def __init__(self, script: list[Step], token_bodies: list[Any] | None = None) -> None:
        super().__init__()
        self.script = list(script)
        self.token_bodies = list(token_bodies or [TOKEN_BODY])
        self.sent: list[tuple[str, str, dict[str, str]]] = []
        self.token_calls = 0

    def request(
        self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any
    ) -> requests.Response:  # type: ignore[override]
        headers = dict(kwargs.get("headers") or {})
        if str(url).endswith("/oauth/access_token"):
            self.token_calls += 1
            body = self.token_bodies[min(self.token_calls, len(self.token_bodies)) - 1]
            return response(200, body) if not isinstance(body, requests.Response) else body
        self.sent.append((str(method), str(url), headers))
        step = self.script.pop(0)
        if isinstance(step, Exception):
            raise step
        if callable(step):
            return step()
        return step


class FakeEffects:
    def __init__(self) -> None:
        self.clock = 1_000_000.0
        self.sleeps: list[float] = []

    def effects(self, jitter: float = 0.5) -> Effects:
        def sleep(seconds: float) -> None:
            self.sleeps.append(seconds)
            self.clock += seconds

        return Effects(now=lambda: self.clock, sleep=sleep, jitter=lambda: jitter)


def client(session: ScriptedSession, fx: FakeEffects, **kwargs: Any) -> api:
    kwargs.setdefault("client_id", "id")
    kwargs.setdefault("client_secret", "secret")
    return api("ps.example.org", session=session, effects=fx.effects(), **kwargs)


def test_token_is_fetched_lazily_and_sent_as_bearer() -> None:
    session = ScriptedSession([response(200, {"student": {"id": 2}})])
    fx = FakeEffects()
    ps = client(session, fx)
    assert session.token_calls == 0
    resp = ps.get("ws/v1/student/2")
    assert resp.status_code == 200
    method, url, headers = session.sent[0]
    assert (method, url) == ("GET", "https://ps.example.org/ws/v1/student/2")
    assert headers["Authorization"] == "Bearer tok-1"
    assert ps.session.headers["Authorization"] == "Bearer tok-1"
    assert ps._access_token == "tok-1"


def test_503_then_success_waits_with_jittered_backoff() -> None:
    maintenance = response(
        503, b"<html>PowerSchool page unavailable</html>", {"Content-Type": "text/html"}
    )
    session = ScriptedSession([maintenance, response(502), response(200, {"ok": 1})])
    fx = FakeEffects()
    ps = client(session, fx)
    assert ps.get("/ws/v1/district").status_code == 200
    assert fx.sleeps == [0.5 * 0.5, 0.5 * 1.0]  # jitter 0.5 of 0.5 s, then of 1 s


def test_retry_after_is_honoured() -> None:
    session = ScriptedSession([response(429, {}, {"Retry-After": "3"}), response(200)])
    fx = FakeEffects()
    assert client(session, fx).get("ws/v1/district").status_code == 200
    assert fx.sleeps == [3.0]


def test_write_post_is_not_repeated_after_a_503() -> None:
    session = ScriptedSession([response(503), response(200)])
    fx = FakeEffects()
    resp = client(session, fx).post("ws/v1/student", json={"students": {}})
    assert resp.status_code == 503
    assert len(session.sent) == 1 and fx.sleeps == []


def test_write_post_is_repeated_when_the_connection_never_opened() -> None:
    refused = requests.ConnectionError(urllib3.exceptions.NewConnectionError(None, "refused"))  # type: ignore[arg-type]
    session = ScriptedSession([refused, response(200)])
    fx = FakeEffects()
    assert client(session, fx).post("ws/v1/student", json={}).status_code == 200
    assert len(session.sent) == 2


def test_write_post_reset_after_sending_is_not_repeated() -> None:
    reset = requests.ConnectionError("Connection aborted: RemoteDisconnected")
    session = ScriptedSession([reset, response(200)])
    fx = FakeEffects()
    with pytest.raises(requests.ConnectionError):
        client(session, fx).post("ws/v1/student", json={})
    assert len(session.sent) == 1


def test_powerquery_post_is_safe_to_repeat_in_the_typed_path() -> None:
    from acme_powerschool.core.call import Call

    session = ScriptedSession([response(502), response(200, {"record": []})])
    fx = FakeEffects()
    ps = client(session, fx)
    call = Call("POST", "/ws/schema/query/{name}", {"name": "q"}, json={}, idempotent=True)
    assert ps.send(call).status_code == 200
    assert len(session.sent) == 2


def test_401_gets_one_new_token_and_one_retry() -> None:
    unauthorized = response(401, b"", {"WWW-Authenticate": 'Bearer error="invalid_token"'})
    session = ScriptedSession(
        [response(200), unauthorized, response(200)],
        token_bodies=[TOKEN_BODY, {**TOKEN_BODY, "access_token": "tok-2"}],
    )
    fx = FakeEffects()
    ps = client(session, fx)
    ps.get("ws/v1/district")
    assert ps.get("ws/v1/district").status_code == 200
    assert session.token_calls == 2
    assert session.sent[-1][2]["Authorization"] == "Bearer tok-2"


def test_401_twice_returns_the_response_to_the_raw_verb() -> None:
    unauthorized = response(401, b"")
    session = ScriptedSession([unauthorized, unauthorized, response(200)])
    fx = FakeEffects()
    assert client(session, fx).get("ws/v1/district").status_code == 401
    assert session.token_calls == 2


def test_given_token_rejected_without_credentials_is_a_runtime_error() -> None:
    session = ScriptedSession([response(401, b"")])
    fx = FakeEffects()
    ps = api("ps.example.org", access_token="given", session=session, effects=fx.effects())
    with pytest.raises(RuntimeError, match="no client_id/client_secret"):
        ps.get("ws/v1/district")
    assert session.token_calls == 0


def test_bad_credentials_are_a_runtime_error_without_the_secret() -> None:
    bad = response(401, {"error": "invalid_client", "error_description": "Bad client credentials"})
    session = ScriptedSession([], token_bodies=[bad])
    fx = FakeEffects()
    ps = client(session, fx, client_secret="very-secret-value")
    with pytest.raises(AuthenticationError) as info:
        ps.get("ws/v1/district")
    assert isinstance(info.value, RuntimeError)
    assert "invalid_client" in str(info.value)
    assert "very-secret-value" not in str(info.value)


def test_obtain_access_token_needs_both_halves() -> None:
    with pytest.raises(RuntimeError, match="client_secret is missing"):
        api("ps.example.org", client_id="only-id")
    ps = api("ps.example.org", access_token="t")
    with pytest.raises(RuntimeError, match="client_id and client_secret"):
        ps._obtain_access_token()


def test_proactive_refresh_before_expiry() -> None:
    session = ScriptedSession(
        [response(200), response(200)],
        token_bodies=[TOKEN_BODY, {**TOKEN_BODY, "access_token": "tok-2"}],
    )
    fx = FakeEffects()
    ps = client(session, fx)
    ps.get("ws/v1/district")
    fx.clock += 3500  # within the last 10% of a one-hour token
    ps.get("ws/v1/district")
    assert session.token_calls == 2
    assert session.sent[-1][2]["Authorization"] == "Bearer tok-2"


def test_typed_send_raises_after_the_retry_budget() -> None:
    from acme_powerschool.core.call import Call

    session = ScriptedSession([response(503)] * 3)
    fx = FakeEffects()
    ps = client(session, fx, retry=RetryPolicy(max_attempts=3))
    with pytest.raises(ServerError):
        ps.send(Call("GET", "/ws/v1/district"))
    assert len(session.sent) == 3


def _chain(exc: BaseException | None) -> str:
    text = []
    while exc is not None:
        text += [str(exc), repr(exc)]
        exc = exc.__cause__ or exc.__context__
    return "\n".join(text)


def test_repr_and_errors_hide_secrets() -> None:
    from acme_powerschool.core.call import Call

    session = ScriptedSession([response(200), *[response(503)] * 5])
    fx = FakeEffects()
    ps = client(session, fx, client_secret="s3cr3t-value")
    ps.get("ws/v1/district")
    assert "s3cr3t-value" not in repr(ps)
    assert "tok-1" not in repr(ps)
    with pytest.raises(ServerError) as gave_up:
        ps.send(Call("GET", "/ws/v1/district"))
    bad = response(401, {"error": "invalid_client"})
    refused = client(ScriptedSession([], token_bodies=[bad]), fx, client_secret="s3cr3t-value")
    with pytest.raises(AuthenticationError) as rejected:
        refused.get("ws/v1/district")
    for info in (gave_up, rejected):
        text = _chain(info.value)
        assert "s3cr3t-value" not in text and "tok-1" not in text


def test_full_url_only_for_the_same_server() -> None:
    session = ScriptedSession([response(200)])
    fx = FakeEffects()
    ps = client(session, fx)
    ps.get("https://ps.example.org/ws/v1/district?x=1")
    assert session.sent[0][1] == "https://ps.example.org/ws/v1/district?x=1"
    with pytest.raises(ValueError, match="never sent to another server"):
        ps.get("https://evil.example.com/ws/v1/district")


def test_a_reissued_token_is_not_refreshed_again_before_its_deadline() -> None:
    """PowerSchool answers a refresh of a live token with the same token and less time left
    (fact sheet 1.7); asking again before the deadline would only repeat that."""
    session = ScriptedSession(
        [response(200)] * 4,
        token_bodies=[
            {**TOKEN_BODY, "expires_in": "100"},
            {**TOKEN_BODY, "expires_in": "5"},  # the same tok-1, 5 s left
            {**TOKEN_BODY, "access_token": "tok-2", "expires_in": "100"},
        ],
    )
    fx = FakeEffects()
    ps = client(session, fx)
    ps.get("ws/v1/district")  # token 1
    fx.clock += 95  # inside the last 10%: refresh early, get tok-1 back
    ps.get("ws/v1/district")
    fx.clock += 3  # before the deadline: no new request
    ps.get("ws/v1/district")
    assert session.token_calls == 2
    fx.clock += 3  # past it: a new token
    ps.get("ws/v1/district")
    assert session.token_calls == 3
    assert session.sent[-1][2]["Authorization"] == "Bearer tok-2"


def test_tls_failure_is_final_and_named() -> None:
    from acme_powerschool.core.call import Call

    session = ScriptedSession([requests.exceptions.SSLError("certificate verify failed")] * 3)
    fx = FakeEffects()
    ps = client(session, fx)
    with pytest.raises(requests.exceptions.SSLError):
        ps.get("ws/v1/district")
    assert len(session.sent) == 1 and fx.sleeps == []
    with pytest.raises(ServerError, match="TLS verification failed"):
        ps.send(Call("GET", "/ws/v1/district"))
    assert len(session.sent) == 2


def test_a_file_body_is_never_sent_twice() -> None:
    import io

    session = ScriptedSession([response(503), response(200)])
    fx = FakeEffects()
    assert client(session, fx).put("ws/x/1", data=io.BytesIO(b"{}")).status_code == 503
    assert len(session.sent) == 1


def test_given_token_is_stripped_and_a_bad_one_refused_without_echo() -> None:
    session = ScriptedSession([response(200)])
    fx = FakeEffects()
    ps = api("ps.example.org", access_token="tok-x\n", session=session, effects=fx.effects())
    ps.get("ws/v1/district")
    assert session.sent[0][2]["Authorization"] == "Bearer tok-x"
    with pytest.raises(ValueError) as info:
        api("ps.example.org", access_token="tok inner-secret")
    assert "inner-secret" not in str(info.value)


def test_conflicting_credential_patterns_are_refused(tmp_path: Any) -> None:
    with pytest.raises(ValueError, match="one or the other"):
        api("ps.example.org", client_id="a", client_secret="b", plugin="P")
    with pytest.raises(ValueError, match="one or the other"):
        api("ps.example.org", client_id="a", client_secret="b", credential_file=tmp_path / "c")
    with pytest.raises(ValueError, match="not both"):
        api("ps.example.org", plugin="P", credential_file=tmp_path / "c")


def test_a_403_without_fields_still_warns() -> None:
    from acme_powerschool.core.errors import PowerSchoolWarning

    body = {"message": "Plugin lacks access"}
    session = ScriptedSession([response(403, body)])
    fx = FakeEffects()
    with pytest.warns(PowerSchoolWarning, match="Plugin lacks access") as caught:
        resp = client(session, fx).get("ws/v1/district")
    assert resp.access_requests == ""  # type: ignore[attr-defined]
    assert caught[0].filename == __file__  # the warning points at the caller's line


def test_the_warning_points_at_the_caller_of_request_too() -> None:
    from acme_powerschool.core.errors import PowerSchoolWarning

    session = ScriptedSession([response(403, {"message": "no"})])
    fx = FakeEffects()
    with pytest.warns(PowerSchoolWarning) as caught:
        client(session, fx).request("GET", "ws/v1/district")
    assert caught[0].filename == __file__


@pytest.mark.parametrize(
    ("failure", "kind", "words"),
    [
        (
            requests.ConnectionError(
                urllib3.exceptions.MaxRetryError(
                    None,  # type: ignore[arg-type]
                    "/",
                    urllib3.exceptions.NameResolutionError("ps.example.org", None, OSError("x")),  # type: ignore[arg-type]
                )
            ),
            "name-not-found",
            "name was not found",
        ),
        (
            requests.ConnectionError(
                urllib3.exceptions.MaxRetryError(
                    None,  # type: ignore[arg-type]
                    "/",
                    urllib3.exceptions.NewConnectionError(None, "refused"),  # type: ignore[arg-type]
                )
            ),
            "connect-refused",
            "refused",
        ),
        (requests.ConnectTimeout("slow"), "connect-timeout", "connect timeout"),
        (requests.ReadTimeout("slow"), "read-timeout", "read timeout"),
        (
            requests.ConnectionError(ConnectionResetError(104, "Connection reset by peer")),
            "connection-reset",
            "reset",
        ),
    ],
)
def test_network_failures_name_what_failed(failure: Exception, kind: str, words: str) -> None:
    from acme_powerschool.core.call import Call
    from acme_powerschool.core.errors import ConnectionFailed

    session = ScriptedSession([failure])
    ps = client(session, FakeEffects(), retry=RetryPolicy(max_attempts=1))
    with pytest.raises(ConnectionFailed, match=words) as info:
        ps.send(Call("GET", "/ws/v1/district"))
    assert info.value.kind == kind and "ps.example.org" in str(info.value)


def test_a_maintenance_page_on_the_token_endpoint_is_a_503() -> None:
    page = response(
        200, b"<html>PowerSchool page unavailable</html>", {"Content-Type": "text/html"}
    )
    session = ScriptedSession([], token_bodies=[page])
    fx = FakeEffects()
    ps = client(session, fx, retry=RetryPolicy(max_attempts=2))
    with pytest.raises(AuthenticationError, match="could not obtain") as info:
        ps.get("ws/v1/district")
    assert info.value.status == 503 and session.token_calls == 2 and len(fx.sleeps) == 1
