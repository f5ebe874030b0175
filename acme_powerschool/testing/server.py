"""The simulator: a real HTTP/1.1 PowerSchool on loopback, built from the fact sheet alone.

Standard library HTTP (ThreadingHTTPServer, keep-alive, exact Content-Length) over the seeded
district. It must never import the client side of this package; every answer shape here is
read from /work/shared/powerschool-api.md, not from the SDK.

The parts: `SimState` (state.py: data, change log, grants, tokens, options) is all a handler
sees; the request pipeline (pipeline.py) is a list of steps; fault kinds are records
(faults.py); the HTTP layer below only reads bytes, runs the pipeline and writes the answer.
"""

from __future__ import annotations

import collections
import contextlib
import ipaddress
import socket
import struct
import threading
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

from acme_powerschool.testing import pipeline, schema, v1, wire
from acme_powerschool.testing.dataversion import DataVersionOptions
from acme_powerschool.testing.district import District, mix_seed
from acme_powerschool.testing.faults import FaultKind, FaultPlan, Outgoing
from acme_powerschool.testing.messages import JSON_TYPE, XML_TYPE, Reply, Request, Write
from acme_powerschool.testing.options import (
    DEFAULT_TOKEN_LIFETIME,
    Access,
    Behaviour,
    Paging,
    Timing,
    split_legacy,
)
from acme_powerschool.testing.queries import PowerQuery
from acme_powerschool.testing.state import DEFAULT_DENIED, SimState
from acme_powerschool.testing.stats import Stats
from acme_powerschool.testing.tables import Table

# Importing the route modules registers their handlers in ROUTES.
_ROUTE_MODULES = (v1, schema)
__all__ = ["DEFAULT_DENIED", "DEFAULT_TOKEN_LIFETIME", "Simulator", "Stats", "Write"]
MAX_BODY = 64 * 1024 * 1024  # a request body above this is refused with 400 (never read)


def is_loopback(host: str) -> bool:
    """127.0.0.0/8, ::1 or localhost (a trailing dot allowed): served without allow_remote."""
    name = host.strip().lower().rstrip(".")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name.strip("[]")).is_loopback
    except ValueError:
        return False


def _option(record: str, name: str) -> property:
    """A Simulator attribute that reads and writes one field of an option record."""

    def get(self: Simulator) -> Any:
        return getattr(getattr(self, record), name)

    def put(self: Simulator, value: Any) -> None:
        setattr(getattr(self, record), name, value)

    return property(get, put, doc=f"Shortcut for `{record}.{name}`.")


