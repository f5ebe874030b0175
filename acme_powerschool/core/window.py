"""The adaptive concurrency window of the pagers, as pure policy.

One window per client, shared by every pager and thread of that client. It decides two things:
whether one more page request may start now (`admit`), and what an answer teaches it
(`settle` for a request it admitted, `note` for any other request of the client: only a
throttle of those counts).

- It starts small (`initial` requests at once) and grows by one for every clean answer (a 2xx
  whose latency is not rising): it doubles once per round trip until it reaches `ceiling`, or
  until it first had to shrink; after that it grows by one per window's worth of clean answers.
- Every 429 or 509 of its own requests (even one sent into an older window) stops the whole
  client until the server's Retry-After has passed, and the window owes that request its retry:
  the retry (`admit(..., retry=True)`) goes before any new request, alone, as a sequential
  reader's retry would, so no request is throttled more often than reading alone would make it
  (new requests wait for the retry at most as long again as the Retry-After: it may never come).
- It collapses to one request at a time, for the whole client, on the first 429 or 509, and
  stays at one (reading as a sequential reader would) for `hold` times that wait. A throttle that
  comes while only one request at a time is allowed says that even a sequential reader is too
  fast: then nothing starts before the Retry-After has passed, for the whole client, and from
  then on requests start at least `interval` seconds apart (a quarter more than the spacing
  that was too short, half as long again after every later such throttle). After the hold,
  clean answers relax the interval, and the window grows again while the interval is not what
  limits it.
- It halves (at most once per round trip, never below `initial`: only a throttle makes it
  sequential) when the smoothed latency rises above
  `latency_factor` times the lowest latency seen (which may itself creep up slowly, by
  `baseline_drift` per answer, to follow a path that got slower): more requests at once would
  only queue.

Signals from requests that started before the last collapse or shrink describe the old window,
so they never shrink it again. Nothing here reads a clock or sleeps: `now` and latencies are
arguments, and the shell (shell/window.py) applies the decisions.
"""

from __future__ import annotations

import math

import attrs

__all__ = [
    "Answer",
    "Clean",
    "Go",
    "Other",
    "Throttled",
    "Wait",
    "WindowPolicy",
    "WindowState",
    "admit",
    "answer_for",
    "note",
    "settle",
    "start",
]


@attrs.frozen
class WindowPolicy:
    """How the window moves. The defaults suit PowerSchool behind a WAN."""

    initial: int = attrs.field(default=2, validator=attrs.validators.ge(1))
    ceiling: int = attrs.field(default=16, validator=attrs.validators.ge(1))
    latency_factor: float = attrs.field(default=2.0, validator=attrs.validators.gt(1.0))
    baseline_drift: float = attrs.field(default=0.01, validator=attrs.validators.ge(0))
    """How fast the unloaded latency may rise per clean answer (the path or the server may get
    slower for reasons of their own; a window that fills the server raises it faster)."""
    smoothing: float = attrs.field(
        default=0.25, validator=[attrs.validators.gt(0), attrs.validators.le(1)]
    )
    first_interval: float = attrs.field(default=0.01, validator=attrs.validators.gt(0))
    hold: float = attrs.field(default=20.0, validator=attrs.validators.ge(0))
    max_interval: float = attrs.field(default=10.0, validator=attrs.validators.gt(0))
    relax_after: int = attrs.field(default=10, validator=attrs.validators.ge(1))
    relax: float = attrs.field(
        default=0.8, validator=[attrs.validators.gt(0), attrs.validators.lt(1)]
    )
    default_retry_after: float = attrs.field(default=1.0, validator=attrs.validators.ge(0))
    retry_grace: float = attrs.field(default=0.05, validator=attrs.validators.ge(0))
    """At least how long after its Retry-After the retry of a throttled request is waited for."""


