"""Contract test, client side: the SDK reads every capture, raw and typed.

- Raw: `acme_powerschool.api(...).request(...)` against a tiny HTTP server on 127.0.0.1 that
  replays the capture returns it intact (status, body, headers the capture shows).
- Typed: the envelope helpers (core.envelope) and the one converter (convert.py), lenient and
  strict, turn every capture of a typed endpoint into models, and every field holds a value of
  its declared type. A strict converter raises on a field the models do not declare, so a real
  field missing from specs/*.yaml fails here.
"""

from __future__ import annotations

import collections.abc
import datetime
import json
import re
import threading
import types
import typing
import warnings
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, ClassVar

import attrs
import cattrs
import pytest
from capture_corpus import Capture, load_all, source_key

import acme_powerschool
from acme_powerschool.convert import make_converter
from acme_powerschool.core.access import parse_access_denied
from acme_powerschool.core.envelope import (
    unwrap_count,
    unwrap_list,
    unwrap_one,
    unwrap_query,
    unwrap_write,
)
from acme_powerschool.core.errors import PowerSchoolWarning
from acme_powerschool.core.retry import NO_RETRY
from acme_powerschool.core.token import token_from_response
from acme_powerschool.models import (
    Course,
    District,
    Metadata,
    School,
    Section,
    SectionEnrollment,
    StaffMember,
    Student,
    Term,
    WriteResult,
)

CAPTURES = load_all()
BY_NAME = {c.name: c for c in CAPTURES}

# ----------------------------------------------------------------------------------------------
# the corpus itself


def test_the_corpus_is_big_and_independent_enough() -> None:
    """Issue 14: at least 30 captures from at least 6 independent public sources."""
    assert len(CAPTURES) >= 30
    assert len({source_key(c) for c in CAPTURES}) >= 6


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda c: c.name)
def test_every_capture_names_its_source_and_request(capture: Capture) -> None:
    source = capture.source
    assert ("repository" in source and re.fullmatch(r"[0-9a-f]{40}", source["commit"])) or (
        "url" in source or "package" in source
    )
    assert capture.notes.strip() and capture.kind.strip()
    assert capture.method in {"GET", "POST", "PUT", "DELETE"}
    assert capture.path.startswith(("/ws/", "/oauth/"))
    assert 200 <= capture.status < 600


# ----------------------------------------------------------------------------------------------
# typed: which model reads which endpoint

Reader = Callable[[Any, cattrs.Converter], list[Any]]


def _one(singular: str, model: type[Any]) -> Reader:
    return lambda body, conv: [conv.structure(unwrap_one(body, singular), model)]


def _many(plural: str, singular: str, model: type[Any]) -> Reader:
    return lambda body, conv: [
        conv.structure(r, model) for r in unwrap_list(body, plural, singular)
    ]


def _count(body: Any, _: cattrs.Converter) -> list[Any]:
    return [unwrap_count(body)]


def _write(body: Any, conv: cattrs.Converter) -> list[Any]:
    return [conv.structure(unwrap_write(body), WriteResult)]


def _query(body: Any, _: cattrs.Converter) -> list[Any]:
    page = unwrap_query(body)
    return [page, *page.records]


ROUTES: list[tuple[str, str, Reader]] = [
    ("GET", r"/ws/v1/metadata", _one("metadata", Metadata)),
    ("GET", r"/ws/v1/district", _one("district", District)),
    ("GET", r"/ws/v1/(district|school/\d+)/student", _many("students", "student", Student)),
    ("GET", r"/ws/v1/student/\d+", _one("student", Student)),
    ("GET", r"/ws/v1/district/school", _many("schools", "school", School)),
    ("GET", r"/ws/v1/school/\d+/staff", _many("staffs", "staff", StaffMember)),
    ("GET", r"/ws/v1/staff/\d+", _one("staff", StaffMember)),
    ("GET", r"/ws/v1/school/\d+/section", _many("sections", "section", Section)),
    ("GET", r"/ws/v1/school/\d+/term", _many("terms", "term", Term)),
    ("GET", r"/ws/v1/school/\d+/course", _many("courses", "course", Course)),
    ("GET", r"/ws/v1/section_enrollment/\d+", _one("section_enrollment", SectionEnrollment)),
    ("GET", r"/ws/(v1/.*|schema/table/\w+)/count", _count),
    ("POST", r"/ws/v1/student", _write),
    ("GET", r"/ws/schema/table/\w+", _query),
    ("POST", r"/ws/schema/query/[\w.-]+", _query),
]


