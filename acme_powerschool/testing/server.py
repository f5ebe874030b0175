"""The simulator: a real HTTP/1.1 PowerSchool on loopback, built from the fact sheet alone.

Standard library HTTP (ThreadingHTTPServer, keep-alive, exact Content-Length) over the seeded
district. It must never import the client side of this package; every answer shape here is
read from /work/shared/powerschool-api.md, not from the SDK.
"""

from __future__ import annotations

import collections
import contextlib
import math
import random
import socket
import struct
import threading
import time
import traceback
from collections.abc import Iterable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from acme_powerschool.testing import schema, v1, wire
from acme_powerschool.testing.district import District, mix_seed, seeded_uuid
from acme_powerschool.testing.faults import APPLIES_REQUEST, FaultPlan
from acme_powerschool.testing.queries import QUERIES, PowerQuery
from acme_powerschool.testing.routing import (
    JSON_TYPE,
    ROUTES,
    XML_TYPE,
    HttpError,
    Reply,
    Request,
    Write,
)
from acme_powerschool.testing.tables import Table, build_tables

# Importing the route modules registers their handlers in ROUTES.
_ROUTE_MODULES = (v1, schema)
__all__ = ["Simulator", "Stats", "Write"]

DEFAULT_TOKEN_LIFETIME = 30 * 24 * 3600  # fact sheet §1.6: 30 days
# The one default denial: the original README's 403 example must happen out of the box.
DEFAULT_DENIED = frozenset({("attendance", "studentid")})


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


class Simulator:
    """A running PowerSchool on 127.0.0.1: `with Simulator(students=5000, seed=1) as sim:`.

    Controls (safe to change while running): `token_lifetime` (seconds), `latency_ms` (added
    to every request), `throttle_ms` (minimum interval between requests; faster ones get
    `throttle_status`, 429 or 509, with Retry-After), `slow_ms` (delay of the "slow" fault),
    `xml_quirks` (numeric-looking strings become numbers in /ws/v1 JSON), `max_page_size` and
    `max_page_sizes` (per resource: "student", "staff", "section", "section_enrollment",
    "school", "course", "term", "schema_table_query"), `v1_access` ("FULL", "READ" or None, the
    plugin's accessLevelV1Api), `schema_write_shape` ("top" or "results").

    Inferred choices (fact sheet §9: each one configurable): `throttle_status` (429 or 509),
    `require_projection` (True: a schema-table GET without projection is 400; False: all
    columns), `oversize_pagesize` ("cap": a pagesize above the max is silently capped; "error":
    400), `default_format` ("json" or "xml": the answer when the request states no Accept).
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
        max_page_sizes: Mapping[str, int] | None = None,
        throttle_status: int = 429,
        require_projection: bool = True,
        oversize_pagesize: str = "cap",
        default_format: str = "json",
    ) -> None:
        if max_page_size < 1:
            raise ValueError("max_page_size must be >= 1")
        sizes = dict(max_page_sizes or {})
        unknown = sorted(set(sizes) - set(v1.PAGE_SIZE_KINDS))
        if unknown:
            raise ValueError(f"unknown max_page_sizes keys {unknown}: use {v1.PAGE_SIZE_KINDS}")
        if any(size < 1 for size in sizes.values()):
            raise ValueError("every max_page_sizes value must be >= 1")
        if throttle_status not in (429, 509):
            raise ValueError("throttle_status must be 429 or 509")
        if oversize_pagesize not in ("cap", "error"):
            raise ValueError('oversize_pagesize must be "cap" or "error"')
        if default_format not in ("json", "xml"):
            raise ValueError('default_format must be "json" or "xml"')
        self.seed = seed
        self.district = District(students=students, schools=schools, seed=seed)
        self.tables: dict[str, Table] = build_tables(self.district)
        self.queries: dict[str, PowerQuery] = dict(QUERIES)
        ident = random.Random(mix_seed(seed, 99))
        self.client_id = client_id or seeded_uuid(ident)
        self.client_secret = client_secret or seeded_uuid(ident)
        self._token_rng = random.Random(mix_seed(seed, 98))
        self.max_page_size = max_page_size
        # Per-resource overrides; a kind without one uses max_page_size (see page_size).
        self.max_page_sizes: dict[str, int] = sizes
        self.throttle_status = throttle_status
        self.require_projection = require_projection
        self.oversize_pagesize = oversize_pagesize
        self.default_format = default_format
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
        self._faults = FaultPlan(mix_seed(seed, 97))
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
        server_class = _Server6 if ":" in self._host else _Server
        server = server_class((self._host, self._port), _RequestHandler)
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
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

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
        token = seeded_uuid(self._token_rng)
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
                return Reply(self.throttle_status, body, headers={"Retry-After": str(seconds)})
            self._last_request = now
        return None

    # ----- small helpers used by the handlers -----

    def page_size(self, kind: str) -> int:
        """The max page size of one resource ("student", "staff", ..., "schema_table_query")."""
        return self.max_page_sizes.get(kind, self.max_page_size)

    def paging(self, req: Request, kind: str) -> tuple[int, int]:
        """(offset, limit) of a list request, capped at (or, in "error" mode, refused above)
        the resource's max page size."""
        return req.paging(self.page_size(kind), strict=self.oversize_pagesize == "error")

    def ref(self, path: str) -> str:
        return f"{self.base_url}{path}"


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
# HTTP plumbing
# =====================================================================================


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128
    simulator: Simulator


class _Server6(_Server):
    address_family = socket.AF_INET6


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
    509: "Bandwidth Limit Exceeded",
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
        pass  # quiet: the stdlib's only remaining log line is "Request timed out" on stderr

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
            wants_xml = _wants_xml(self.headers.get("Accept", ""), sim.default_format)
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


def _wants_xml(accept: str, default_format: str) -> bool:
    accept = accept.lower().strip()
    if accept in ("", "*/*"):  # no stated preference: the configured default (fact sheet §10.8)
        return default_format == "xml"
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
