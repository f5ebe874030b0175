"""The simulator: a real HTTP/1.1 PowerSchool on loopback, built from the fact sheet alone.

Standard library HTTP (ThreadingHTTPServer, keep-alive, exact Content-Length) over the seeded
district. It must never import the client side of this package; every answer shape here is
read from /work/shared/powerschool-api.md, not from the SDK.
"""

from __future__ import annotations

import base64
import collections
import contextlib
import json
import math
import random
import re
import socket
import struct
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from itertools import islice
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import attrs

from acme_powerschool.testing import wire
from acme_powerschool.testing.district import (
    DISTRICT_EXPANSIONS,
    SCHOOL_EXPANSIONS,
    SECTION_EXPANSIONS,
    STAFF_EXPANSIONS,
    STUDENT_EXPANSIONS,
    STUDENT_EXTENSIONS,
    District,
    Json,
    _mix,
)
from acme_powerschool.testing.faults import APPLIES_REQUEST, FaultPlan
from acme_powerschool.testing.qfilter import Clause, QError, is_number, matches, parse_q
from acme_powerschool.testing.queries import QUERIES, PowerQuery, record_of
from acme_powerschool.testing.tables import (
    REFUSED_TABLES,
    Row,
    Table,
    TableError,
    build_tables,
    extension_row_for,
    text,
)

DEFAULT_TOKEN_LIFETIME = 30 * 24 * 3600  # fact sheet §1.6: 30 days
PAGE_SIZE_KEYS = (
    "course_max_page_size",
    "school_max_page_size",
    "schema_table_query_max_page_size",
    "section_max_page_size",
    "section_enrollment_max_page_size",
    "staff_max_page_size",
    "student_max_page_size",
    "term_max_page_size",
)
# The one default denial: the original README's 403 example must happen out of the box.
DEFAULT_DENIED = frozenset({("attendance", "studentid")})
JSON_TYPE = "application/json"
XML_TYPE = "application/xml"


@attrs.frozen
class Write:
    """One write request as received, and the client_uids (or row ids) it applied."""

    method: str
    path: str
    body: Any
    applied: tuple[str, ...]