@attrs.frozen
class WindowState:
    """Where the window stands. `limit` requests may be in flight; `in_flight` are."""

    limit: float
    in_flight: int = 0
    threshold: float = math.inf
    """Slow start (double per round trip) below it, one per round trip above it."""
    baseline: float | None = None
    """The lowest latency seen (seconds), let rise by `baseline_drift` per clean answer: what
    an unloaded server answers in now."""
    smoothed: float | None = None
    """Recent latency (exponentially weighted)."""
    not_before: float = -math.inf
    """No request starts before this time (the server's Retry-After)."""
    interval: float = 0.0
    """Minimum seconds between two starts; 0 once no throttle asks for one."""
    last_start: float = -math.inf
    previous_start: float = -math.inf
    """The start before `last_start`: their difference is the spacing a throttle judges."""
    changed_at: float = -math.inf
    """When the window last collapsed or shrank: older requests' signals are stale."""
    hold_until: float = -math.inf
    """After a throttle: no growth (of the window, or relaxing the interval) before this."""
    clean: int = 0
    """Clean answers since the interval last changed."""
    owed: int = 0
    """Throttled requests whose retries have not started yet: they go before any new one."""
    owed_until: float = -math.inf
    """How long new requests wait for those retries (a retry that never comes stops counting)."""
    solo: float | None = None
    """When the retry in flight started: it goes alone, and nothing else starts meanwhile."""


def start(policy: WindowPolicy) -> WindowState:
    """A fresh window."""
    return WindowState(limit=float(min(policy.initial, policy.ceiling)))


@attrs.frozen
class Go:
    """Send now (the request is counted in flight)."""


@attrs.frozen
class Wait:
    """Do not send yet: until `until` (a time), or until a request in flight ends (None).
    `early`: a change of the window (a request started or ended) may allow it sooner."""

    until: float | None
    early: bool = False


@attrs.frozen
class Clean:
    """A 2xx answer that took `latency` seconds."""

    latency: float


@attrs.frozen
class Throttled:
    """429 or 509; `retry_after` seconds when the server said."""

    retry_after: float | None = None


@attrs.frozen
class Other:
    """Anything else (an error status, no answer): it says nothing about the window."""


Answer = Clean | Throttled | Other


def answer_for(status: int | None, retry_after: float | None, latency: float) -> Answer:
    """What an HTTP answer (None: no answer at all) means to the window."""
    if status in (429, 509):
        return Throttled(retry_after)
    if status is not None and 200 <= status < 300:
        return Clean(max(0.0, latency))
    return Other()


def admit(
    policy: WindowPolicy, state: WindowState, now: float, *, retry: bool = False
) -> tuple[WindowState, Go | Wait]:
    """May one more request start at `now`? `retry`: it is the retry of a throttled request,
    which goes before any new request, alone (as a sequential reader's retry would), once the
    Retry-After has passed."""
    if now < state.not_before:
        return state, Wait(state.not_before)
    paced = state.last_start + state.interval
    if state.interval > 0 and now < paced:
        return state, Wait(paced)
    if state.solo is not None:
        return state, Wait(None)
    if retry:
        if state.in_flight > 0:
            return state, Wait(None)
        return _started(state, now, owed=max(0, state.owed - 1), solo=now), Go()
    if state.owed > 0 and now < state.owed_until:
        return state, Wait(state.owed_until, early=True)
    if state.in_flight >= max(1, math.floor(min(state.limit, policy.ceiling))):
        return state, Wait(None)
    return _started(state, now, owed=0, solo=None), Go()


def _started(state: WindowState, now: float, *, owed: int, solo: float | None) -> WindowState:
    return attrs.evolve(
        state,
        in_flight=state.in_flight + 1,
        last_start=now,
        previous_start=state.last_start,
        owed=owed,
        solo=solo,
    )


def settle(
    policy: WindowPolicy, state: WindowState, now: float, started: float, answer: Answer
) -> WindowState:
    """A request `admit` let through at `started` has ended with `answer`."""
    solo = None if state.solo == started else state.solo
    state = attrs.evolve(state, in_flight=max(0, state.in_flight - 1), solo=solo)
    match answer:
        case Throttled(retry_after=retry_after):
            state = _owed(policy, state, now, retry_after)
            if started < state.changed_at:
                return state  # sent into the old window: the collapse already answered it
            return _throttled(policy, state, now, retry_after, spacing=_spacing(state, started))
        case Clean(latency=latency):
            return _clean(policy, state, now, started, latency)
    return state


def note(policy: WindowPolicy, state: WindowState, now: float, answer: Answer) -> WindowState:
    """Another request of the client (not admitted by the window) has ended with `answer`: a
    throttle collapses the window too, but only the window's own requests set its pace."""
    if not isinstance(answer, Throttled):
        return state
    return _throttled(policy, state, now, answer.retry_after, spacing=None)


