"""core/window.py: the adaptive window, driven through random answers and throttling servers.

The servers here are event simulations in virtual time (no clock, no sleep): a server that wants
a minimum gap between requests, answering 429 with a Retry-After, as the simulator's
`throttle_ms` does, and readers that retry a throttled request after its Retry-After as the
client's retry policy does.
"""

from __future__ import annotations

import heapq
import itertools
import math
import random
from collections.abc import Callable

import attrs
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from acme_powerschool.core.retry import RetryPolicy
from acme_powerschool.core.window import (
    Answer,
    Clean,
    Go,
    Other,
    Throttled,
    Wait,
    WindowPolicy,
    WindowState,
    admit,
    answer_for,
    note,
    settle,
    start,
)

POLICY = WindowPolicy()
MAX_ATTEMPTS = RetryPolicy().max_attempts


def admitted(state: WindowState, now: float, *, retry: bool = False) -> WindowState:
    state, decision = admit(POLICY, state, now, retry=retry)
    assert decision == Go()
    return state


def test_a_fresh_window_admits_initial_requests_then_waits_for_one_to_end() -> None:
    state = start(POLICY)
    for _ in range(POLICY.initial):
        state = admitted(state, 0.0)
    assert admit(POLICY, state, 0.0) == (state, Wait(None))
    state = settle(POLICY, state, 0.02, 0.0, Clean(0.02))
    assert admit(POLICY, state, 0.02)[1] == Go()


def test_clean_answers_grow_the_window_to_its_ceiling_in_a_few_round_trips() -> None:
    state = start(POLICY)
    now, round_trips = 0.0, 0
    while state.limit < POLICY.ceiling:
        round_trips += 1
        starts = []
        while isinstance(admit(POLICY, state, now)[1], Go):
            state = admitted(state, now)
            starts.append(now)
        now += 0.02
        for began in starts:
            state = settle(POLICY, state, now, began, Clean(0.02))
    assert state.limit == POLICY.ceiling
    assert round_trips <= math.ceil(math.log2(POLICY.ceiling / POLICY.initial)) + 1


def test_a_throttle_collapses_the_window_to_one_request_at_a_time() -> None:
    state = attrs.evolve(start(POLICY), limit=16.0)
    for _ in range(10):
        state = admitted(state, 1.0)
    state = settle(POLICY, state, 1.02, 1.0, Throttled(retry_after=3.0))
    assert state.limit == 1.0 and state.interval == 0.0
    # nothing starts before the Retry-After; the others, sent into the old window, come back
    # throttled too: they only make the client wait as long as the last of them says
    for _ in range(9):
        decision = admit(POLICY, state, 1.03)[1]
        assert isinstance(decision, Wait) and (decision.until or 0.0) >= 4.02
        state = settle(POLICY, state, 1.03, 1.0, Throttled(retry_after=3.0))
    assert state.limit == 1.0 and state.interval == 0.0 and state.owed == 10
    assert state.not_before == pytest.approx(4.03)
    assert admit(POLICY, state, 4.03)[1] == Wait(pytest.approx(7.03), early=True)
    # the retries go first, one alone after the other, and then one request at a time
    for now in (4.03, 4.05, 4.07, 4.09, 4.11, 4.13, 4.15, 4.17, 4.19, 4.21):
        state = admitted(state, now, retry=True)
        assert admit(POLICY, state, now, retry=True)[1] == Wait(None)
        assert admit(POLICY, state, now)[1] == Wait(None)
        state = settle(POLICY, state, now + 0.02, now, Clean(0.02))
    assert state.owed == 0 and admit(POLICY, state, 4.23)[1] == Go()
    # it stays sequential for the hold, however clean the answers
    state = settle(POLICY, admitted(state, 4.23), 4.25, 4.23, Clean(0.02))
    assert state.limit == 1.0


def test_a_throttle_of_one_request_at_a_time_stops_the_client_and_paces_it() -> None:
    state = attrs.evolve(start(POLICY), limit=1.0, smoothed=0.02, baseline=0.02)
    state = settle(POLICY, admitted(state, 0.0), 0.02, 0.0, Throttled(1.0))
    assert state.not_before == pytest.approx(1.02)
    assert admit(POLICY, state, 1.0)[1] == Wait(pytest.approx(1.02))
    first = state.interval
    assert first == pytest.approx(max(POLICY.first_interval, 0.025))  # not + 1 s
    state = admitted(state, 1.02, retry=True)
    assert admit(POLICY, settle(POLICY, state, 1.03, 1.02, Clean(0.01)), 1.03)[1] == Wait(
        pytest.approx(1.02 + first)
    )
    state = settle(POLICY, state, 1.04, 1.02, Throttled(1.0))
    assert state.interval == pytest.approx(first * 1.5)  # half as long again after the first
    state = settle(POLICY, admitted(state, 3.0, retry=True), 3.01, 3.0, Throttled(0.001))
    assert state.interval == pytest.approx((first * 1.5 + 0.001) * 1.05)  # an exact Retry-After


