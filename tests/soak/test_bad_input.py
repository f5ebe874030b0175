"""Hostile response bodies through every parser and pager: only documented errors, no hang.

Hypothesis generates truncated JSON, wrong types, HTML pages, huge strings and deep nesting;
a sender answers every call of a typed helper with that body (status 200). The only error
that may come out is a PowerSchoolError (in practice ResponseFormatError). The raw-side
parsers (token, 403, error messages, classify) get the same bodies.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acme_powerschool.core.access import parse_access_denied
from acme_powerschool.core.call import Call, render_path
from acme_powerschool.core.errors import AuthenticationError, PowerSchoolError, message_from_body
from acme_powerschool.core.outcome import classify
from acme_powerschool.core.token import token_from_response
from acme_powerschool.typed import TypedHelpers

VALID = [
    {"student": {"id": 2, "name": {"first_name": "Brandon"}}},
    {"students": {"@expansions": "", "student": [{"id": 1}, {"id": 2}]}},
    {"resource": {"count": 3}},
    {"name": "Students", "record": [{"id": 1, "tables": {"students": {"dcid": "1"}}}], "count": 1},
    {"metadata": {"student_max_page_size": 100}},
    {"results": {"insert_count": 0, "update_count": 1, "result": {"status": "SUCCESS"}}},
]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(
            st.sampled_from(
                [
                    "student",
                    "students",
                    "resource",
                    "count",
                    "record",
                    "tables",
                    "metadata",
                    "results",
                    "result",
                    "name",
                    "id",
                    "school",
                    "schools",
                    "@expansions",
                    "x",
                ]
            ),
            inner,
            max_size=5,
        )
    ),
    max_leaves=25,
)


@st.composite
def truncated(draw: st.DrawFn) -> bytes:
    text = json.dumps(draw(st.sampled_from(VALID))).encode()
    return text[: draw(st.integers(0, len(text) - 1))]


bodies = st.one_of(
    truncated(),
    json_values.map(lambda v: json.dumps(v).encode()),
    st.just(b"<html><body>PowerSchool page unavailable</body></html>"),
    st.integers(1, 3).map(
        lambda n: json.dumps({"student": {"id": 2, "x": "y" * 10**6 * n}}).encode()
    ),
    st.integers(50, 5000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(50, 5000).map(lambda n: b'{"students":' * n + b"1" + b"}" * n),
    st.binary(max_size=200),
)


class HostileSender(TypedHelpers):
    """Answers every call with the same body."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.calls = 0

    def send(self, call: Call) -> requests.Response:
        self.calls += 1
        assert self.calls < 10_000, "a pager did not stop"
        response = requests.Response()
        response.status_code = 200
        response._content = self.body
        response.headers["Content-Type"] = "application/json"
        response.url = "http://127.0.0.1" + render_path(call)
        return response


HELPERS: list[Callable[[HostileSender], Any]] = [
    lambda ps: ps.students.get(2),
    lambda ps: ps.students.list().to_list(),
    lambda ps: ps.students.list(prefetch=2).to_list(),
    lambda ps: ps.students.for_school(100).to_list(),
    lambda ps: ps.students.count(),
    lambda ps: ps.schools.list().to_list(),
    lambda ps: ps.schools.get(100),
    lambda ps: ps.staff.for_school(100).to_list(),
    lambda ps: ps.sections.enrollments(1).to_list(),
    lambda ps: ps.metadata(refresh=True),
    lambda ps: ps.powerquery("com.acme.sdk.students.roster").to_list(),
    lambda ps: ps.powerquery("com.acme.sdk.students.roster").count(),
    lambda ps: ps.table("u_studentsuserfields").query(projection=["*"]).to_list(),
    lambda ps: ps.table("u_studentsuserfields").count(),
    lambda ps: ps.students.bulk_update([{"id": 2, "client_uid": "a"}]),
]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies, st.sampled_from(range(len(HELPERS))))
def test_typed_helpers_raise_only_documented_errors(body: bytes, which: int) -> None:
    with contextlib.suppress(PowerSchoolError):
        HELPERS[which](HostileSender(body))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(bodies, st.sampled_from(["application/json", "application/xml", "text/html", ""]))
def test_raw_side_parsers_never_raise(body: bytes, content_type: str) -> None:
    parse_access_denied(body, content_type)
    message_from_body(body, content_type, "fallback")
    classify(200, {"Content-Type": content_type}, body, now=0.0)
    with contextlib.suppress(AuthenticationError):
        token_from_response(200, body, now=0.0)