def _owed(
    policy: WindowPolicy, state: WindowState, now: float, retry_after: float | None
) -> WindowState:
    """A throttled request of the window will be retried after its Retry-After: until then
    nothing starts (the server still throttles), and then its retry goes first. New requests
    wait for it at most as long again (it may never come: the caller's retries ran out)."""
    wait = policy.default_retry_after if retry_after is None else retry_after
    return attrs.evolve(
        state,
        owed=state.owed + 1,
        owed_until=max(state.owed_until, now + wait + max(wait, policy.retry_grace)),
        not_before=max(state.not_before, now + wait),
    )


def _throttled(
    policy: WindowPolicy,
    state: WindowState,
    now: float,
    retry_after: float | None,
    *,
    spacing: float | None,
) -> WindowState:
    """A throttle. With more than one request in flight allowed: one at a time from now on
    (the throttled request itself waits its Retry-After). Already one at a time: the whole
    client waits the Retry-After, and (given the `spacing` that was too short) requests start
    further apart."""
    wait = policy.default_retry_after if retry_after is None else retry_after
    if state.limit >= 2:
        return attrs.evolve(
            state,
            limit=1.0,
            not_before=max(state.not_before, now + wait),
            threshold=max(1.0, state.limit / 2),
            hold_until=now + policy.hold * wait,
            changed_at=now,
            clean=0,
        )
    interval = state.interval if spacing is None else _paced(policy, state, spacing, wait)
    return attrs.evolve(
        state,
        not_before=max(state.not_before, now + wait),
        hold_until=now + policy.hold * max(wait, interval),
        interval=interval,
        changed_at=now,
        clean=0,
    )


def _spacing(state: WindowState, started: float) -> float:
    """How long after the request before it a throttled request started (when it was the last
    one sent), at most the recent latency."""
    recent = state.smoothed if state.smoothed is not None else math.inf
    if started == state.last_start and state.previous_start > -math.inf:
        return min(started - state.previous_start, recent)  # not the pause of a Retry-After
    return 0.0 if recent == math.inf else recent


def _paced(policy: WindowPolicy, state: WindowState, spacing: float, wait: float) -> float:
    """The interval after a throttle of one request at a time: a quarter more than the spacing
    that was too short the first time, half as long again after that (at most that spacing
    plus the server's Retry-After: a Retry-After in whole seconds overstates what a minimum gap
    needs)."""
    spacing = max(state.interval, spacing)
    longer = max(policy.first_interval, 1.25 * spacing, 1.5 * state.interval)
    return min(policy.max_interval, longer, (spacing + wait) * 1.05)


def _clean(
    policy: WindowPolicy, state: WindowState, now: float, started: float, latency: float
) -> WindowState:
    floor = latency if state.baseline is None else state.baseline * (1 + policy.baseline_drift)
    baseline = min(floor, latency)
    previous = state.smoothed if state.smoothed is not None else latency
    smoothed = previous + policy.smoothing * (latency - previous)
    state = attrs.evolve(state, baseline=baseline, smoothed=smoothed)
    if smoothed > baseline * policy.latency_factor:
        if started < state.changed_at:
            return state  # this request was sent into the old, larger window
        limit = max(min(state.limit, float(policy.initial)), state.limit / 2)
        return attrs.evolve(state, limit=limit, threshold=limit, changed_at=now)
    if now < state.hold_until:
        return state
    if state.interval > 0:
        state = _relaxed(policy, state)
        if state.interval * state.limit >= smoothed:
            return state  # the pace, not the window, limits how many are in flight
    return attrs.evolve(state, limit=_grown(policy, state))


def _relaxed(policy: WindowPolicy, state: WindowState) -> WindowState:
    """One more clean answer under a pace: every `relax_after` of them shorten it."""
    clean = state.clean + 1
    if clean < policy.relax_after:
        return attrs.evolve(state, clean=clean)
    interval = state.interval * policy.relax
    if interval < policy.first_interval / 8:
        interval = 0.0
    return attrs.evolve(state, interval=interval, clean=0)


def _grown(policy: WindowPolicy, state: WindowState) -> float:
    step = 1.0 if state.limit < state.threshold else 1.0 / max(1.0, state.limit)
    return min(float(policy.ceiling), state.limit + step)