class Simulator:
    """A running PowerSchool on 127.0.0.1: `with Simulator(students=5000, seed=1) as sim:`.

    Options come in records: `paging` (Paging: max_page_size, max_page_sizes, oversize_pagesize),
    `timing` (Timing: latency_ms, throttle_ms, throttle_status, slow_ms), `access` (Access:
    client_id, client_secret, token_lifetime, v1_access, plugin_id), `behaviour` (Behaviour: the
    wire choices), `data_versions` (DataVersionOptions). Every field is also accepted as a flat
    keyword (`Simulator(throttle_ms=100, xml_quirks=True)`) and is an attribute you can change
    while it runs (`sim.latency_ms = 5`). `host` must be loopback unless `allow_remote=True`.
    """

    def __init__(
        self,
        students: int = 500,
        schools: int = 3,
        seed: int = 1,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_remote: bool = False,
        grants: Iterable[tuple[str, str]] | None = None,
        paging: Paging | None = None,
        timing: Timing | None = None,
        access: Access | None = None,
        behaviour: Behaviour | None = None,
        data_versions: DataVersionOptions | None = None,
        clock: Callable[[], float] = time.time,
        **options: Any,
    ) -> None:
        if not is_loopback(host) and not allow_remote:
            raise ValueError(
                f"host {host!r} is not a loopback address; the simulator's credentials are "
                "predictable. Use 127.0.0.1, ::1 or localhost, or pass allow_remote=True."
            )
        records = split_legacy(
            options, {"paging": paging, "timing": timing, "access": access, "behaviour": behaviour}
        )
        self.paging_options: Paging = records["paging"]
        self.timing: Timing = records["timing"]
        self.access: Access = records["access"]
        self.behaviour: Behaviour = records["behaviour"]
        self.seed = seed
        self.state = SimState(
            District(students=students, schools=schools, seed=seed),
            paging=self.paging_options,
            behaviour=self.behaviour,
            access=self.access,
            data_versions=data_versions or DataVersionOptions(),
            grants=grants,
            clock=clock,
        )
        self.stats = Stats()
        self._faults = FaultPlan(mix_seed(seed, 97))
        self.steps: list[pipeline.Step] = pipeline.default_steps(
            self.state, self.stats, self.timing, self._faults, self.access
        )
        self._host, self._port = host.strip().rstrip(".") or host, port
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()

    # The older flat attributes, kept: each reads and writes its option record.
    max_page_size = _option("paging_options", "max_page_size")
    max_page_sizes = _option("paging_options", "max_page_sizes")
    oversize_pagesize = _option("paging_options", "oversize_pagesize")
    latency_ms = _option("timing", "latency_ms")
    throttle_ms = _option("timing", "throttle_ms")
    throttle_status = _option("timing", "throttle_status")
    slow_ms = _option("timing", "slow_ms")
    token_lifetime = _option("access", "token_lifetime")
    v1_access = _option("access", "v1_access")
    plugin_id = _option("access", "plugin_id")
    xml_quirks = _option("behaviour", "xml_quirks")
    require_projection = _option("behaviour", "require_projection")
    schema_write_shape = _option("behaviour", "schema_write_shape")
    default_format = _option("behaviour", "default_format")

    # ----- the state, as before -----

    @property
    def district(self) -> District:
        return self.state.district

    @property
    def tables(self) -> dict[str, Table]:
        return self.state.tables

    @property
    def queries(self) -> dict[str, PowerQuery]:
        return self.state.queries

    @property
    def writes(self) -> list[Write]:
        return self.state.writes

    @property
    def lock(self) -> threading.RLock:
        return self.state.lock

    @property
    def client_id(self) -> str:
        return self.state.client_id

    @property
    def client_secret(self) -> str:
        return self.state.client_secret

    @property
    def started_at(self) -> float:
        return self.state.started_at

    def page_size(self, kind: str) -> int:
        return self.state.page_size(kind)

    def paging(self, req: Request, kind: str) -> tuple[int, int]:
        return self.state.paging(req, kind)

    def ref(self, path: str) -> str:
        return self.state.ref(path)

    # ----- lifecycle -----

    def start(self) -> Simulator:
        if self._server is not None:
            return self
        server_class = _Server6 if ":" in self._host else _Server
        server = server_class((self._host, self._port), _RequestHandler)
        server.simulator = self
        self._server = server
        self.state.base_url = self.base_url
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
        self.state.tokens.revoke()

    def expire_tokens(self) -> None:
        """Make every issued token expired (401 "The access token has expired")."""
        self.state.tokens.expire()

    def issue_token(self) -> str:
        """A valid token without a round trip (for tests of code that is handed a token)."""
        return self.state.tokens.issue()[0]

    def _token_for_client(self) -> tuple[str, int]:
        return self.state.tokens.issue()

    def _token_problem(self, header: str) -> str | None:
        return self.state.tokens.problem(header)

    # ----- grants (plugin.xml <access_request>) -----

    @property
    def grants(self) -> frozenset[tuple[str, str]] | None:
        """The explicit grant set, or None for the default (all fields except the denied ones)."""
        return self.state.grants.granted

    @property
    def denied(self) -> frozenset[tuple[str, str]]:
        return self.state.grants.denied

    def set_grants(self, grants: Iterable[tuple[str, str]]) -> None:
        """Grant exactly these (table, field) pairs; field "*" grants a whole table."""
        self.state.grants.set(grants)

    def grant(self, table: str, field: str = "*") -> None:
        self.state.grants.grant(table, field)

    def deny(self, table: str, field: str) -> None:
        self.state.grants.deny(table, field)

    def reset_grants(self) -> None:
        self.state.grants.reset()

    def is_granted(self, table: str, field: str) -> bool:
        return self.state.grants.allows(table, field)

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

    # ----- data versions and the mutate() test hook -----

    @property
    def data_version(self) -> int:
        """The district's current data version (it advances by one per row written)."""
        return self.state.changes.version

    def subscribe(self, application: str, tables: Iterable[str]) -> None:
        """Add or replace a data version subscription: `application` follows `tables`."""
        self.state.changes.subscribe(application, tables)

    def mutate(
        self,
        table: str,
        action: str,
        row_id: int | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> int:
        """Change the district as an admin would, without HTTP; returns the row id.

        `action` is "insert", "update", "delete" or "touch" (record a change, alter nothing).
        `table` is a schema table ("students", "attendance", "u_studentsuserfields", ...) or,
        for "touch", any table a subscription can follow ("users", "sections", ...). `values`
        maps column -> value, as a schema-table write body does. Every call advances the data
        version by one and sets the row's WHENMODIFIED. A refused change raises ValueError; a
        missing row raises KeyError.
        """
        from acme_powerschool.testing.mutate import apply

        with self.state.lock:
            return apply(self.state, table.lower(), action.lower(), row_id, dict(values or {}))

    def all_ids(self, table: str) -> Iterator[int]:
        return self.state.all_ids(table)

    # ----- writes -----

    def applied_client_uids(self) -> collections.Counter[str]:
        """How many times each client_uid was applied by POST /ws/v1/student."""
        with self.state.lock:
            counter: collections.Counter[str] = collections.Counter()
            for w in self.state.writes:
                if w.path.rstrip("/") == "/ws/v1/student":
                    counter.update(w.applied)
            return counter

    # ----- request handling -----

    def handle(self, req: Request) -> tuple[Reply, FaultKind | None]:
        """Answer one request through the pipeline; returns the reply and the fault picked."""
        return pipeline.run(self.steps, req)


# =====================================================================================
# HTTP plumbing
# =====================================================================================


class _BadBody(ValueError):
    """A request body that cannot be read: answered 400 and the connection closed."""


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
            body = self._read_body()
        except _BadBody as exc:
            self.send_error(400, str(exc))
            return
        except OSError:
            self.close_connection = True
            return
        fault: FaultKind | None = None
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
        out = Outgoing(reply, payload, content_type)
        if fault is None:
            self.send(out)
        else:
            fault.deliver(self, out, sim.slow_ms)

    def _read_body(self) -> bytes:
        """The request body; _BadBody (answered 400) for a bad or oversized length."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            return self._read_chunked()
        raw = (self.headers.get("Content-Length") or "").strip()
        if not raw:
            return b""
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 18:
            raise _BadBody(f"Content-Length must be a whole number of bytes, not {raw[:40]!r}")
        length = int(raw)
        if length > MAX_BODY:
            raise _BadBody(f"Request body too large: {length} bytes (the limit is {MAX_BODY})")
        return self.rfile.read(length) if length > 0 else b""

    def _read_chunked(self) -> bytes:
        parts: list[bytes] = []
        total = 0
        while True:
            line = self.rfile.readline(65537).split(b";")[0].strip() or b"0"
            try:
                size = int(line, 16)
            except ValueError:
                raise _BadBody("Malformed chunk size") from None
            total += size
            if size < 0 or total > MAX_BODY:
                raise _BadBody(f"Request body too large (the limit is {MAX_BODY} bytes)")
            if size == 0:
                while self.rfile.readline(65537).strip():
                    pass  # trailers
                return b"".join(parts)
            parts.append(self.rfile.read(size))
            self.rfile.readline(3)

    # ----- the Transport a fault kind delivers through -----

    def send(self, outgoing: Outgoing, truncated: bool = False) -> None:
        self.server.simulator.stats.status(outgoing.reply.status)
        self._send(outgoing.reply, outgoing.payload, outgoing.content_type, truncated)

    def reset(self) -> None:
        self._reset()

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
