"""The error table and the words of errors (core/errors.py), table-driven: which class for
which status, which message from which body, what `str()` shows."""

from __future__ import annotations

import json
import sys

import pytest

from acme_powerschool.core.errors import (
    AccessDenied,
    Answer,
    AuthenticationError,
    BadRequest,
    ConnectionFailed,
    NotFound,
    PowerSchoolError,
    RateLimited,
    ServerError,
    describe_entries,
    error_class,
    error_for,
    message_from_body,
    tls_cause,
    transport_message,
)
from acme_powerschool.core.redact import REDACTED, secret_forms

JSON = "application/json"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, BadRequest),
        (401, AuthenticationError),
        (403, AccessDenied),
        (404, NotFound),
        (405, BadRequest),
        (409, BadRequest),
        (415, BadRequest),
        (422, BadRequest),
        (429, RateLimited),
        (509, RateLimited),
        (500, ServerError),
        (503, ServerError),
        (0, ServerError),
        (499, PowerSchoolError),
        (410, PowerSchoolError),
        (1, PowerSchoolError),
    ],
)
def test_error_class(status: int, cls: type[PowerSchoolError]) -> None:
    assert error_class(status) is cls


@pytest.mark.parametrize(
    ("body", "content_type", "expected"),
    [
        (b'{"message": " Validation Failed "}', JSON, ("Validation Failed", ())),
        (b'{"message":"m","errors":[{"field":"f"}]}', JSON, ("m", ({"field": "f"},))),
        (b'{"message":"m","errors":{"field":"f"}}', "", ("m", ({"field": "f"},))),
        (b'{"message":"m","errors":"oops"}', JSON, ("m", ())),
        (b'{"errorMessage":{"message":"nested"}}', JSON, ("nested", ())),
        (b'{"errorMessage":"flat"}', JSON, ("fb", ())),
        (b'{"error":"invalid_client","error_description":"bad id"}', JSON, ("bad id", ())),
        (b'{"error":"invalid_client"}', JSON, ("invalid_client", ())),
        (b'{"message":"   "}', JSON, ("fb", ())),
        (b'{"message": 5}', JSON, ("fb", ())),
        (b"[1, 2]", JSON, ("fb", ())),
        (b'{"message":"x"', JSON, ("fb", ())),
        (b"\xff{", JSON, ("fb", ())),
        (b'{"message":"not json type"}', "text/html", ("not json type", ())),
        (b' {"message":"json type"}', "Application/JSON; charset=utf-8", ("json type", ())),
        (b'  {"message":"space first"}', "text/html", ("fb", ())),
        (b"<html>error</html>", "text/html", ("fb", ())),
        (b"", "", ("fb", ())),
        (b'{"message":"' + b"m" * 600 + b'"}', JSON, ("m" * 500, ())),
    ],
)
def test_message_from_body(
    body: bytes, content_type: str, expected: tuple[str, tuple[object, ...]]
) -> None:
    assert message_from_body(body, content_type, "fb") == expected


@pytest.mark.parametrize(
    ("entries", "message", "expected"),
    [
        ([{"field": "students.lastfirst", "code": "Invalid order column"}], "", None),
        ([{"field": "f", "code": "c", "message": "m"}], "", "f: c: m"),
        ([{"field": " f ", "code": 7}], "", "f: 7"),
        ([{"field": "f", "code": "f"}], "", "f"),  # the same words once
        ([{"field": "", "code": None, "other": "x"}], "", ""),
        ([{"code": "c"}, {"code": "c"}], "", "c"),
        (["plain", " text "], "", "plain; text"),
        ([{"field": "  ", "code": "c"}], "", "c"),
        (["X"], None, "X"),  # no message: nothing is left out
        ([{"code": "already said"}], "it is already said here", ""),
        ([], "", ""),
    ],
)
def test_describe_entries(entries: list[object], message: str | None, expected: str | None) -> None:
    want = "students.lastfirst: Invalid order column" if expected is None else expected
    if message is None:
        assert describe_entries(entries) == want
    else:
        assert describe_entries(entries, message) == want


@pytest.mark.parametrize(
    ("error", "text"),
    [
        (PowerSchoolError("m"), "m"),
        (PowerSchoolError("m", status=400), "m (HTTP 400)"),
        (PowerSchoolError("m", status=400, errors=[{"code": "c"}]), "m (HTTP 400): c"),
        (PowerSchoolError("m", errors=[{"code": "c"}]), "m: c"),
        (PowerSchoolError("bad: c", errors=[{"code": "c"}]), "bad: c"),  # said once
    ],
)
def test_str_shows_message_status_and_entries(error: PowerSchoolError, text: str) -> None:
    assert str(error) == text


def test_the_error_keeps_what_it_was_given() -> None:
    response = object()
    error = PowerSchoolError("m", status=418, errors=[{"a": 1}], response=response)
    assert (error.message, error.status, error.errors) == ("m", 418, ({"a": 1},))
    assert error.response is response and error.args == ("m",)
    plain = PowerSchoolError("n")
    assert (plain.status, plain.errors, plain.response) == (0, (), None)


