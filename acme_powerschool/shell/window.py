"""The client's concurrency window, executed: a gate in front of the connection pool.

`WindowAdapter` is a requests transport adapter. Every request a pager sends inside `windowed()`
(and every retry of it, which goes through the adapter again) first waits at the gate until
core/window.py's `admit` lets it through; every answer of the client, windowed or not, is
reported to the window, so a 429 on any thread collapses it for all. A thread whose last
windowed request was throttled is sending its retry: that one is queued first and flagged
to the policy, which lets it go alone before any new request. The adapter's connection
pool holds as many connections as the window can use. The policy lives in core/window.py;
this module only waits, sends and reports.
"""

from __future__ import annotations

import collections
import contextlib
import contextvars
import itertools
import threading
from collections.abc import Iterator
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from acme_powerschool.core.outcome import parse_retry_after
from acme_powerschool.core.window import (
    Answer,
    Go,
    Other,
    Throttled,
    WindowPolicy,
    WindowState,
    admit,
    answer_for,
    note,
    settle,
    start,
)
from acme_powerschool.shell.effects import Effects

__all__ = ["Window", "WindowAdapter", "mount_window", "windowed"]

_WINDOWED: contextvars.ContextVar[bool] = contextvars.ContextVar("acme_windowed", default=False)
_THROTTLED: contextvars.ContextVar[bool] = contextvars.ContextVar("acme_throttled", default=False)
"""This thread's last windowed request was throttled: its next one is the retry (the client's
retry loop sends it from the same thread)."""


@contextlib.contextmanager
def windowed() -> Iterator[None]:
    """Requests sent on this thread inside the block wait for the client's window."""
    token = _WINDOWED.set(True)
    throttled = _THROTTLED.set(False)
    try:
        yield
    finally:
        _THROTTLED.reset(throttled)
        _WINDOWED.reset(token)


class Window:
    """One client's window: its state behind a lock, and threads waiting for a place."""

    def __init__(self, effects: Effects, policy: WindowPolicy | None = None) -> None:
        self.policy = policy or WindowPolicy()
        self.effects = effects
        self._state = start(self.policy)
        self._changed = threading.Condition()
        self._tickets = itertools.count()
        self._queue: collections.deque[int] = collections.deque()
        self.peak = 0
        """The most requests this window ever had in flight at once."""

    @property
    def state(self) -> WindowState:
        with self._changed:
            return self._state

    def enter(self, *, retry: bool = False) -> float:
        """Wait until the window admits one more request; the time it was admitted. Requests
        are admitted in the order they came, but the retry of a throttled request goes before
        them all (the policy holds new requests for it)."""
        with self._changed:
            ticket = next(self._tickets)
            if retry:
                self._queue.appendleft(ticket)
            else:
                self._queue.append(ticket)
            try:
                return self._admitted(ticket, retry)
            finally:
                self._queue.remove(ticket)
                self._changed.notify_all()

    def _admitted(self, ticket: int, retry: bool) -> float:
        now = self.effects.now()
        while True:
            if self._queue[0] != ticket:
                self._changed.wait()
                now = self.effects.now()
                continue
            self._state, decision = admit(self.policy, self._state, now, retry=retry)
            if isinstance(decision, Go):
                self.peak = max(self.peak, self._state.in_flight)
                return now
            if decision.until is None:
                self._changed.wait()
                now = self.effects.now()
                continue
            until = decision.until
            if decision.early:  # held for a retry: it comes, or the time passes
                if not self._changed.wait(max(0.0, until - now)):
                    now = max(self.effects.now(), until)
                else:
                    now = self.effects.now()
                continue
            self._changed.release()
            try:
                self.effects.sleep(max(0.0, until - now))
            finally:
                self._changed.acquire()
            # Slept as long as asked: the deadline has passed, whatever the clock says.
            now = max(self.effects.now(), until)

    def leave(self, started: float | None, answer: Answer) -> None:
        """A request ended; `started` is None for one the window did not admit (only a throttle
        of such a request counts)."""
        now = self.effects.now()
        with self._changed:
            if started is not None:
                self._state = settle(self.policy, self._state, now, started, answer)
            elif isinstance(answer, Throttled):  # any thread's 429 collapses the window
                self._state = note(self.policy, self._state, now, answer)
            else:
                return
            self._changed.notify_all()


def _answer(response: requests.Response | None, started: float, now: float) -> Answer:
    if response is None:
        return Other()
    retry_after = parse_retry_after(response.headers.get("Retry-After"), now)
    return answer_for(response.status_code, retry_after, now - started)


class WindowAdapter(HTTPAdapter):
    """requests' HTTP adapter with the window in front of it and a pool the window's size."""

    def __init__(self, window: Window, **kwargs: Any) -> None:
        self.window = window
        size = window.policy.ceiling + 2  # the window, a token request and a sequential reader
        super().__init__(pool_connections=4, pool_maxsize=size, **kwargs)

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, stream: bool = False, **kwargs: Any
    ) -> requests.Response:
        if not _WINDOWED.get():
            # Outside the window: sent at once, and only a throttle is reported (no clock read).
            answered = super().send(request, stream=stream, **kwargs)
            if answered.status_code in THROTTLE_STATUSES:
                now = self.window.effects.now()
                self.window.leave(None, _answer(answered, now, now))
            return answered
        started = self.window.enter(retry=_THROTTLED.get())
        response: requests.Response | None = None
        try:
            response = super().send(request, stream=stream, **kwargs)
            if not stream:
                response.content  # noqa: B018  (the body is part of the answer's time)
            return response
        finally:
            now = self.window.effects.now()
            answer = _answer(response, started, now)
            _THROTTLED.set(isinstance(answer, Throttled))
            self.window.leave(started, answer)


THROTTLE_STATUSES = frozenset({429, 509})


def mount_window(session: requests.Session, effects: Effects) -> Window | None:
    """Put a fresh window in front of `session`'s http and https connections; None (no window)
    when the session already has adapters of its own making (the caller's, kept as they are)."""
    for prefix in ("https://", "http://"):
        if type(session.get_adapter(prefix)) is not HTTPAdapter:
            return None
    window = Window(effects)
    adapter = WindowAdapter(window)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return window
