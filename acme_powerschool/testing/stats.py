"""Request counters of a running simulator (thread-safe)."""

from __future__ import annotations

import collections
import threading


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