class Stats:
    """Request counters, thread-safe. `requests` excludes token requests (`token_requests`)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests = 0
        self._token_requests = 0
        self._by_route: collections.Counter[str] = collections.Counter()
        self._statuses: collections.Counter[int] = collections.Counter()
        self._faults: collections.Counter[str] = collections.Counter()

    def count(self, route: str, token: bool) -> None:
        with self._lock:
            if token:
                self._token_requests += 1
            else:
                self._requests += 1
            self._by_route[route] += 1

    def status(self, status: int) -> None:
        with self._lock:
            self._statuses[status] += 1

    def fault(self, kind: str) -> None:
        with self._lock:
            self._faults[kind] += 1

    def reset(self) -> None:
        with self._lock:
            self._requests = self._token_requests = 0
            self._by_route.clear()
            self._statuses.clear()
            self._faults.clear()

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    @property
    def token_requests(self) -> int:
        with self._lock:
            return self._token_requests

    @property
    def by_route(self) -> dict[str, int]:
        with self._lock:
            return dict(self._by_route)

    @property
    def statuses(self) -> dict[int, int]:
        with self._lock:
            return dict(self._statuses)

    @property
    def faults(self) -> dict[str, int]:
        with self._lock:
            return dict(self._faults)

    def __repr__(self) -> str:
        return (
            f"Stats(requests={self.requests}, token_requests={self.token_requests}, "
            f"by_route={self.by_route})"
        )


@attrs.define
class Reply:
    status: int
    body: Any = None  # a JSON-able tree, or bytes sent as they are
    content_type: str = JSON_TYPE
    headers: dict[str, str] = attrs.field(factory=dict)
    v1: bool = False  # subject to the XML→JSON quirks when they are on


class HttpError(Exception):
    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.reply = Reply(status, body, headers=headers or {})


def _message(status: int, message: str) -> HttpError:
    return HttpError(status, {"message": message})


@attrs.define
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: Mapping[str, str]
    body: bytes
    params: dict[str, str] = attrs.field(factory=dict)

    def json_body(self) -> Any:
        try:
            return json.loads(self.body.decode("utf-8") or "null")
        except (UnicodeDecodeError, ValueError) as exc:
            raise _message(400, f"Malformed JSON body: {exc}") from None

    def int_param(self, name: str) -> int:
        try:
            return int(self.params[name])
        except ValueError:
            raise _message(404, f"Resource not found: {self.path}") from None

    def paging(self, max_size: int, default: int | None = None) -> tuple[int, int]:
        """(offset, limit) from page (1-based) and pagesize (capped silently at the max)."""
        try:
            page = int(self.query.get("page", "1") or "1")
            size = int(self.query.get("pagesize", str(default or max_size)) or max_size)
        except ValueError:
            raise _message(400, "page and pagesize must be integers") from None
        page = max(page, 1)
        size = max_size if size <= 0 else min(size, max_size)
        return (page - 1) * size, size


Handler = Callable[["Simulator", Request], Reply]


@attrs.frozen
class Route:
    name: str  # "GET /ws/v1/student/{id}": the key of Stats.by_route
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    authorized: bool  # needs a Bearer token


ROUTES: list[Route] = []


def route(method: str, template: str, authorized: bool = True) -> Callable[[Handler], Handler]:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)

    def register(fn: Handler) -> Handler:
        ROUTES.append(
            Route(f"{method} {template}", method, re.compile(f"^{regex}/?$"), fn, authorized)
        )
        return fn

    return register


class Simulator:
    """A running PowerSchool on 127.0.0.1: `with Simulator(students=5000, seed=1) as sim:`.

    Controls (safe to change while running): `token_lifetime` (seconds), `latency_ms` (added
    to every request), `throttle_ms` (minimum interval between requests; faster ones get 429
    with Retry-After), `slow_ms` (delay of the "slow" fault), `xml_quirks` (numeric-looking
    strings become numbers in /ws/v1 JSON), `max_page_size`, `v1_access` ("FULL", "READ" or
    None, the plugin's accessLevelV1Api), `schema_write_shape` ("top" or "results").
    """

    def __init__(
        self,
        students: int = 500,
        schools: int = 3,
        seed: int = 1,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        client_id: str | None = None,
        client_secret: str | None = None,
        max_page_size: int = 100,
        token_lifetime: float = DEFAULT_TOKEN_LIFETIME,
        latency_ms: float = 0.0,
        throttle_ms: float = 0.0,
        slow_ms: float = 2000.0,
        xml_quirks: bool = False,
        grants: Iterable[tuple[str, str]] | None = None,
        v1_access: str | None = "FULL",
        schema_write_shape: str = "top",
        plugin_id: int = 1234,
    ) -> None:
        if max_page_size < 1:
            raise ValueError("max_page_size must be >= 1")
        self.seed = seed
        self.district = District(students=students, schools=schools, seed=seed)
        self.tables: dict[str, Table] = build_tables(self.district)
        self.queries: dict[str, PowerQuery] = dict(QUERIES)
        ident = random.Random(_mix(seed, 99))
        self.client_id = client_id or _uuid(ident)
        self.client_secret = client_secret or _uuid(ident)
        self._token_rng = random.Random(_mix(seed, 98))
        self.max_page_size = max_page_size
        self.token_lifetime = token_lifetime
        self.latency_ms = latency_ms
        self.throttle_ms = throttle_ms
        self.slow_ms = slow_ms
        self.xml_quirks = xml_quirks
        self.v1_access = v1_access
        self.schema_write_shape = schema_write_shape
        self.plugin_id = plugin_id
        self.stats = Stats()
        self.writes: list[Write] = []
        self.lock = threading.RLock()
        self._faults = FaultPlan(_mix(seed, 97))
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self._current_token: str | None = None
        self._last_request = -math.inf
        self._throttle_lock = threading.Lock()
        self._grants: set[tuple[str, str]] | None = None
        self._denied: set[tuple[str, str]] = set(DEFAULT_DENIED)
        if grants is not None:
            self.set_grants(grants)
        self._host, self._port = host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.started_at = time.time()

    # ----- lifecycle -----

    def start(self) -> Simulator:
        if self._server is not None:
            return self
        server = _Server((self._host, self._port), _RequestHandler)
        server.simulator = self
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.05},
            daemon=True,
            name="powerschool-simulator",
        )
        self._thread.start()
        return self

    def close(self) -> None:
        server, self._server = self._server, None
        if server is None:
            return
        server.shutdown()
        with self._connections_lock:
            open_connections = list(self._connections)
        for conn in open_connections:
            # Idle keep-alive connections would otherwise keep their threads waiting.
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the simulator is not running: call start() or use `with`")
        return int(self._server.server_address[1])

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def __repr__(self) -> str:
        where = self.base_url if self._server is not None else "stopped"
        return f"Simulator({where}, students={self.district.student_count}, seed={self.seed})"

    # ----- tokens -----

    def revoke_tokens(self) -> None:
        """Forget every token (as "Regenerate Client ID and Secret" does): they become invalid."""
        with self.lock:
            self._tokens.clear()
            self._current_token = None

    def expire_tokens(self) -> None:
        """Make every issued token expired (401 "The access token has expired")."""
        with self.lock:
            now = time.monotonic()
            for token in self._tokens:
                self._tokens[token] = now - 1
            self._current_token = None

    def issue_token(self) -> str:
        """A valid token without a round trip (for tests of code that is handed a token)."""
        with self.lock:
            return self._token_for_client()[0]

    def _token_for_client(self) -> tuple[str, int]:
        now = time.monotonic()
        current = self._current_token
        if current is not None and self._tokens.get(current, -math.inf) > now:
            return current, int(self._tokens[current] - now)
        token = _uuid(self._token_rng)
        self._tokens[token] = now + self.token_lifetime
        self._current_token = token
        return token, int(self.token_lifetime)

    def _token_problem(self, header: str) -> str | None:
        """None when the Bearer token is good; otherwise the error_description to send."""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "The access token is invalid"
        with self.lock:
            expiry = self._tokens.get(token.strip())
        if expiry is None:
            return "The access token is invalid"
        if expiry <= time.monotonic():
            return "The access token has expired"
        return None

    # ----- grants (plugin.xml <access_request>) -----

    @property
    def grants(self) -> frozenset[tuple[str, str]] | None:
        """The explicit grant set, or None for the default (all fields except the denied ones)."""
        with self.lock:
            return None if self._grants is None else frozenset(self._grants)

    @property
    def denied(self) -> frozenset[tuple[str, str]]:
        with self.lock:
            return frozenset(self._denied)

    def set_grants(self, grants: Iterable[tuple[str, str]]) -> None:
        """Grant exactly these (table, field) pairs; field "*" grants a whole table."""
        with self.lock:
            self._grants = {(t.lower(), f.lower()) for t, f in grants}
            self._denied = set()

    def grant(self, table: str, field: str = "*") -> None:
        with self.lock:
            pair = (table.lower(), field.lower())
            self._denied.discard(pair)
            if field == "*":
                self._denied = {d for d in self._denied if d[0] != pair[0]}
            if self._grants is not None:
                self._grants.add(pair)

    def deny(self, table: str, field: str) -> None:
        with self.lock:
            pair = (table.lower(), field.lower())
            self._denied.add(pair)
            if self._grants is not None:
                self._grants.discard(pair)

    def reset_grants(self) -> None:
        with self.lock:
            self._grants, self._denied = None, set(DEFAULT_DENIED)

    def is_granted(self, table: str, field: str) -> bool:
        pair = (table.lower(), field.lower())
        with self.lock:
            if pair in self._denied:
                return False
            if self._grants is None:
                return True
            return pair in self._grants or (pair[0], "*") in self._grants

    # ----- faults -----

    def inject(self, route: str, fault: str, times: int = 1) -> None:
        """Script `fault` for the next `times` requests matching `route`: a path prefix
        ("/ws/v1/student"), a glob ("/ws/v1/student/*"), or "METHOD glob" / a route name
        ("GET /ws/v1/student/{id}"). Kinds: see `acme_powerschool.testing.FAULT_KINDS`."""
        self._faults.inject(route, fault, times)

    def fault_rate(
        self, rate: float, kinds: Iterable[str] = ("500", "503", "reset"), route: str = "/ws/"
    ) -> None:
        """Seeded random faults: each request matching `route` fails with probability `rate`."""
        self._faults.set_rate(rate, tuple(kinds), route)

    def clear_faults(self) -> None:
        self._faults.clear()

    @property
    def pending_faults(self) -> int:
        return self._faults.pending()

    # ----- writes -----

    def applied_client_uids(self) -> collections.Counter[str]:
        """How many times each client_uid was applied by POST /ws/v1/student."""
        with self.lock:
            counter: collections.Counter[str] = collections.Counter()
            for w in self.writes:
                if w.path.rstrip("/") == "/ws/v1/student":
                    counter.update(w.applied)
            return counter

    # ----- request handling -----

    def handle(self, req: Request) -> tuple[Reply, str | None]:
        """Answer one request. Returns the reply and the post-handling fault, if any."""
        matched = None
        allowed: list[str] = []
        for r in ROUTES:
            m = r.pattern.match(req.path)
            if m is None:
                continue
            if r.method == req.method:
                matched, req.params = r, m.groupdict()
                break
            allowed.append(r.method)
        token_route = req.path.rstrip("/") == "/oauth/access_token"
        name = matched.name if matched is not None else f"{req.method} (unmatched)"
        self.stats.count(name, token_route)
        if self.latency_ms > 0:
            time.sleep(self.latency_ms / 1000)
        throttled = self._throttle()
        if throttled is not None:
            return throttled, None
        fault = self._faults.pick(req.method, req.path, name)
        if fault is not None:
            self.stats.fault(fault)
            if fault not in APPLIES_REQUEST:
                return _fault_reply(fault), fault
        if matched is None:
            if allowed:
                reply = Reply(405, {"message": f"HTTP method {req.method} is not allowed"})
                reply.headers["Allow"] = ", ".join(sorted(set(allowed)))
                return reply, None
            return Reply(404, {"message": f"Resource not found: {req.path}"}), None
        if matched.authorized:
            problem = self._token_problem(req.headers.get("authorization", ""))
            if problem is not None:
                header = (
                    'Bearer error="invalid_token",realm="PowerSchool",'
                    f'error_description="{problem}"'
                )
                return Reply(401, b"", "text/plain", headers={"WWW-Authenticate": header}), None
        if req.path.startswith("/ws/v1/") and matched.name not in (
            "GET /ws/v1/metadata",
            "GET /ws/v1/time",
        ):
            level = self.v1_access
            needed = "READ" if req.method == "GET" else "FULL"
            if level is None or (needed == "FULL" and level != "FULL"):
                message = f"Plugin is missing required accessLevelV1Api {needed} permission"
                return Reply(401, {"errorMessage": {"message": message}}), None
        try:
            with self.lock:
                reply = matched.handler(self, req)
        except HttpError as exc:
            reply = exc.reply
        reply.v1 = reply.v1 or req.path.startswith("/ws/v1/")
        return reply, fault

    def _throttle(self) -> Reply | None:
        interval = self.throttle_ms / 1000
        if interval <= 0:
            return None
        with self._throttle_lock:
            now = time.monotonic()
            wait = self._last_request + interval - now
            if wait > 0:
                seconds = max(1, math.ceil(wait))
                body = {"message": f"Too many requests. Please wait {seconds} seconds."}
                return Reply(429, body, headers={"Retry-After": str(seconds)})
            self._last_request = now
        return None

    # ----- small helpers used by the handlers -----

    def ref(self, path: str) -> str:
        return f"{self.base_url}{path}"


def _uuid(rng: random.Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _fault_reply(kind: str) -> Reply:
    if kind == "503":
        return Reply(503, wire.MAINTENANCE_HTML, "text/html", headers={"Retry-After": "1"})
    if kind == "502":
        return Reply(502, wire.BAD_GATEWAY_HTML, "text/html")
    if kind == "500":
        body = {
            "message": "org.hibernate.exception.SQLGrammarException: could not extract ResultSet"
        }
        return Reply(500, body)
    if kind == "429":
        return Reply(
            429,
            {"message": "Too many requests. Please wait 1 seconds."},
            headers={"Retry-After": "1"},
        )
    return Reply(0)  # "reset": the handler drops the connection without an answer


# =====================================================================================
# OAuth, metadata, time
# =====================================================================================


def _token(sim: Simulator, req: Request) -> Reply:
    scheme, _, encoded = req.headers.get("authorization", "").partition(" ")
    try:
        client_id, _, secret = base64.b64decode(encoded.strip()).decode("utf-8").partition(":")
    except ValueError:
        client_id = secret = ""
    if scheme.lower() != "basic" or (client_id, secret) != (sim.client_id, sim.client_secret):
        body = {"error": "invalid_client", "error_description": "Bad client credentials"}
        return Reply(401, body)
    form = dict(req.query)
    with contextlib.suppress(UnicodeDecodeError):
        form.update({k: v[-1] for k, v in parse_qs(req.body.decode("utf-8")).items()})
    grant = form.get("grant_type")
    if grant != "client_credentials":
        desc = "grant_type must be client_credentials" if grant else "Missing grant_type"
        error = "unsupported_grant_type" if grant else "invalid_request"
        return Reply(400, {"error": error, "error_description": desc})
    token, remaining = sim._token_for_client()
    return Reply(200, {"access_token": token, "token_type": "Bearer", "expires_in": str(remaining)})


route("POST", "/oauth/access_token", authorized=False)(_token)


@route("GET", "/ws/v1/metadata", authorized=False)
def _metadata(sim: Simulator, req: Request) -> Reply:
    meta: Json = {key: sim.max_page_size for key in PAGE_SIZE_KEYS}
    uptime = f"{int(time.time() - sim.started_at)} seconds"
    meta.update(
        {
            "machine_uptime": uptime,
            "mobile_api_version": "1.0",
            "powerschool_uptime": uptime,
            "powerschool_version": "25.2.0.0",
            "state_reporting_version": "25.2.0",
            "state": "AZ",
            "district_timezone": "America/Phoenix",
            "district_uuid": _uuid(random.Random(_mix(sim.seed, 96))),
            "sso_enabled_admin": "false",
            "sso_enabled_guardian": "false",
            "sso_enabled_student": "false",
            "sso_enabled_teacher": "false",
        }
    )
    # plugin_id only with a valid token: clients use it as a token-validity check (§2.4).
    if sim._token_problem(req.headers.get("authorization", "")) is None:
        meta["plugin_id"] = sim.plugin_id
    return Reply(200, {"metadata": dict(sorted(meta.items()))})


@route("GET", "/ws/v1/time", authorized=False)
def _time(sim: Simulator, req: Request) -> Reply:
    now = time.time()
    stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + "Z"
    return Reply(200, {"resource": {"time": stamp, "timestamp": int(now * 1000)}})


# =====================================================================================
# /ws/v1 reads
# =====================================================================================


def _requested(req: Request, offered: tuple[str, ...], name: str = "expansions") -> list[str]:
    wanted = {w.strip().lower() for w in req.query.get(name, "").split(",") if w.strip()}
    return [o for o in offered if o in wanted]


def _one(singular: str, item: Json | None, offered: tuple[str, ...], ext: str = "") -> Reply:
    if item is None:
        raise _message(404, f"The {singular} was not found")
    return Reply(200, wire.v1_one(singular, item, ", ".join(offered), ext))


def _list(
    plural: str, singular: str, items: list[Json], offered: tuple[str, ...], ext: str = ""
) -> Reply:
    return Reply(200, wire.v1_list(plural, singular, items, ", ".join(offered), ext))


def _count(n: int) -> Reply:
    return Reply(200, wire.v1_count(n))


def _school(sim: Simulator, req: Request) -> Any:
    school = sim.district.school_by_id.get(req.int_param("id"))
    if school is None:
        raise _message(404, "The school was not found")
    return school


@route("GET", "/ws/v1/district")
def _district(sim: Simulator, req: Request) -> Reply:
    blocks = _requested(req, DISTRICT_EXPANSIONS)
    return _one("district", sim.district.district(blocks), DISTRICT_EXPANSIONS)


def _schools_list(sim: Simulator, req: Request) -> Reply:
    offset, limit = req.paging(sim.max_page_size)
    blocks = _requested(req, SCHOOL_EXPANSIONS)
    ids = [s.id for s in sim.district.schools][offset : offset + limit]
    items = [sim.district.school(i, blocks) for i in ids]
    return _list("schools", "school", [i for i in items if i], SCHOOL_EXPANSIONS)


route("GET", "/ws/v1/district/school")(_schools_list)
route("GET", "/ws/v1/school")(_schools_list)


@route("GET", "/ws/v1/district/school/count")
def _schools_count(sim: Simulator, req: Request) -> Reply:
    return _count(len(sim.district.schools))


@route("GET", "/ws/v1/school/{id}")
def _school_one(sim: Simulator, req: Request) -> Reply:
    blocks = _requested(req, SCHOOL_EXPANSIONS)
    return _one("school", sim.district.school(_school(sim, req).id, blocks), SCHOOL_EXPANSIONS)


# ----- students -----

_STUDENT_CORE = ("id", "local_id", "student_username", "state_province_id", "name")


def _student_clauses(req: Request) -> list[Clause]:
    raw = req.query.get("q", "")
    try:
        clauses = parse_q(raw) if raw else []
    except QError as exc:
        raise _message(400, str(exc)) from None
    for c in clauses:
        head = c.field.split(".")[0].lower()
        if head not in _STUDENT_CORE and head not in STUDENT_EXPANSIONS:
            raise _message(400, f"Invalid field specified: {c.field}")
    return clauses


def _dig(rec: Any, path: str) -> Any:
    for part in path.lower().split("."):
        if not isinstance(rec, dict):
            return None
        rec = rec.get(part)
    return rec


def _student_candidates(sim: Simulator, clauses: list[Clause]) -> list[int] | None:
    """A short list of dcids when an equality clause pins the student down, else None."""
    d = sim.district
    for c in clauses:
        if c.op != "==" or any("*" in v for v in c.values):
            continue
        field = c.field.lower()
        if field == "id":
            return sorted({int(v) for v in c.values if v.isdigit() and d.student_exists(int(v))})
        if field == "local_id":
            found = {d.student_by_local_id(v) for v in c.values}
            return sorted(x for x in found if x is not None)
        if field == "student_username":
            out = set()
            for v in c.values:
                digits = re.search(r"(\d+)$", v)
                if v.lower() == "ag1student1":
                    out.add(2)
                if digits:
                    owner = d.student_by_local_id(digits.group(1))
                    if owner is not None:
                        out.add(owner)
                out.update(d.student_overrides)  # written usernames follow no formula
            return sorted(out)
    return None


def _matching_students(sim: Simulator, source: Iterable[int], clauses: list[Clause]) -> list[int]:
    blocks = sorted({c.field.split(".")[0].lower() for c in clauses} & set(STUDENT_EXPANSIONS))
    out = []
    for dcid in source:
        rec = sim.district.student(dcid, blocks)
        if rec is not None and all(matches(c, _dig(rec, c.field)) for c in clauses):
            out.append(dcid)
    return out


def _student_ids(sim: Simulator, req: Request, school_id: int | None) -> tuple[list[int], int]:
    """(this page's dcids, total matching) for a district or school student list."""
    d = sim.district
    clauses = _student_clauses(req)
    offset, limit = req.paging(sim.max_page_size)
    school = d.school_by_id[school_id] if school_id is not None else None
    if not clauses:
        if school is None:
            return d.student_id_page(offset, limit), d.student_count
        ids = list(school.students[offset : offset + limit])
        return ids, len(school.students)
    candidates = _student_candidates(sim, clauses)
    source: Iterable[int]
    if candidates is not None:
        source = candidates
        if school is not None:
            source = [i for i in candidates if d.school_of_student(i).id == school.id]
    else:
        source = d.student_ids() if school is None else list(school.students)
    found = _matching_students(sim, source, clauses)
    return found[offset : offset + limit], len(found)


def _student_items(sim: Simulator, req: Request, ids: list[int]) -> list[Json]:
    blocks = _requested(req, STUDENT_EXPANSIONS)
    extensions = _requested(req, STUDENT_EXTENSIONS, "extensions")
    items = []
    for dcid in ids:
        rec = sim.district.student(dcid, blocks)
        if rec is None:
            continue
        if "u_studentsuserfields" in extensions:
            rec["_extension_data"] = {"_table_extension": _extension_block(sim, dcid)}
        items.append(rec)
    return items


def _extension_block(sim: Simulator, dcid: int) -> Json:
    row = extension_row_for(sim.tables["u_studentsuserfields"], dcid)
    fields = []
    if row is not None:
        fields = [
            {"name": k, "type": "String", "value": v}
            for k, v in row.items()
            if k not in ("id", "studentsdcid") and v != ""
        ]
    block: Json = {"recordFound": row is not None, "name": "u_studentsuserfields"}
    if fields:
        block["_field"] = wire.one_or_many(fields)
    return block


_EXT = ",".join(STUDENT_EXTENSIONS)


def _students_list(sim: Simulator, req: Request, school_id: int | None) -> Reply:
    ids, _ = _student_ids(sim, req, school_id)
    return _list("students", "student", _student_items(sim, req, ids), STUDENT_EXPANSIONS, _EXT)


def _students_count(sim: Simulator, req: Request, school_id: int | None) -> Reply:
    if not req.query.get("q"):
        d = sim.district
        n = d.student_count if school_id is None else len(d.school_by_id[school_id].students)
        return _count(n)
    req.query["page"], req.query["pagesize"] = "1", "1"
    return _count(_student_ids(sim, req, school_id)[1])


route("GET", "/ws/v1/district/student")(lambda sim, req: _students_list(sim, req, None))
route("GET", "/ws/v1/student")(lambda sim, req: _students_list(sim, req, None))
route("GET", "/ws/v1/district/student/count")(lambda sim, req: _students_count(sim, req, None))


@route("GET", "/ws/v1/school/{id}/student")
def _school_students(sim: Simulator, req: Request) -> Reply:
    return _students_list(sim, req, _school(sim, req).id)


@route("GET", "/ws/v1/school/{id}/student/count")
def _school_students_count(sim: Simulator, req: Request) -> Reply:
    return _students_count(sim, req, _school(sim, req).id)


@route("GET", "/ws/v1/student/{id}")
def _student_one(sim: Simulator, req: Request) -> Reply:
    dcid = req.int_param("id")
    items = _student_items(sim, req, [dcid]) if sim.district.student_exists(dcid) else []
    return _one("student", items[0] if items else None, STUDENT_EXPANSIONS, _EXT)


# ----- staff, sections, terms, courses, enrollments -----


def _school_children(kind: str, plural: str, expansions: tuple[str, ...]) -> None:
    def ids_of(sim: Simulator, req: Request) -> list[int]:
        school = _school(sim, req)
        d = sim.district
        if kind == "staff":
            return list(d.staff_ids(school))
        if kind == "section":
            return list(d.section_ids(school))
        if kind == "term":
            return list(d.term_ids(school))
        courses = [d.course(i) for i in d.course_ids(school)]
        return [
            c["id"] for c in sorted((c for c in courses if c), key=lambda c: c["course_number"])
        ]

    def fetch(sim: Simulator, ident: int, blocks: list[str]) -> Json | None:
        d = sim.district
        if kind == "staff":
            return d.staff(ident, blocks)
        if kind == "section":
            return d.section(ident, blocks)
        return d.term(ident) if kind == "term" else d.course(ident)

    def listing(sim: Simulator, req: Request) -> Reply:
        offset, limit = req.paging(sim.max_page_size)
        blocks = _requested(req, expansions)
        page = ids_of(sim, req)[offset : offset + limit]
        items = [x for x in (fetch(sim, i, blocks) for i in page) if x is not None]
        return _list(plural, kind, items, expansions)

    def count(sim: Simulator, req: Request) -> Reply:
        return _count(len(ids_of(sim, req)))

    def one(sim: Simulator, req: Request) -> Reply:
        item = fetch(sim, req.int_param("id"), _requested(req, expansions))
        return _one(kind, item, expansions)

    route("GET", f"/ws/v1/school/{{id}}/{kind}")(listing)
    route("GET", f"/ws/v1/school/{{id}}/{kind}/count")(count)
    route("GET", f"/ws/v1/{kind}/{{id}}")(one)


_school_children("staff", "staffs", STAFF_EXPANSIONS)
_school_children("section", "sections", SECTION_EXPANSIONS)
_school_children("term", "terms", ())
_school_children("course", "courses", ())


def _section_for(sim: Simulator, req: Request) -> int:
    section_id = req.int_param("id")
    if sim.district.section(section_id) is None:
        raise _message(404, "The section was not found")
    return section_id


@route("GET", "/ws/v1/section/{id}/section_enrollment")
def _enrollments(sim: Simulator, req: Request) -> Reply:
    offset, limit = req.paging(sim.max_page_size)
    rows = sim.district.section_enrollments(_section_for(sim, req))[offset : offset + limit]
    return _list("section_enrollments", "section_enrollment", rows, ())


@route("GET", "/ws/v1/section/{id}/section_enrollment/count")
def _enrollments_count(sim: Simulator, req: Request) -> Reply:
    return _count(len(sim.district.section_enrollments(_section_for(sim, req))))


@route("GET", "/ws/v1/section_enrollment/{id}")
def _enrollment_one(sim: Simulator, req: Request) -> Reply:
    item = sim.district.section_enrollment(req.int_param("id"))
    return _one("section_enrollment", item, ())


# =====================================================================================
# POST /ws/v1/student: bulk INSERT / UPDATE (§6)
# =====================================================================================

_INSERT_REQUIRED = (
    ("local_id",),
    ("name", "first_name"),
    ("name", "last_name"),
    ("school_enrollment", "entry_date"),
    ("school_enrollment", "exit_date"),
    ("school_enrollment", "grade_level"),
    ("school_enrollment", "school_number"),
)
_UPDATABLE_BLOCKS = (
    "name", "demographics", "addresses", "alerts", "phones", "ethnicity_race", "contact",
    "contact_info", "initial_enrollment", "schedule_setup", "lunch",
)  # fmt: skip


def _item_error(field: str, code: str, description: str) -> Json:
    return {"field": field, "error_code": code, "error_description": description}


def _merge(target: Json, block: str, value: Any) -> None:
    current = target.get(block)
    if isinstance(value, dict) and isinstance(current, dict):
        for k, v in value.items():
            if isinstance(v, dict) and isinstance(current.get(k), dict):
                _merge(current, k, v)
            else:
                current[k] = v
    else:
        target[block] = value


def _insert_student(sim: Simulator, item: Json) -> tuple[list[Json], int | None]:
    d = sim.district
    errors = []
    for path in _INSERT_REQUIRED:
        value = _dig(item, ".".join(path))
        if value is None or value == "":
            field = "student/" + "/".join(path)
            errors.append(
                _item_error(
                    field, "REQUIRED_FIELD_MISSING", f"{path[-1]} is required for an insert."
                )
            )
    if errors:
        return errors, None
    local_id = str(item["local_id"])
    if d.student_by_local_id(local_id) is not None:
        return [
            _item_error(
                "student/local_id",
                "INVALID_LOCAL_ID",
                "Local ID already exists in the database and can not be used in an insert.",
            )
        ], None
    enrollment = dict(item["school_enrollment"])
    try:
        number = int(enrollment["school_number"])
    except (TypeError, ValueError):
        number = -1
    school = d.school_by_number.get(number)
    if school is None:
        return [
            _item_error(
                "student/school_enrollment/school_number",
                "INVALID_SCHOOL_NUMBER",
                "The school number does not exist.",
            )
        ], None
    if "enroll_status" in enrollment and "enroll_status_code" in enrollment:
        return [
            _item_error(
                "student/school_enrollment/enroll_status",
                "INVALID_ENROLL_STATUS",
                "Send enroll_status or enroll_status_code, not both.",
            )
        ], None
    status = str(enrollment.get("enroll_status", "A")).upper()
    if status not in ("A", "I", "P", "H"):
        return [
            _item_error(
                "student/school_enrollment/enroll_status",
                "INVALID_ENROLL_STATUS",
                "enroll_status on insert must be A, I, P or H.",
            )
        ], None
    enrollment.update(
        {
            "enroll_status": status,
            "school_number": str(school.number),
            "school_id": school.id,
        }
    )
    record: Json = {b: "" for b in STUDENT_EXPANSIONS}
    record.update(
        {
            "local_id": int(local_id) if local_id.isdigit() else local_id,
            "student_username": str(item.get("student_username", "")),
            "name": {k: v for k, v in item["name"].items() if v is not None},
            "school_enrollment": enrollment,
        }
    )
    if item.get("state_province_id"):
        record["state_province_id"] = str(item["state_province_id"])
    for block in _UPDATABLE_BLOCKS:
        if block != "name" and isinstance(item.get(block), dict):
            record[block] = dict(item[block])
    return [], d.insert_student(record)


def _update_student(sim: Simulator, item: Json) -> tuple[list[Json], int | None]:
    d = sim.district
    raw = item.get("id")
    if raw is None or raw == "":
        return [_item_error("student/id", "MISSING_ID", "id is required for an update.")], None
    dcid = int(raw) if str(raw).isdigit() else -1
    if not d.student_exists(dcid):
        return [
            _item_error("student/id", "INVALID_ID", f"Student with id {raw} does not exist.")
        ], None
    if "school_enrollment" in item:
        return [
            _item_error(
                "student/school_enrollment",
                "INVALID_FIELD",
                "Enrollment fields can not be changed by an update.",
            )
        ], None
    if "local_id" in item:
        local_id = str(item["local_id"])
        owner = d.student_by_local_id(local_id)
        if owner is not None and owner != dcid:
            return [
                _item_error(
                    "student/local_id",
                    "INVALID_LOCAL_ID",
                    "Local ID already exists in the database and can not be used.",
                )
            ], None
        d.set_local_id(dcid, local_id)
    record = d.materialize_student(dcid)
    for key in ("student_username", "state_province_id"):
        if key in item:
            record[key] = str(item[key])
    for block in _UPDATABLE_BLOCKS:
        if block in item:
            _merge(record, block, item[block])
    return [], dcid


@route("POST", "/ws/v1/student")
def _students_write(sim: Simulator, req: Request) -> Reply:
    body = req.json_body()
    if not isinstance(body, dict) or not isinstance(body.get("students"), dict):
        raise _message(400, 'The body must be {"students":{"student":[...]}}')
    raw = body["students"].get("student")
    items = raw if isinstance(raw, list) else [raw] if isinstance(raw, dict) else None
    if items is None:
        raise _message(400, 'The body must be {"students":{"student":[...]}}')
    counts = {"INSERT": 0, "UPDATE": 0}
    results, applied = [], []
    for item in items:
        if not isinstance(item, dict):
            raise _message(400, "Each student must be an object")
        action = str(item.get("action", "")).upper()
        if action == "INSERT":
            errors, dcid = _insert_student(sim, item)
        elif action == "UPDATE":
            errors, dcid = _update_student(sim, item)
        else:
            errors = [
                _item_error("student/action", "INVALID_ACTION", "action must be INSERT or UPDATE.")
            ]
            dcid = None
        result: Json = {}
        if "client_uid" in item:
            result["client_uid"] = item["client_uid"]
        result["status"] = "ERROR" if errors else "SUCCESS"
        result["action"] = action
        if errors:
            result["error_message"] = {"error": wire.one_or_many(errors)}
        else:
            counts[action] += 1
            result["success_message"] = {"id": dcid, "ref": sim.ref(f"/ws/v1/student/{dcid}")}
            applied.append(str(item.get("client_uid", "")))
        results.append(result)
    sim.writes.append(Write("POST", req.path, body, tuple(applied)))
    out: Json = {
        "insert_count": counts["INSERT"],
        "update_count": counts["UPDATE"],
        "delete_count": 0,
    }
    if results:
        out["result"] = wire.one_or_many(results)
    return Reply(200, {"results": out})


# =====================================================================================
# /ws/schema/table (§4)
# =====================================================================================


def _table(sim: Simulator, req: Request) -> Table:
    name = unquote(req.params["table"]).lower()
    if name in REFUSED_TABLES:
        raise _message(405, REFUSED_TABLES[name])
    table = sim.tables.get(name)
    if table is None:
        raise _message(404, f"Database table specified by the URI not found: {name}")
    return table


def _columns(table: Table, names: Iterable[str]) -> list[str]:
    """Canonical column names; 400 for the first unknown one (checked before permissions)."""
    out: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if "." in name:
            prefix, _, name = name.partition(".")
            if prefix.lower() != table.key:
                raise _message(
                    400,
                    f"Invalid field specified: {raw} is not valid column for table: {table.name}",
                )
        if name == "*":
            out.extend(table.columns)
            continue
        canonical = table.column(name)
        if canonical is None:
            raise _message(
                400, f"Invalid field specified: {name} is not valid column for table: {table.name}"
            )
        out.append(canonical)
    return out


def _check_grants(sim: Simulator, table: Table, columns: Iterable[str]) -> None:
    missing = []
    for col in dict.fromkeys(columns):
        if not sim.is_granted(table.key, col):
            missing.append({"code": "NoAccess", "field": col, "resource": table.name})
    if missing:
        raise HttpError(
            403, {"message": "At least one column lacks sufficient permission", "errors": missing}
        )


def _table_clauses(table: Table, req: Request) -> list[Clause]:
    raw = req.query.get("q", "")
    try:
        clauses = parse_q(raw) if raw else []
    except QError as exc:
        raise _message(400, str(exc)) from None
    out = []
    for c in clauses:
        canonical = _columns(table, [c.field])[0]
        if canonical.lower() in table.numeric:
            for v in c.values:
                if not is_number(v.replace("*", "0")):
                    raise _message(
                        400,
                        f"Invalid number '{v}' passed for comparison to number field {canonical}",
                    )
        out.append(Clause(canonical.lower(), c.op, c.values))
    return out


def _sort_key(table: Table, column: str) -> Callable[[Row], Any]:
    if column in table.numeric:
        return lambda row: (row.get(column, "") == "", float(row.get(column) or 0))
    return lambda row: row.get(column, "").lower()


def _rows_for(sim: Simulator, table: Table, req: Request) -> tuple[list[Row], int]:
    clauses = _table_clauses(table, req)
    sort = req.query.get("sort", "")
    sort_cols = [c.lower() for c in _columns(table, sort.split(","))] if sort else []
    _check_grants(sim, table, [table.column(c.field) or c.field for c in clauses])
    offset, limit = req.paging(sim.max_page_size)
    if not clauses and not sort_cols:
        ids = table.page_ids(offset, limit)
        return [r for r in (table.get(i) for i in ids) if r is not None], table.count()
    rows = [r for r in (table.get(i) for i in table.ids()) if r is not None]
    rows = [r for r in rows if all(matches(c, r.get(c.field)) for c in clauses)]
    descending = req.query.get("sortdescending", "").lower() == "true"
    for col in reversed(sort_cols):
        rows.sort(key=_sort_key(table, col), reverse=descending)
    return rows[offset : offset + limit], len(rows)


def _projection(sim: Simulator, table: Table, req: Request) -> list[str]:
    raw = req.query.get("projection")
    if raw is None:
        raise _message(400, "The projection parameter is required")
    columns = _columns(table, raw.split(","))
    if not columns:
        raise _message(400, "The projection parameter is required")
    return columns


def _project(row: Row, columns: list[str]) -> Row:
    return {c.lower(): row.get(c.lower(), "") for c in dict.fromkeys(columns)}


@route("GET", "/ws/schema/table/{table}")
def _table_list(sim: Simulator, req: Request) -> Reply:
    table = _table(sim, req)
    columns = _projection(sim, table, req)
    _check_grants(sim, table, columns)
    rows, _ = _rows_for(sim, table, req)
    records = [{"id": int(r["id"]), "tables": {table.key: _project(r, columns)}} for r in rows]
    return Reply(200, {"name": table.name, "record": records})


@route("GET", "/ws/schema/table/{table}/count")
def _table_count(sim: Simulator, req: Request) -> Reply:
    table = _table(sim, req)
    if not req.query.get("q"):
        return Reply(200, {"count": table.count()})
    req.query["page"], req.query["pagesize"] = "1", "1"
    return Reply(200, {"count": _rows_for(sim, table, req)[1]})


def _row_id(req: Request) -> int:
    try:
        return int(req.params["id"])
    except ValueError:
        raise _message(404, "Record not found") from None


@route("GET", "/ws/schema/table/{table}/{id}")
def _table_row(sim: Simulator, req: Request) -> Reply:
    table = _table(sim, req)
    columns = _projection(sim, table, req)
    _check_grants(sim, table, columns)
    row_id = _row_id(req)
    row = table.get(row_id)
    if row is None:
        raise _message(404, f"Record {row_id} not found in table {table.name}")
    return Reply(
        200, {"id": row_id, "name": table.name, "tables": {table.key: _project(row, columns)}}
    )


def _write_values(sim: Simulator, table: Table, req: Request) -> Row:
    body = req.json_body()
    tables = body.get("tables") if isinstance(body, dict) else None
    if not isinstance(tables, dict):
        raise _message(400, 'The body must be {"tables":{"<table>":{...}}}')
    values = next((v for k, v in tables.items() if k.lower() == table.key), None)
    if not isinstance(values, dict):
        raise _message(400, f'The body has no "tables" entry for {table.key}')
    columns = _columns(table, values)
    _check_grants(sim, table, columns)
    return {c.lower(): text(v) for c, v in zip(columns, values.values(), strict=True)}


def _write_reply(sim: Simulator, table: Table, action: str, row_id: int) -> Reply:
    result = {
        "status": "SUCCESS",
        "action": action,
        "success_message": {"id": row_id, "ref": sim.ref(f"/ws/schema/table/{table.key}/{row_id}")},
    }
    body: Json = {
        "insert_count": int(action == "INSERT"),
        "update_count": int(action == "UPDATE"),
        "delete_count": 0,
        "result": [result],
    }
    return Reply(200, {"results": body} if sim.schema_write_shape == "results" else body)


def _check_verb(table: Table, verb: str) -> None:
    if verb not in table.verbs:
        raise _message(405, f"{verb} is not allowed on table {table.name}")


@route("POST", "/ws/schema/table/{table}")
def _table_insert(sim: Simulator, req: Request) -> Reply:
    table = _table(sim, req)
    _check_verb(table, "POST")
    values = _write_values(sim, table, req)
    try:
        row_id = table.insert(values)
    except TableError as exc:
        raise _message(exc.status, exc.message) from None
    sim.writes.append(Write("POST", req.path, req.json_body(), (str(row_id),)))
    return _write_reply(sim, table, "INSERT", row_id)


@route("PUT", "/ws/schema/table/{table}/{id}")
def _table_update(sim: Simulator, req: Request) -> Reply:
    table = _table(sim, req)
    _check_verb(table, "PUT")
    row_id = _row_id(req)
    values = _write_values(sim, table, req)
    try:
        table.update(row_id, values)
    except TableError as exc:
        raise _message(exc.status, exc.message) from None
    sim.writes.append(Write("PUT", req.path, req.json_body(), (str(row_id),)))
    return _write_reply(sim, table, "UPDATE", row_id)


@route("DELETE", "/ws/schema/table/{table}/{id}")
def _table_delete(sim: Simulator, req: Request) -> Reply:
    table = _table(sim, req)
    _check_verb(table, "DELETE")
    row_id = _row_id(req)
    if table.get(row_id) is None:
        raise _message(404, f"Record {row_id} not found in table {table.name}")
    _check_grants(sim, table, table.columns)  # delete needs access to every column (§4.10)
    table.delete(row_id)
    sim.writes.append(Write("DELETE", req.path, None, (str(row_id),)))
    return Reply(204, b"")


# =====================================================================================
# PowerQueries (§5)
# =====================================================================================


def _query(sim: Simulator, req: Request) -> PowerQuery:
    name = unquote(req.params["name"])
    query = sim.queries.get(name)
    if query is None:
        raise _message(404, f"Query {name} not found")
    return query


def _query_forbidden(sim: Simulator, query: PowerQuery) -> None:
    missing = [
        {"resource": query.name, "field": f"{c.table}.{c.column}", "code": "No access to the field"}
        for c in query.columns
        if not sim.is_granted(c.table, c.column)
    ]
    if missing:
        raise HttpError(403, {"message": "Validation Failed", "errors": missing})


def _bad_arg(query: PowerQuery, field: str, code: str) -> HttpError:
    return HttpError(
        400,
        {
            "message": "Validation Failed",
            "errors": [{"resource": query.name, "field": field, "code": code}],
        },
    )


def _query_args(query: PowerQuery, req: Request) -> tuple[dict[str, Any], list[Clause]]:
    body = req.json_body() if req.body.strip() else {}
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise _message(400, "The body must be a JSON object of arguments")
    args: dict[str, Any] = {}
    clauses: list[Clause] = []
    for key, value in body.items():
        if key == "$q":
            try:
                clauses = parse_q(str(value))
            except QError as exc:
                raise _message(400, str(exc)) from None
            aliases = {c.alias for c in query.columns}
            for c in clauses:
                if c.field not in aliases:
                    raise _bad_arg(query, c.field, "Invalid field in $q")
            continue
        if key.startswith("$") or key == "projection":
            continue
        arg = query.arg(key)
        if arg is None:
            raise _bad_arg(query, key, "Unknown argument")
        values = value if isinstance(value, list) else [value]
        if not arg.array and isinstance(value, list):
            raise _bad_arg(query, key, "Argument is not an array")
        if arg.integer and not all(str(v).strip().lstrip("-").isdigit() for v in values):
            raise _bad_arg(query, key, "Invalid number")
        args[key] = values if arg.array else value
    for arg in query.args:
        if arg.required and arg.name not in args:
            raise _bad_arg(query, arg.name, "Missing required argument")
    return args, clauses


def _query_rows(
    sim: Simulator, query: PowerQuery, req: Request, start: int, stop: int | None, total: bool
) -> tuple[list[Row], int]:
    """This page's rows and (when `total`) the number of rows of all pages, else -1."""
    _query_forbidden(sim, query)
    args, clauses = _query_args(query, req)
    order = req.query.get("order", "")
    keys = []
    if order:
        aliases = {c.alias for c in query.columns}
        for part in order.split(","):
            alias, _, direction = part.partition(";")
            if alias not in aliases:
                raise _bad_arg(query, alias, "Invalid order column")
            keys.append((alias, direction.strip().lower() == "desc"))
    thunks = query.rows(sim.district, sim.tables, args)
    if clauses or keys:
        rows = [r for r in (t() for t in thunks) if r is not None]
        rows = [r for r in rows if all(matches(c, r.get(c.field)) for c in clauses)]
        for alias, desc in reversed(keys):
            rows.sort(key=_order_key(alias), reverse=desc)
        return rows[start:stop], len(rows)
    count = -1
    if total:
        if query.count is not None:
            count = query.count(sim.district)
        else:
            listed = list(thunks)
            count, thunks = len(listed), iter(listed)
    page = [r for r in (t() for t in islice(thunks, start, stop)) if r is not None]
    return page, count


def _order_key(alias: str) -> Callable[[Row], tuple[int, float, str]]:
    return lambda row: _order_value(row.get(alias, ""))


def _order_value(value: str) -> tuple[int, float, str]:
    return (0, float(value), "") if is_number(value) else (1, 0.0, value.lower())


@route("POST", "/ws/schema/query/{name}")
def _query_run(sim: Simulator, req: Request) -> Reply:
    query = _query(sim, req)
    try:
        page = max(1, int(req.query.get("page", "1") or "1"))
        size = int(req.query.get("pagesize", "100") or "100")
    except ValueError:
        raise _message(400, "page and pagesize must be integers") from None
    want_count = req.query.get("count", "").lower() == "true"
    if size <= 0:  # 0 = every row; page is ignored
        rows, total = _query_rows(sim, query, req, 0, None, want_count)
    else:
        rows, total = _query_rows(sim, query, req, (page - 1) * size, page * size, want_count)
    body: Json = {"name": query.record_name, "record": [record_of(query, r) for r in rows]}
    if want_count:
        body["count"] = total
    return Reply(200, body)


@route("POST", "/ws/schema/query/{name}/count")
def _query_count(sim: Simulator, req: Request) -> Reply:
    query = _query(sim, req)
    return Reply(200, {"count": _query_rows(sim, query, req, 0, 0, True)[1]})


@route("GET", "/ws/schema/query/api")
def _query_api(sim: Simulator, req: Request) -> Reply:
    paths: Json = {}
    definitions: Json = {}
    for q in sim.queries.values():
        paths[f"/ws/schema/query/{q.name}"] = {
            "post": {
                "summary": q.summary,
                "tags": ["powerquery"],
                "parameters": [
                    {
                        "name": "body",
                        "in": "body",
                        "schema": {"$ref": f"#/definitions/powerquery.param.{q.name}"},
                    }
                ],
                "responses": {
                    "200": {"schema": {"$ref": f"#/definitions/powerquery.resp.{q.name}"}}
                },
            }
        }
        definitions[f"powerquery.param.{q.name}"] = {
            "type": "object",
            "properties": {
                a.name: {"type": "array", "items": {"type": "integer" if a.integer else "string"}}
                if a.array
                else {"type": "integer" if a.integer else "string"}
                for a in q.args
            },
            "required": [a.name for a in q.args if a.required],
        }
        definitions[f"powerquery.resp.{q.name}"] = {
            "type": "object",
            "properties": {c.alias: {"type": "string"} for c in q.columns},
        }
    body = {
        "swagger": "2.0",
        "info": {"title": "PowerQuery API", "version": "1.0"},
        "basePath": "/",
        "paths": paths,
        "definitions": definitions,
    }
    return Reply(200, body)


def _access_list(queries: Iterable[PowerQuery]) -> Reply:
    fields = dict.fromkeys((c.table, c.column) for q in queries for c in q.columns)
    lines = [f'<field table="{t}" field="{f}" access="ViewOnly" />' for t, f in fields]
    text_body = "<access_request>\n" + "".join(f"  {x}\n" for x in lines) + "</access_request>\n"
    return Reply(200, text_body.encode("utf-8"), "text/xml")


@route("GET", "/ws/powerqueryaccesslist")
def _access_list_all(sim: Simulator, req: Request) -> Reply:
    return _access_list(sim.queries.values())


@route("GET", "/ws/powerqueryaccesslist/{name}")
def _access_list_one(sim: Simulator, req: Request) -> Reply:
    return _access_list([_query(sim, req)])


# Every other verb on a known path answers 405 (the routing loop collects the allowed ones).


# =====================================================================================
# HTTP plumbing
# =====================================================================================


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    simulator: Simulator


_REASONS = {
    200: "OK",
    204: "No Content",
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    405: "Method Not Allowed",
    429: "Too Many Requests",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "PowerSchoolSimulator/1.0"
    timeout = 60  # an idle keep-alive connection ends after a minute
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        sim = self.server.simulator
        with sim._connections_lock:
            sim._connections.add(self.connection)

    def finish(self) -> None:
        sim = self.server.simulator
        with sim._connections_lock:
            sim._connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        # Malformed traffic (bad request line, oversized headers): a JSON answer with a full
        # status line, even to what the stdlib would treat as an HTTP/0.9 request.
        self.close_connection = True
        body = wire.dump_json({"message": message or _REASONS.get(code, "Error")})
        head = (
            f"HTTP/1.1 {code} {_REASONS.get(code, 'Error')}\r\nContent-Type: {JSON_TYPE}\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        with contextlib.suppress(OSError):
            self.wfile.write(head.encode("latin-1") + body)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and the bench read stdout

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def do_PUT(self) -> None:
        self._serve()

    def do_DELETE(self) -> None:
        self._serve()

    def do_PATCH(self) -> None:
        self._serve()

    def do_HEAD(self) -> None:
        self._serve()

    def _serve(self) -> None:
        sim = self.server.simulator
        try:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                body = self._read_chunked()
            else:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length > 0 else b""
        except (ValueError, OSError):
            self.close_connection = True
            return
        fault: str | None = None
        try:
            split = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(split.query, keep_blank_values=True).items()}
            headers = {k.lower(): v for k, v in self.headers.items()}  # looked up lower-case
            req = Request(self.command, split.path or "/", query, headers, body)
            reply, fault = sim.handle(req)
            wants_xml = _wants_xml(self.headers.get("Accept", ""))
            payload, content_type = _encode(sim, reply, wants_xml)
        except Exception as exc:  # never a stack trace on the wire, never a hang
            traceback.print_exc()
            reply = Reply(500, None)
            payload = wire.dump_json({"message": f"Simulator error: {type(exc).__name__}"})
            content_type = JSON_TYPE
        if fault in ("reset", "reset_after"):
            self._reset()
            return
        if fault == "slow":
            time.sleep(sim.slow_ms / 1000)
        sim.stats.status(reply.status)
        self._send(reply, payload, content_type, truncated=fault == "truncated")

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int(self.rfile.readline(65537).split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while self.rfile.readline(65537).strip():
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(3)

    def _send(self, reply: Reply, payload: bytes, content_type: str, truncated: bool) -> None:
        sent = b"" if self.command == "HEAD" or reply.status == 204 else payload
        lines = [f"HTTP/1.1 {reply.status} {_REASONS.get(reply.status, 'Error')}"]
        headers = {"Date": self.date_time_string(), "Server": self.server_version}
        if reply.status != 204:
            headers["Content-Type"] = content_type
            headers["Content-Length"] = str(len(payload))
        headers.update(reply.headers)
        if truncated or self.headers.get("Connection", "").lower() == "close":
            headers["Connection"] = "close"
            self.close_connection = True
        lines.extend(f"{k}: {v}" for k, v in headers.items())
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        if truncated:
            sent = sent[: len(sent) // 2]
        try:
            self.wfile.write(head + sent)
        except OSError:
            self.close_connection = True

    def _reset(self) -> None:
        # SO_LINGER 0 then close: the peer sees a TCP reset, not a clean end of stream.
        self.close_connection = True
        try:
            self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.connection.close()
        except OSError:
            pass


def _wants_xml(accept: str) -> bool:
    accept = accept.lower()
    return "xml" in accept and "json" not in accept


def _encode(sim: Simulator, reply: Reply, wants_xml: bool) -> tuple[bytes, str]:
    body = reply.body
    if isinstance(body, bytes):
        return body, reply.content_type
    if body is None:
        return b"", reply.content_type
    if wants_xml:
        if (
            reply.status >= 400
            and isinstance(body, dict)
            and ("errors" in body or "message" in body)
        ):
            body = wire.errors_as_xml_tree(body)
        return wire.dump_xml(body), XML_TYPE
    if sim.xml_quirks and reply.v1:
        body = wire.numbers_from_strings(body)
    return wire.dump_json(body), JSON_TYPE