def test_the_pace_starts_from_the_spacing_that_was_too_short() -> None:
    state = attrs.evolve(start(POLICY), limit=1.0, smoothed=0.045, baseline=0.02, hold_until=9.0)
    state = settle(POLICY, admitted(state, 0.0), 0.021, 0.0, Clean(0.021))
    state = admitted(state, 0.021)  # sent 21 ms after the one before
    state = settle(POLICY, state, 0.042, 0.021, Throttled(1.0))
    assert state.interval == pytest.approx(1.25 * 0.021)


def test_rising_latency_halves_the_window_once_per_round_trip() -> None:
    state = attrs.evolve(start(POLICY), limit=16.0, threshold=16.0, baseline=0.02, smoothed=0.02)
    for _ in range(16):
        state = admitted(state, 0.0)
    state = settle(POLICY, state, 0.2, 0.0, Clean(0.2))
    state = settle(POLICY, state, 0.2, 0.0, Clean(0.2))
    assert state.limit == 8.0  # the second slow answer was sent into the same old window
    for _ in range(14):
        state = settle(POLICY, state, 0.25, 0.0, Clean(0.2))
    assert state.limit == 8.0
    state = settle(POLICY, admitted(state, 0.3), 0.5, 0.3, Clean(0.2))
    assert state.limit == 4.0
    for began in (0.6, 0.9, 1.2):
        state = settle(POLICY, admitted(state, began), began + 0.2, began, Clean(0.2))
    assert state.limit == POLICY.initial  # latency alone never makes it sequential


def test_answers() -> None:
    assert answer_for(429, 2.0, 0.1) == Throttled(2.0)
    assert answer_for(509, None, 0.1) == Throttled(None)
    assert answer_for(200, None, 0.1) == Clean(0.1)
    assert answer_for(503, 1.0, 0.1) == Other()
    assert answer_for(None, None, 0.1) == Other()
    state = start(POLICY)
    assert note(POLICY, state, 1.0, Other()) == state
    assert note(POLICY, state, 1.0, Clean(0.5)) == state


def test_a_throttle_outside_the_window_collapses_it_but_never_sets_its_pace() -> None:
    state = note(POLICY, attrs.evolve(start(POLICY), limit=8.0), 1.0, Throttled(1.0))
    assert state.limit == 1.0 and state.not_before == 2.0 and state.interval == 0.0
    for now in (2.0, 3.0):
        state = note(POLICY, state, now, Throttled(1.0))
        assert state.limit == 1.0 and state.interval == 0.0
        assert state.not_before == now + 1.0


answers = st.one_of(
    st.builds(Clean, st.floats(0.0, 2.0)),
    st.builds(Throttled, st.none() | st.floats(0.0, 5.0)),
    st.just(Other()),
)


@settings(max_examples=300, deadline=None)
@given(events=st.lists(st.tuples(st.booleans(), st.floats(0.0, 0.5), answers), max_size=200))
def test_the_window_stays_within_its_bounds_whatever_the_answers(
    events: list[tuple[bool, float, Answer]],
) -> None:
    state, now = start(POLICY), 0.0
    flying: list[float] = []
    for starting, step, answer in events:
        now += step
        if starting:
            state, decision = admit(POLICY, state, now)
            if isinstance(decision, Go):
                assert now >= state.not_before
                flying.append(now)
                assert len(flying) <= POLICY.ceiling
            else:
                assert decision.until is None or decision.until > now
        elif flying:
            before, started = state, flying.pop(0)
            state = settle(POLICY, state, now, started, answer)
            fresh = started >= before.changed_at
            if isinstance(answer, Throttled) and before.limit < 2 and fresh:
                wait = 1.0 if answer.retry_after is None else answer.retry_after
                assert state.not_before >= now + wait
            if isinstance(answer, Throttled):
                assert state.limit <= before.limit
        assert state.in_flight == len(flying)
        assert 1.0 <= state.limit <= POLICY.ceiling
        assert 0.0 <= state.interval <= POLICY.max_interval


# -- readers against a throttling server, in virtual time ---------------------------------------


@attrs.define
class Server:
    """Answers 429 to a request that arrives less than `gap` after the last one it served."""

    gap: float
    retry_after: Callable[[float], float | None]
    last: float = -math.inf

    def answer(self, arrival: float) -> Throttled | None:
        wait = self.last + self.gap - arrival
        if wait > 0:
            return Throttled(self.retry_after(wait))
        self.last = arrival
        return None


