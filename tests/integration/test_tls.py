"""Real TLS on 127.0.0.1 with certificates made in the test (trustme): a private CA passed as
`verify=`, a wrong host name and an expired certificate, on the token request and on API
calls, with and without REQUESTS_CA_BUNDLE set. Errors say the cause and the fix."""

from __future__ import annotations

import datetime
import json
import ssl
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import requests
import trustme

import acme_powerschool
from acme_powerschool.client import transport_failure
from acme_powerschool.core.call import Call
from acme_powerschool.core.errors import AuthenticationError, ConnectionFailed
from acme_powerschool.core.retry import RetryPolicy

ONCE = RetryPolicy(max_attempts=1)
TOKEN = "tls-test-token-0001"


class Answering(BaseHTTPRequestHandler):
    def _any(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/oauth/"):
            body = {"access_token": TOKEN, "expires_in": "3600"}
        else:
            body = {"district": {"name": "TLS"}}
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = _any

    def log_message(self, *args: Any) -> None:
        pass


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # the handshakes these tests make fail on purpose


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def ca_file(ca: trustme.CA, tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("ca") / "private-ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return str(path)


def _serve(cert: trustme.LeafCert) -> Iterator[str]:
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    server = QuietServer(("127.0.0.1", 0), Answering)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"https://localhost:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="module")
def good(ca: trustme.CA) -> Iterator[str]:
    yield from _serve(ca.issue_cert("localhost", "127.0.0.1"))


@pytest.fixture(scope="module")
def wrong_host(ca: trustme.CA) -> Iterator[str]:
    yield from _serve(ca.issue_cert("not-this-host.example"))


@pytest.fixture(scope="module")
def expired(ca: trustme.CA) -> Iterator[str]:
    past = datetime.datetime(2020, 1, 1, tzinfo=datetime.timezone.utc)
    yield from _serve(
        ca.issue_cert("localhost", not_before=past, not_after=past + datetime.timedelta(days=1))
    )


def token_request(url: str, **kwargs: Any) -> None:
    ps = acme_powerschool.api(
        url, client_id="tls-id", client_secret="tls-secret-1", retry=ONCE, **kwargs
    )
    ps.fetch_token()


def api_call(url: str, **kwargs: Any) -> None:
    ps = acme_powerschool.api(url, access_token=TOKEN, retry=ONCE, **kwargs)
    ps.send(Call("GET", "/ws/v1/district"))


CALLS = {"token": (token_request, AuthenticationError), "api": (api_call, ConnectionFailed)}


@pytest.fixture(params=[None, "unrelated", "private"], ids=["no-env", "env-other", "env-ca"])
def ca_bundle_env(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, ca_file: str, tmp_path: Path
) -> str | None:
    """REQUESTS_CA_BUNDLE unset, set to a bundle without our CA, or set to our CA."""
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    if request.param is None:
        monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
        return None
    if request.param == "unrelated":
        other = tmp_path / "other-ca.pem"
        trustme.CA().cert_pem.write_to_path(str(other))
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(other))
        return "unrelated"
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
    return "private"


@pytest.mark.parametrize("which", list(CALLS))
def test_a_private_ca_passed_as_verify_is_trusted_whatever_the_environment(
    which: str, good: str, ca_file: str, ca_bundle_env: str | None
) -> None:
    call, _ = CALLS[which]
    call(good, verify=ca_file)


@pytest.mark.parametrize("which", list(CALLS))
def test_without_verify_the_environment_bundle_applies(
    which: str, good: str, ca_bundle_env: str | None
) -> None:
    call, error = CALLS[which]
    if ca_bundle_env == "private":
        call(good)
        return
    with pytest.raises(error, match="TLS verification failed") as info:
        call(good)
    assert "does not trust" in str(info.value) and "verify=" in str(info.value)


@pytest.mark.parametrize("which", list(CALLS))
@pytest.mark.parametrize(
    ("server", "cause"),
    [("wrong_host", "not valid for this host name"), ("expired", "has expired")],
)
def test_a_bad_certificate_names_its_cause(
    which: str,
    server: str,
    cause: str,
    ca_file: str,
    ca_bundle_env: str | None,
    request: pytest.FixtureRequest,
) -> None:
    call, error = CALLS[which]
    with pytest.raises(error, match=cause):
        call(request.getfixturevalue(server), verify=ca_file)


@pytest.mark.filterwarnings("ignore::urllib3.exceptions.InsecureRequestWarning")
def test_verify_false_is_honoured_even_with_a_bundle_in_the_environment(
    expired: str, monkeypatch: pytest.MonkeyPatch, ca_file: str
) -> None:
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", ca_file)
    api_call(expired, verify=False)


def test_a_raw_verb_raises_requests_error_and_the_library_explains_it(
    expired: str, ca_file: str
) -> None:
    ps = acme_powerschool.api(expired, access_token=TOKEN, retry=ONCE, verify=ca_file)
    with pytest.raises(requests.exceptions.SSLError) as info:
        ps.get("ws/v1/district")
    explained = transport_failure(info.value, "localhost")
    assert explained is not None and explained.kind == "tls"
    assert "has expired" in str(explained)
