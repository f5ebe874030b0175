"""Which fault, if any, the simulator injects into a request: scripted or seeded random faults.

Each fault kind is ONE `FaultKind` record in `FAULTS`: what is answered instead of the request
(or nothing: the request is applied) and how the answer is delivered. Adding a kind is adding a
record. The plan (which request gets which fault) is bookkeeping under a lock.
Random faults draw from `random.Random(seed)`, never from the global generator, so a run is
repeatable for a given seed and request order.
"""

from __future__ import annotations

import fnmatch
import random
import threading
import time
from collections.abc import Callable
from typing import Protocol

import attrs

from acme_powerschool.testing import wire
from acme_powerschool.testing.messages import Reply


class Transport(Protocol):
    """What a fault may do to the connection (the HTTP layer implements it)."""

    def send(self, outgoing: Outgoing, truncated: bool = False) -> None: ...

    def reset(self) -> None: ...


@attrs.frozen
class Outgoing:
    """An encoded answer, ready to be written."""

    reply: Reply
    payload: bytes
    content_type: str


def send(transport: Transport, out: Outgoing, slow_ms: float) -> None:
    transport.send(out)


def _reset(transport: Transport, out: Outgoing, slow_ms: float) -> None:
    transport.reset()


def _truncate(transport: Transport, out: Outgoing, slow_ms: float) -> None:
    transport.send(out, truncated=True)


def _slow(transport: Transport, out: Outgoing, slow_ms: float) -> None:
    time.sleep(slow_ms / 1000)
    transport.send(out)


@attrs.frozen
class FaultKind:
    """One fault kind, whole. `answer`: the reply sent INSTEAD of handling the request (the
    request is not applied), or None: the request is handled (a write lands). `deliver`: how
    the answer leaves (normally, cut short, after a wait, or not at all: a TCP reset)."""

    name: str
    answer: Callable[[], Reply] | None
    deliver: Callable[[Transport, Outgoing, float], None] = send
    doc: str = ""

    @property
    def applies_request(self) -> bool:
        return self.answer is None


def _json(status: int, message: str, **headers: str) -> Callable[[], Reply]:
    return lambda: Reply(status, {"message": message}, headers=dict(headers))


def _html(status: int, page: bytes, **headers: str) -> Callable[[], Reply]:
    return lambda: Reply(status, page, "text/html", headers=dict(headers))


FAULTS: dict[str, FaultKind] = {
    k.name: k
    for k in (
        FaultKind(
            "500",
            _json(500, "org.hibernate.exception.SQLGrammarException: could not extract ResultSet"),
            doc="a server error, not applied",
        ),
        FaultKind("502", _html(502, wire.BAD_GATEWAY_HTML), doc="a proxy's HTML page"),
        FaultKind(
            "503",
            _html(503, wire.MAINTENANCE_HTML, **{"Retry-After": "1"}),
            doc="PowerSchool's HTML maintenance page, with Retry-After",
        ),
        FaultKind(
            "429",
            _json(429, "Too many requests. Please wait 1 seconds.", **{"Retry-After": "1"}),
            doc="throttled, with Retry-After",
        ),
        FaultKind("reset", lambda: Reply(0), _reset, doc="TCP reset before it is applied"),
        FaultKind("reset_after", None, _reset, doc="applied, then a TCP reset"),
        FaultKind("truncated", None, _truncate, doc="applied, the body cut short"),
        FaultKind("slow", None, _slow, doc="applied, answered after slow_ms"),
    )
}
FAULT_KINDS = tuple(FAULTS)


def route_matches(pattern: str, method: str, path: str, route: str) -> bool:
    """A pattern matches a request by path prefix, by glob on the path, or by glob on
    "METHOD path" / the route name ("GET /ws/v1/student/{id}")."""
    if pattern in ("", "*"):
        return True
    if " " in pattern:
        return fnmatch.fnmatchcase(f"{method} {path}", pattern) or fnmatch.fnmatchcase(
            route, pattern
        )
    if any(c in pattern for c in "*?["):
        return fnmatch.fnmatchcase(path, pattern)
    return path.startswith(pattern)


@attrs.define
class _Scripted:
    pattern: str
    kind: FaultKind
    remaining: int


class FaultPlan:
    """Scripted faults fire first (in the order injected); then the seeded random rate applies."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._scripted: list[_Scripted] = []
        self._rng = random.Random(seed)
        self._rate = 0.0
        self._kinds: tuple[FaultKind, ...] = ()
        self._rate_pattern = "/ws/"

    def inject(self, pattern: str, kind: str, times: int = 1) -> None:
        fault = lookup(kind)
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._scripted.append(_Scripted(pattern, fault, times))

    def set_rate(self, rate: float, kinds: tuple[str, ...], pattern: str) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        faults = tuple(lookup(kind) for kind in kinds)
        if rate and not faults:
            raise ValueError("kinds must not be empty")
        with self._lock:
            self._rate, self._kinds, self._rate_pattern = rate, faults, pattern

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()
            self._rate, self._kinds = 0.0, ()

    def pending(self) -> int:
        with self._lock:
            return sum(s.remaining for s in self._scripted)

    def pick(self, method: str, path: str, route: str) -> FaultKind | None:
        with self._lock:
            for s in self._scripted:
                if s.remaining > 0 and route_matches(s.pattern, method, path, route):
                    s.remaining -= 1
                    if s.remaining == 0:
                        self._scripted.remove(s)
                    return s.kind
            if self._rate and route_matches(self._rate_pattern, method, path, route):
                # Two draws per eligible request whatever the outcome keeps the sequence stable.
                hit = self._rng.random() < self._rate
                kind = self._kinds[int(self._rng.random() * len(self._kinds))]
                return kind if hit else None
        return None


def lookup(kind: str) -> FaultKind:
    fault = FAULTS.get(kind)
    if fault is None:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
    return fault