def reader_for(capture: Capture) -> Reader | None:
    if capture.status != 200 or capture.content_type != "application/json":
        return None
    for method, pattern, reader in ROUTES:
        if capture.method == method and re.fullmatch(pattern, capture.path):
            return reader
    return None


# A capture whose records the source elided (placeholder values) is no evidence for models.
TYPED = [c for c in CAPTURES if reader_for(c) is not None and not c.elided]


def test_typed_captures_cover_every_model() -> None:
    """Every typed route has at least one capture, and most captures are typed."""
    used = {id(reader_for(c)) for c in TYPED}
    assert all(id(reader) in used for _, _, reader in ROUTES)
    assert len(TYPED) >= 30


# A value's type against a field's declared type (resolved annotations of generated models).


def _matches(value: Any, tp: Any, where: str) -> list[str]:
    if tp is Any:
        return []
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        options = [_matches(value, arg, where) for arg in typing.get_args(tp)]
        return [] if any(not o for o in options) else [f"{where}: {value!r} is not {tp}"]
    if origin is typing.Literal:
        return [] if value in typing.get_args(tp) else [f"{where}: {value!r} not in {tp}"]
    if tp is type(None):
        return [] if value is None else [f"{where}: {value!r} is not None"]
    if origin in (list, tuple, collections.abc.Sequence):
        if not isinstance(value, list | tuple):
            return [f"{where}: {type(value).__name__} is not a list"]
        (item,) = typing.get_args(tp)[:1] or (Any,)
        return [p for i, v in enumerate(value) for p in _matches(v, item, f"{where}[{i}]")]
    if origin in (dict, collections.abc.Mapping):
        return [] if isinstance(value, Mapping) else [f"{where}: {value!r} is not a mapping"]
    if attrs.has(tp):
        return check_types(value) if isinstance(value, tp) else [f"{where}: not a {tp.__name__}"]
    if tp is bool:
        return [] if isinstance(value, bool) else [f"{where}: {value!r} is not a bool"]
    if tp in (int, float):
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        return [] if ok else [f"{where}: {value!r} is not a number"]
    if tp in (str, Decimal, datetime.date):
        return [] if isinstance(value, tp) else [f"{where}: {value!r} is not a {tp.__name__}"]
    return [] if isinstance(value, tp) else [f"{where}: {value!r} is not {tp}"]


def check_types(obj: Any) -> list[str]:
    """Every field of a model (recursively) whose value is not of its declared type."""
    cls = type(obj)
    hints = typing.get_type_hints(cls)
    problems = []
    for field in attrs.fields(cls):
        problems.extend(
            _matches(getattr(obj, field.name), hints[field.name], f"{cls.__name__}.{field.name}")
        )
    return problems


@pytest.fixture(scope="module", params=["default", "strict"])
def converter(request: pytest.FixtureRequest) -> cattrs.Converter:
    return make_converter(strict=request.param == "strict")


@pytest.mark.parametrize("capture", TYPED, ids=lambda c: c.name)
def test_models_read_every_typed_capture(capture: Capture, converter: cattrs.Converter) -> None:
    reader = reader_for(capture)
    assert reader is not None
    parsed = reader(capture.body, converter)
    assert parsed, "the capture should yield something"
    for item in parsed:
        if attrs.has(type(item)):
            assert check_types(item) == []


def test_counts_are_numbers_and_queries_keep_their_rows() -> None:
    assert _count(BY_NAME["psu_student_count"].body, make_converter())[0] == 423
    assert _count(BY_NAME["wch_schema_count"].body, make_converter())[0] == 16987
    empty = unwrap_query(BY_NAME["sm_powerquery_empty"].body)
    assert empty.records == [] and empty.name is None
    counted = unwrap_query(BY_NAME["php_powerquery_count_true"].body)
    assert counted.count == 707625 and counted.name == "Students"


def test_single_object_and_list_forms_read_alike() -> None:
    conv = make_converter(strict=True)
    edp = _many("staffs", "staff", StaffMember)(BY_NAME["edp_staff"].body, conv)
    affiliations = [len(s.school_affiliations.school_affiliation) for s in edp]
    assert affiliations == [2, 1]
    one = _many("students", "student", Student)(BY_NAME["psu_student_one_in_list"].body, conv)
    assert [s.id for s in one] == [5999]
    writes = _write(BY_NAME["psu_write_insert_error"].body, conv)[0]
    (item,) = writes.result
    (error,) = item.error_message.error
    assert error.error_code == "INVALID_LOCAL_ID"


def test_token_captures_give_a_token_and_a_lifetime() -> None:
    for name in ("psu_token", "drupal_token"):
        capture = BY_NAME[name]
        state = token_from_response(200, json.dumps(capture.body).encode(), now=1000.0)
        assert state.access_token == capture.body["access_token"]
        assert state.expires_at == 1000.0 + int(capture.body["expires_in"])


