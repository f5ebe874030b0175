"""Redaction (core/redact.py): no form of any secret survives, whatever the text around it."""

from __future__ import annotations

import base64
import json
from urllib.parse import quote

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acme_powerschool.core.errors import Answer, error_for, server_message
from acme_powerschool.core.redact import REDACTED, redact, redact_json, secret_forms
from acme_powerschool.core.token import token_from_response

secrets_text = st.text(
    st.characters(min_codepoint=33, max_codepoint=0x2FFF, exclude_characters="\\"), min_size=8
)
ids = st.text(st.characters(min_codepoint=48, max_codepoint=122), min_size=1, max_size=40)


def all_forms(client_id: str, secret: str, tokens: list[str]) -> list[str]:
    basic = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return [secret, basic, quote(secret, safe=""), *tokens]


@given(ids, secrets_text, st.lists(secrets_text, max_size=3), st.text(), st.text())
def test_no_form_of_any_secret_survives(
    client_id: str, secret: str, tokens: list[str], before: str, after: str
) -> None:
    forms = secret_forms(client_id, secret, tokens)
    for form in all_forms(client_id, secret, tokens):
        text = f"{before}{form}{after} Basic {form} Bearer {form}"
        cleaned = redact(text, forms)
        assert form not in cleaned
        assert REDACTED in cleaned


def test_json_bodies_are_redacted_in_messages_and_entries() -> None:
    forms = secret_forms("id", "the-secret-123", ["token-abc-456"])
    body = json.dumps(
        {
            "message": "echo the-secret-123",
            "errors": [{"field": "x", "code": "Bearer token-abc-456"}],
        }
    ).encode()
    answer = Answer(400, "application/json", body)
    message, entries = server_message(answer, "fallback", forms)
    assert "the-secret-123" not in message and "token-abc-456" not in repr(entries)
    error = error_for(answer, "GET /x", secrets=forms)
    assert "token-abc-456" not in str(error) and "the-secret-123" not in str(error)
    assert redact_json({"k the-secret-123": ["token-abc-456"]}, forms) == {
        f"k {REDACTED}": [REDACTED]
    }


def test_the_token_endpoints_words_are_redacted() -> None:
    forms = secret_forms("id", "the-secret-123", [])
    basic = base64.b64encode(b"id:the-secret-123").decode()
    body = json.dumps({"error": "invalid_client", "error_description": f"Basic {basic}"})
    try:
        token_from_response(401, body.encode(), 0.0, forms)
    except RuntimeError as exc:
        assert basic not in str(exc) and "invalid_client" in str(exc)
    else:
        raise AssertionError("a 401 must raise")


@pytest.mark.parametrize(
    ("secret", "encoded"),
    [
        # quote(safe="") encodes "/" (quote's default keeps it) and a space as %20 (not "+")
        ("a/b c/d-secret", "a%2Fb%20c%2Fd-secret"),
        ("a/b c/d-secret", "a%2Fb+c%2Fd-secret"),
        # the JSON-escaped form, as the secret appears inside a JSON string
        ('q"uote\\secret', 'q\\"uote\\\\secret'),
        ("sé-secret-ü", "s\\u00e9-secret-\\u00fc"),
    ],
)
def test_each_encoded_form_of_the_secret_is_redacted(secret: str, encoded: str) -> None:
    forms = secret_forms("id", secret)
    assert encoded in forms
    assert redact(f"<{encoded}>", forms) == f"<{REDACTED}>"


def test_a_json_body_echoing_the_secret_is_redacted_as_text() -> None:
    secret = 'sé"cret-1/2 3'
    body = json.dumps({"message": f"bad secret {secret}"})
    cleaned = redact(body, secret_forms("id", secret))
    assert cleaned == json.dumps({"message": f"bad secret {REDACTED}"})


@pytest.mark.parametrize(
    ("secret", "text", "expected"),
    [
        ("abc123", "x abc123 y", f"x {REDACTED} y"),  # exactly MIN_SECRET_LENGTH: redacted
        ("abc12", "x abc12 y", "x abc12 y"),  # shorter: left, it would blank ordinary words
    ],
)
def test_the_shortest_redacted_secret(secret: str, text: str, expected: str) -> None:
    assert redact(text, secret_forms(None, secret)) == expected


def test_a_secret_inside_a_longer_one_does_not_leave_the_rest_behind() -> None:
    # The shorter token sorts after the longer one as text, and sits inside it: replacing it
    # first would leave "aaaa-" and "-aaaa" of the longer token in the output.
    long, short = "aaaa-zzzzzz-aaaa", "zzzzzz"
    forms = secret_forms(None, None, [short, long])
    assert redact(f"<{long}> <{short}>", forms) == f"<{REDACTED}> <{REDACTED}>"
