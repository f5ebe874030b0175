"""classify: the status table, maintenance pages and Retry-After."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acme_powerschool.core.outcome import (
    Failed,
    Forbidden,
    Ok,
    Throttled,
    Unauthorized,
    Unavailable,
    classify,
    parse_retry_after,
)

MAINTENANCE = b"<html><head><title>PowerSchool</title></head><body>Page unavailable</body></html>"


@pytest.mark.parametrize(
    ("status", "headers", "body", "expected"),
    [
        (200, {"Content-Type": "application/json"}, b"{}", Ok()),
        (204, {}, b"", Ok()),
        (200, {"content-type": "text/html"}, MAINTENANCE, Unavailable(200)),
        (401, {"WWW-Authenticate": 'Bearer error="invalid_token"'}, b"", Unauthorized()),
        (
            401,
            {},
            b'{"errorMessage":{"message":"Plugin is missing required accessLevelV1Api READ"}}',
            Unauthorized(
                False,
                '{"errorMessage":{"message":"Plugin is missing required accessLevelV1Api READ"}}',
            ),
        ),
        (403, {}, b"{}", Forbidden()),
        (429, {"Retry-After": "3"}, b"", Throttled(3.0)),
        (429, {}, b"", Throttled(None)),
        (509, {"retry-after": "1.5"}, b"", Throttled(1.5)),
        (502, {}, b"", Unavailable(502)),
        (503, {"Content-Type": "text/html"}, MAINTENANCE, Unavailable(503)),
        (504, {}, b"", Unavailable(504)),
        (500, {"Content-Type": "application/json"}, b'{"message":"SQL"}', Failed(500)),
        (500, {"Content-Type": "text/html"}, MAINTENANCE, Unavailable(500)),
        (404, {}, b"", Failed(404)),
        (300, {}, b"", Failed(300)),  # 2xx ends at 299
        (503, {"Retry-After": "20"}, b"", Unavailable(503, 20.0)),
        (
            500,
            {"Content-Type": "text/html", "Retry-After": "7"},
            MAINTENANCE,
            Unavailable(500, 7.0),
        ),
        (
            200,
            {"Content-Type": "text/html", "Retry-After": "5"},
            MAINTENANCE,
            Unavailable(200, 5.0),
        ),
        (429, {"Retry-After": "Thu, 01 Jan 1970 00:00:10 GMT"}, b"", Throttled(10.0)),
        # a 401 saying the plugin is not allowed: a new token cannot help
        (401, {}, b"Must be logged in", Unauthorized(False, "Must be logged in")),
        # invalid UTF-8 in a 401 body is replaced, never raised
        (401, {}, b"\xff Must be logged in", Unauthorized(False, "\ufffd Must be logged in")),
        # 5xx: an HTML page naming an outage is one, even when it does not name PowerSchool
        (
            500,
            {"Content-Type": "text/html"},
            b"<html>Site under maintenance</html>",
            Unavailable(500),
        ),
        (500, {"Content-Type": "text/html"}, b"<html>Internal error</html>", Failed(500)),
        (500, {"Content-Type": "application/json"}, b"maintenance", Failed(500)),
        # 2xx: only PowerSchool's own page naming an outage; other HTML stays an answer
        (200, {"Content-Type": "text/html"}, b"<html>scheduled maintenance</html>", Ok()),
        (200, {"Content-Type": "text/html"}, b"<html>hello</html>", Ok()),
        (200, {"Content-Type": "text/html"}, b"<html>PowerSchool: welcome</html>", Ok()),
        (204, {"Content-Type": "text/html"}, MAINTENANCE, Ok()),
    ],
)
def test_classify_table(
    status: int, headers: dict[str, str], body: bytes, expected: object
) -> None:
    assert classify(status, headers, body, now=0.0) == expected


def test_retry_after_http_date() -> None:
    assert parse_retry_after("Thu, 01 Jan 1970 00:00:10 GMT", now=4.0) == 6.0
    assert parse_retry_after("garbage", now=0.0) is None
    assert parse_retry_after("-5", now=0.0) == 0.0
    assert parse_retry_after("nan", now=0.0) is None


@given(
    st.integers(100, 599), st.dictionaries(st.text(max_size=20), st.text(max_size=40)), st.binary()
)
def test_classify_never_raises(status: int, headers: dict[str, str], body: bytes) -> None:
    classify(status, headers, body, now=0.0)