def test_error_for_a_status_with_the_servers_message() -> None:
    body = json.dumps({"message": "Validation Failed", "errors": [{"code": "bad"}]}).encode()
    response = object()
    error = error_for(Answer(400, JSON, body), "POST /x", response=response)
    assert type(error) is BadRequest and error.status == 400 and error.response is response
    assert str(error) == "Validation Failed (HTTP 400): bad"
    assert error.errors == ({"code": "bad"},)


def test_error_for_falls_back_to_the_call_and_the_reason() -> None:
    assert error_for(Answer(404, "text/html", b"<html/>", "Not Found"), "GET /y").message == (
        "GET /y: Not Found"
    )
    assert error_for(Answer(404), "GET /y").message == "GET /y: HTTP error"


def test_error_for_says_why_the_retries_stopped_and_carries_the_extras() -> None:
    limited = error_for(Answer(429), "GET /z", retry_after=7.0, gave_up="gave up after 5")
    assert isinstance(limited, RateLimited) and limited.retry_after == 7.0
    assert limited.message == "GET /z: HTTP error (gave up after 5)"
    denied = error_for(Answer(403), "GET /z", access_requests="<field .../>")
    assert isinstance(denied, AccessDenied) and denied.access_requests == "<field .../>"
    assert error_for(Answer(403), "GET /z").access_requests == ""  # type: ignore[attr-defined]
    assert error_for(Answer(500), "GET /z").message == "GET /z: HTTP error"


def test_error_for_a_redirect_names_the_target_redacted() -> None:
    forms = secret_forms("id", "the-secret-123")
    error = error_for(Answer(302, location="https://x/?s=the-secret-123"), "GET /r", secrets=forms)
    assert type(error) is PowerSchoolError and error.status == 302
    assert error.message == (
        f"GET /r: the server redirected to https://x/?s={REDACTED}; API calls never follow "
        "redirects (check the server address)"
    )
    assert "no Location given" in error_for(Answer(301), "GET /r").message
    response = object()
    assert error_for(Answer(307), "GET /r", response=response).response is response
    assert "redirected" in error_for(Answer(300), "GET /r").message
    assert type(error_for(Answer(399), "GET /r")) is PowerSchoolError
    assert "redirected" not in error_for(Answer(400), "GET /r").message
    assert "redirected" not in error_for(Answer(299), "GET /r").message


def test_the_extras_have_defaults() -> None:
    assert AccessDenied("m").access_requests == ""
    assert RateLimited("m").retry_after is None
    failed = ConnectionFailed("m", kind="tls", status=0)
    assert failed.kind == "tls" and failed.message == "m" and isinstance(failed, ServerError)
    assert ConnectionFailed("m").kind == ""
    for error in (
        AccessDenied("m", status=403, errors=["e"]),
        RateLimited("m", status=403, errors=["e"]),
        ConnectionFailed("m", status=403, errors=["e"]),
    ):
        assert (error.message, error.status, error.errors, str(error)) == (
            "m",
            403,
            ("e",),
            "m (HTTP 403): e",
        )


@pytest.mark.parametrize(
    ("detail", "words"),
    [
        ("certificate verify failed: certificate has EXPIRED", "has expired"),
        ("self-signed certificate", "self-signed"),
        ("self signed certificate in certificate chain", "self-signed"),
        ("Hostname mismatch, certificate is not valid for 'x'", "not valid for this host"),
        ("hostname 'x' doesn't match 'y'", "not valid for this host"),
        ("unable to get local issuer certificate", "CA this machine does not trust"),
        ("handshake failure", "the TLS handshake failed"),
    ],
)
def test_tls_cause(detail: str, words: str) -> None:
    assert words in tls_cause(detail)


def test_transport_message() -> None:
    assert transport_message("tls", "expired", "https://h") == (
        "TLS verification failed for https://h (expired): the server's certificate has "
        "expired; its administrator must renew it"
    )
    assert transport_message("read-timeout", "", "https://h") == (
        "https://h: the server did not answer within the read timeout"
    )
    assert (
        transport_message("something-new", "why", "https://h") == "https://h: something-new (why)"
    )


def test_a_long_server_message_is_cut_at_500_characters() -> None:
    body = json.dumps({"message": "m" * 600}).encode()
    assert error_for(Answer(400, JSON, body), "GET /l").message == "m" * 500


def test_entries_too_deep_to_redact_are_dropped_not_raised() -> None:
    depth = sys.getrecursionlimit() * 2 // 3  # json.loads copes; redacting it recurses deeper
    body = b'{"message": "deep", "errors": [' + b"[" * depth + b"]" * depth + b"]}"
    error = error_for(Answer(400, JSON, body), "GET /d")
    assert error.message == "deep" and error.errors == ()