@attrs.define
class Run:
    finished: float = 0.0
    attempts: list[int] = attrs.field(factory=list)


def read(
    server: Server, pages: int, latency: Callable[[], float], *, workers: int, window: bool
) -> Run:
    """`pages` requests by `workers` threads, each retried after a throttle (Retry-After, else
    1 s) as the client's retry loop does; through the window (which, as the shell does, is
    told which requests are retries, and lets those waiting for a place go first), or each
    thread on its own."""
    state = start(POLICY)
    run = Run()
    order = itertools.count()
    events: list[tuple[float, int, str, int, float]] = []  # (time, order, what, page, started)
    blocked: list[tuple[str, int]] = []
    attempts = dict.fromkeys(range(pages), 0)
    upcoming = iter(range(pages))

    def push(time: float, what: str, page: int, started: float = 0.0) -> None:
        heapq.heappush(events, (time, next(order), what, page, started))

    for _ in range(min(workers, pages)):
        push(0.0, "ready", next(upcoming))
    while events:
        now, _, what, page, started = heapq.heappop(events)
        if what in ("ready", "retry"):
            decision: Go | Wait = Go()
            if window:
                state, decision = admit(POLICY, state, now, retry=what == "retry")
            if isinstance(decision, Wait):
                if decision.until is None or decision.early:
                    blocked.insert(0 if what == "retry" else len(blocked), (what, page))
                else:
                    push(decision.until, what, page)
                continue
            attempts[page] += 1
            push(now + latency(), "answer", page, now)
            continue
        throttled = server.answer(now)
        answer: Answer = throttled or Clean(now - started)
        if window:
            state = settle(POLICY, state, now, started, answer)
            while blocked:
                push(now, *blocked.pop(0))
        if throttled is not None:
            wait = 1.0 if throttled.retry_after is None else throttled.retry_after
            push(now + wait, "retry", page)
            continue
        run.finished = now
        following = next(upcoming, None)
        if following is not None:
            push(now, "ready", following)
    run.attempts = list(attempts.values())
    return run


RETRY_AFTER: dict[str, Callable[[float], float | None]] = {
    "whole seconds": lambda wait: float(max(1, math.ceil(wait))),  # what the simulator sends
    "exact": lambda wait: wait,
    "none": lambda wait: None,
}


@settings(max_examples=60, deadline=None)
@given(
    gap_ms=st.sampled_from([0.0, 5.0, 25.0, 100.0, 300.0]) | st.floats(0.0, 400.0),
    latency_ms=st.floats(0.5, 60.0),
    jitter=st.floats(0.0, 0.5),
    retry_after=st.sampled_from(sorted(RETRY_AFTER)),
    workers=st.integers(1, 16),
    seed=st.integers(0, 2**16),
)
@example(  # in-flight requests each met the throttle again after the collapse: 6 attempts
    gap_ms=14.0, latency_ms=38.0, jitter=0.25, retry_after="exact", workers=7, seed=63
)
def test_the_window_never_gives_up_where_a_sequential_reader_succeeds(
    gap_ms: float, latency_ms: float, jitter: float, retry_after: str, workers: int, seed: int
) -> None:
    """A throttled request is retried at most MAX_ATTEMPTS times in all (the client's default
    retry policy) and reading through the window is never much slower than reading alone."""
    pages = 150
    times = {}
    for window in (False, True):
        rng = random.Random(seed)

        def latency() -> float:
            return latency_ms / 1000 * (1 + jitter * rng.random())  # noqa: B023

        server = Server(gap_ms / 1000, RETRY_AFTER[retry_after])
        run = read(server, pages, latency, workers=1 if not window else workers, window=window)
        if not window:
            assert max(run.attempts) <= 2  # alone, one Retry-After always clears the gap
        else:
            assert max(run.attempts) <= MAX_ATTEMPTS, run.attempts
        times[window] = run.finished
    # At most one collapse (one Retry-After) more than reading alone, and 10% on top.
    assert times[True] <= times[False] * 1.10 + 1.0


@pytest.mark.parametrize("gap_ms", [25.0, 100.0])
def test_a_throttling_server_is_read_faster_than_alone(gap_ms: float) -> None:
    """The simulator's throttle (whole-second Retry-After) at 20 ms: the window learns the pace
    that a sequential reader, throttled on every other request, never does."""
    server = Server(gap_ms / 1000, RETRY_AFTER["whole seconds"])
    alone = read(server, 200, lambda: 0.022, workers=1, window=False).finished
    server = Server(gap_ms / 1000, RETRY_AFTER["whole seconds"])
    together = read(server, 200, lambda: 0.022, workers=16, window=True)
    assert max(together.attempts) <= 2
    assert together.finished < alone / 2