@pytest.mark.parametrize(
    "name", ["ps1_powerquery_403", "wch_schema_403_noaccess", "wch_schema_403_projection"]
)
def test_403_captures_become_access_requests(name: str) -> None:
    capture = BY_NAME[name]
    fields = parse_access_denied(json.dumps(capture.body), "application/json")
    assert len(fields) == len(capture.body["errors"])


# ----------------------------------------------------------------------------------------------
# raw: the client hands back what the server sent


class _Replay(BaseHTTPRequestHandler):
    routes: ClassVar[dict[tuple[str, str], Capture]] = {}
    seen: ClassVar[list[tuple[str, str, dict[str, str]]]] = []

    def _answer(self) -> None:
        path = self.path.split("?")[0]
        length = int(self.headers.get("Content-Length") or 0)
        if length:
            self.rfile.read(length)
        self.seen.append((self.command, path, dict(self.headers)))
        capture = self.routes.get((self.command, path))
        if capture is None:
            self.send_response(599)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        body = capture.body
        if body is None:
            payload = b""
        elif isinstance(body, str) and capture.content_type == "application/xml":
            payload = body.encode()
        else:
            payload = json.dumps(body).encode()
        self.send_response(capture.status)
        if capture.content_type:
            self.send_header("Content-Type", capture.content_type)
        for name, value in capture.response.get("headers", {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def replay() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Replay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


RAW = [c for c in CAPTURES if c.path.startswith("/ws/") and c.status != 401]


@pytest.mark.parametrize("capture", RAW, ids=lambda c: c.name)
def test_raw_client_returns_the_capture_intact(capture: Capture, replay: str) -> None:
    _Replay.routes = {(capture.method, capture.path): capture}
    ps = acme_powerschool.api(replay, access_token="tok", retry=NO_RETRY)
    kwargs: dict[str, Any] = {"params": capture.request.get("query") or None}
    body = capture.request.get("body")
    if isinstance(body, str):
        kwargs["data"] = body
    elif body is not None:
        kwargs["json"] = body
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        r = ps.request(capture.method, capture.path.lstrip("/"), **kwargs)
    assert r.status_code == capture.status
    if capture.content_type == "application/xml":
        assert r.text == capture.body
    else:
        assert r.json() == capture.body
    assert (capture.status == 403) == any(
        issubclass(w.category, PowerSchoolWarning) for w in caught
    )
    if capture.status == 403:
        assert r.access_requests.count("<field ") == len(capture.body["errors"])


@pytest.mark.parametrize("name", ["psu_token", "drupal_token"])
def test_raw_client_uses_the_captured_token(name: str, replay: str) -> None:
    token, answer = BY_NAME[name], BY_NAME["psu_student_count"]
    _Replay.routes = {("POST", "/oauth/access_token"): token, ("GET", answer.path): answer}
    _Replay.seen = []
    ps = acme_powerschool.api(replay, client_id="id", client_secret="secret", retry=NO_RETRY)
    r = ps.get(answer.path.lstrip("/"))
    assert r.json() == answer.body
    sent = [h for m, p, h in _Replay.seen if p == answer.path]
    assert sent and sent[-1]["Authorization"] == f"Bearer {token.body['access_token']}"


@pytest.mark.parametrize(
    ("name", "tries"), [("php_401_expired_token", 2), ("wch_v1_401_access_level", 1)]
)
def test_raw_client_on_a_captured_401_fetches_a_new_token_once(
    name: str, tries: int, replay: str
) -> None:
    """An expired token: a new token and one retry. A plugin without accessLevelV1Api: no retry
    (a new token cannot help, core.outcome reads the body)."""
    refused, token = BY_NAME[name], BY_NAME["drupal_token"]
    _Replay.routes = {("POST", "/oauth/access_token"): token, ("GET", refused.path): refused}
    _Replay.seen = []
    ps = acme_powerschool.api(replay, client_id="id", client_secret="secret", retry=NO_RETRY)
    r = ps.get(refused.path.lstrip("/"), params=refused.request.get("query"))
    assert r.status_code == 401
    assert r.headers.get("WWW-Authenticate") == refused.response.get("headers", {}).get(
        "WWW-Authenticate"
    )
    assert (r.json() if r.content else None) == refused.body
    token_calls = [p for _, p, _ in _Replay.seen if p == "/oauth/access_token"]
    api_calls = [p for _, p, _ in _Replay.seen if p == refused.path]
    assert len(api_calls) == tries and len(token_calls) == tries
