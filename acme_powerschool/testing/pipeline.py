"""The request pipeline: a list of steps, each of which may answer the request and stop it.

    stats -> latency -> throttle -> fault -> routing -> auth -> access level -> handler

A step is a callable `(Exchange) -> Reply | None`; the first reply wins. Steps hold only what they
need (the stats, the timing options, the fault plan, the state); the order is `default_steps`.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Sequence

import attrs

from acme_powerschool.testing.faults import FaultKind, FaultPlan
from acme_powerschool.testing.options import Access, Timing
from acme_powerschool.testing.routing import ROUTES, HttpError, Reply, Request, Route
from acme_powerschool.testing.state import SimState
from acme_powerschool.testing.stats import Stats

TOKEN_PATH = "/oauth/access_token"
# /ws/v1 routes that need no accessLevelV1Api (fact sheet §1.12).
_OPEN_V1 = frozenset({"GET /ws/v1/metadata", "GET /ws/v1/time"})


@attrs.define
class Exchange:
    """One request on its way through the steps."""

    req: Request
    route: Route | None = None
    allowed: list[str] = attrs.field(factory=list)  # methods of routes matching the path
    fault: FaultKind | None = None

    @property
    def name(self) -> str:
        return self.route.name if self.route is not None else f"{self.req.method} (unmatched)"


Step = Callable[[Exchange], "Reply | None"]


def match(req: Request) -> Exchange:
    ex = Exchange(req)
    for r in ROUTES:
        m = r.pattern.match(req.path)
        if m is None:
            continue
        if r.method == req.method:
            ex.route, req.params = r, m.groupdict()
            return ex
        ex.allowed.append(r.method)
    return ex


def run(steps: Sequence[Step], req: Request) -> tuple[Reply, FaultKind | None]:
    """Pass the request through the steps; returns the reply and the fault picked, if any."""
    ex = match(req)
    for step in steps:
        reply = step(ex)
        if reply is not None:
            reply.v1 = reply.v1 or req.path.startswith("/ws/v1/")
            return reply, ex.fault
    raise AssertionError("the last step always answers")  # pragma: no cover


# ----- the steps -----


def count_stats(stats: Stats) -> Step:
    def step(ex: Exchange) -> None:
        stats.count(ex.name, ex.req.path.rstrip("/") == TOKEN_PATH)

    return step


def latency(timing: Timing) -> Step:
    def step(ex: Exchange) -> None:
        if timing.latency_ms > 0:
            time.sleep(timing.latency_ms / 1000)

    return step


class Throttle:
    """The per-plugin minimum interval between requests (ADM-T); faster ones are refused."""

    def __init__(self, timing: Timing) -> None:
        self.timing = timing
        self._lock = threading.Lock()
        self._last = -math.inf

    def __call__(self, ex: Exchange) -> Reply | None:
        interval = self.timing.throttle_ms / 1000
        if interval <= 0:
            return None
        with self._lock:
            now = time.monotonic()
            wait = self._last + interval - now
            if wait <= 0:
                self._last = now
                return None
        seconds = max(1, math.ceil(wait))
        body = {"message": f"Too many requests. Please wait {seconds} seconds."}
        headers = {"Retry-After": str(seconds)}
        return Reply(self.timing.throttle_status, body, headers=headers)


def inject_fault(plan: FaultPlan, stats: Stats) -> Step:
    def step(ex: Exchange) -> Reply | None:
        fault = plan.pick(ex.req.method, ex.req.path, ex.name)
        if fault is None:
            return None
        stats.fault(fault.name)
        ex.fault = fault
        return None if fault.answer is None else fault.answer()

    return step


def not_found(ex: Exchange) -> Reply | None:
    if ex.route is not None:
        return None
    if ex.allowed:
        reply = Reply(405, {"message": f"HTTP method {ex.req.method} is not allowed"})
        reply.headers["Allow"] = ", ".join(sorted(set(ex.allowed)))
        return reply
    return Reply(404, {"message": f"Resource not found: {ex.req.path}"})


def authorize(state: SimState) -> Step:
    def step(ex: Exchange) -> Reply | None:
        assert ex.route is not None
        if not ex.route.authorized:
            return None
        problem = state.token_problem(ex.req.headers.get("authorization", ""))
        if problem is None:
            return None
        header = f'Bearer error="invalid_token",realm="PowerSchool",error_description="{problem}"'
        return Reply(401, b"", "text/plain", headers={"WWW-Authenticate": header})

    return step


def access_level(access: Access) -> Step:
    """accessLevelV1Api (§1.12): /ws/v1 needs READ, and FULL for writes."""

    def step(ex: Exchange) -> Reply | None:
        assert ex.route is not None
        if not ex.req.path.startswith("/ws/v1/") or ex.route.name in _OPEN_V1:
            return None
        level = access.v1_access
        needed = "READ" if ex.req.method == "GET" else "FULL"
        if level is not None and (needed == "READ" or level == "FULL"):
            return None
        message = f"Plugin is missing required accessLevelV1Api {needed} permission"
        return Reply(401, {"errorMessage": {"message": message}})

    return step


def dispatch(state: SimState) -> Step:
    def step(ex: Exchange) -> Reply:
        assert ex.route is not None
        try:
            with state.lock:
                return ex.route.handler(state, ex.req)
        except HttpError as exc:
            return exc.reply

    return step


def default_steps(
    state: SimState, stats: Stats, timing: Timing, plan: FaultPlan, access: Access
) -> list[Step]:
    return [
        count_stats(stats),
        latency(timing),
        Throttle(timing),
        inject_fault(plan, stats),
        not_found,
        authorize(state),
        access_level(access),
        dispatch(state),
    ]
