"""Which fault, if any, the simulator injects into a request: scripted or seeded random faults.

Only the decision lives here (pure bookkeeping under a lock); the server carries a fault out.
Random faults draw from `random.Random(seed)`, never from the global generator, so a run is
repeatable for a given seed and request order.
"""

from __future__ import annotations

import fnmatch
import random
import threading

import attrs

# "500", "502", "503": answered at once, the request is not applied.
# "503" carries PowerSchool's HTML maintenance page, "502" a proxy's HTML page.
# "429": throttled answer with Retry-After; not applied.
# "reset": the connection is dropped (TCP RST) before the request is applied.
# "reset_after": the request IS applied (a write lands), then the connection is dropped.
# "truncated": the request is applied, the answer's body is cut short and the connection closed.
# "slow": the request is applied and answered after `slow_ms` milliseconds.
FAULT_KINDS = ("500", "502", "503", "429", "reset", "reset_after", "truncated", "slow")
APPLIES_REQUEST = frozenset({"reset_after", "truncated", "slow"})


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
    kind: str
    remaining: int


class FaultPlan:
    """Scripted faults fire first (in the order injected); then the seeded random rate applies."""

    def __init__(self, seed: int) -> None:
        self._lock = threading.Lock()
        self._scripted: list[_Scripted] = []
        self._rng = random.Random(seed)
        self._rate = 0.0
        self._kinds: tuple[str, ...] = ()
        self._rate_pattern = "/ws/"

    def inject(self, pattern: str, kind: str, times: int = 1) -> None:
        _check_kind(kind)
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._scripted.append(_Scripted(pattern, kind, times))

    def set_rate(self, rate: float, kinds: tuple[str, ...], pattern: str) -> None:
        if not 0.0 <= rate <= 1.0:
            raise ValueError("rate must be between 0 and 1")
        for kind in kinds:
            _check_kind(kind)
        if rate and not kinds:
            raise ValueError("kinds must not be empty")
        with self._lock:
            self._rate, self._kinds, self._rate_pattern = rate, kinds, pattern

    def clear(self) -> None:
        with self._lock:
            self._scripted.clear()
            self._rate, self._kinds = 0.0, ()

    def pending(self) -> int:
        with self._lock:
            return sum(s.remaining for s in self._scripted)

    def pick(self, method: str, path: str, route: str) -> str | None:
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


def _check_kind(kind: str) -> None:
    if kind not in FAULT_KINDS:
        raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
