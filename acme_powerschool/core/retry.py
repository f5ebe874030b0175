"""The retry state machine: the ONE place that decides what is sent again, and when.

Sans-I/O (the h11 pattern): the shell reports each attempt's Outcome and receives a new
`AttemptState` and a `RetryDecision`. Nothing here sleeps, reads a clock or draws a random
number: the caller passes the jitter (a float in [0, 1)) and carries out the decision.

To change what is retried, edit this file: `call_kind` (which calls are reads), `TRANSPORT`
(which failures may have reached the server, which heal with time) and `step` / `_decide`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from typing import Any

import attrs

from acme_powerschool.core.outcome import (
    Failed,
    Forbidden,
    Ok,
    Outcome,
    Throttled,
    TransportError,
    Unauthorized,
    Unavailable,
)


class CallKind(enum.Enum):
    """What a call does, which is all the state machine needs to know about it."""

    READ = "read"  # changes nothing: sent again after any failure that may heal
    WRITE = "write"  # may change data: sent again only when the server surely did not act
    TOKEN = "token"  # the OAuth grant: sent again like a read; a 401 is final


SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "PUT", "DELETE"})
# POSTs that only read: running a PowerQuery (and its /count) changes nothing.
READ_ONLY_POST_PREFIXES = ("ws/schema/query/",)


def body_is_replayable(extra: Mapping[str, Any]) -> bool:
    """False for a body that is read while it is sent (a file, an upload): it cannot be sent
    twice, whatever the method."""
    return "files" not in extra and not hasattr(extra.get("data"), "read")


def call_kind(
    method: str, path: str, declared: bool | None = None, extra: Mapping[str, Any] | None = None
) -> CallKind:
    """READ or WRITE for an API call. `path` must already be normalised (no dot segments).

    `declared` is the caller's word (a generated helper knows its endpoint): True for a read,
    False for a write; None decides from the method and path. A body that cannot be replayed
    makes any call a WRITE.
    """
    if extra is not None and not body_is_replayable(extra):
        return CallKind.WRITE
    if declared is not None:
        return CallKind.READ if declared else CallKind.WRITE
    method = method.upper()
    if method == "POST":
        read = path.lstrip("/").startswith(READ_ONLY_POST_PREFIXES)
    else:
        read = method in SAFE_METHODS
    return CallKind.READ if read else CallKind.WRITE


@attrs.frozen
class TransportFacts:
    """What a failed send means: whether the request may have reached the server (a write
    then must not be repeated), and whether trying again can help."""

    may_have_arrived: bool
    heals: bool


# Keyed by `TransportError.kind`; an unknown kind may have arrived and may heal.
TRANSPORT: dict[str, TransportFacts] = {
    "name-not-found": TransportFacts(may_have_arrived=False, heals=True),
    "connect-refused": TransportFacts(may_have_arrived=False, heals=True),
    "connect-timeout": TransportFacts(may_have_arrived=False, heals=True),
    "read-timeout": TransportFacts(may_have_arrived=True, heals=True),
    "deadline": TransportFacts(may_have_arrived=True, heals=True),
    "connection-reset": TransportFacts(may_have_arrived=True, heals=True),
    "too-large": TransportFacts(may_have_arrived=True, heals=False),
    "tls": TransportFacts(may_have_arrived=False, heals=False),
    "invalid-request": TransportFacts(may_have_arrived=False, heals=False),
}
UNKNOWN_TRANSPORT = TransportFacts(may_have_arrived=True, heals=True)


def transport_facts(outcome: TransportError) -> TransportFacts:
    return TRANSPORT.get(outcome.kind, UNKNOWN_TRANSPORT)


@attrs.frozen
class RetryPolicy:
    """How hard to try. Defaults suit a nightly sync: patient, but bounded.

    `max_attempts` counts every try of one call (first included). Waits grow as
    `backoff_base * 2**(retry-1)` capped at `backoff_max`, with full jitter; a Retry-After the
    server sent is honoured exactly. No call waits more than `max_total_wait` seconds in all.
    `refused_token_hold`: when a freshly issued token is refused too (a persistent 401), no
    new token is requested for this many seconds; the calls fail at once and say so.
    """

    max_attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    backoff_base: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    backoff_max: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    max_total_wait: float = attrs.field(default=120.0, validator=attrs.validators.ge(0))
    respect_retry_after: bool = True
    refused_token_hold: float = attrs.field(default=300.0, validator=attrs.validators.ge(0))


NO_RETRY = RetryPolicy(max_attempts=1)


@attrs.frozen
class AttemptState:
    """Where one call stands: tries made, seconds waited, whether a 401 may still be
    answered with a new token (`can_refresh`: credentials known and no hold in force), and
    `time_left` before the call's overall deadline (None: no deadline; the driver updates it
    from its clock before each step)."""

    attempts: int = 0
    waited: float = 0.0
    can_refresh: bool = True
    refreshed: bool = False
    time_left: float | None = None


@attrs.frozen
class Done:
    """Stop and hand the outcome to the caller (success or a final failure).

    `hold_tokens` > 0: a fresh token was refused as well; request no token for that many
    seconds."""

    hold_tokens: float = 0.0


@attrs.frozen
class RetryAfter:
    """Wait this many seconds, then send the same call again."""

    seconds: float


@attrs.frozen
class RefreshToken:
    """Drop the token, get a new one, and send the call again at once."""


@attrs.frozen
class GiveUp:
    """A failure that may heal, but the budget ran out or the call may not be repeated."""

    reason: str


RetryDecision = Done | RetryAfter | RefreshToken | GiveUp

WRITE_NOT_REPEATED = "the request is a write and may have reached the server; not repeating it"


def backoff(policy: RetryPolicy, retry_number: int, jitter: float) -> float:
    """Full-jitter exponential backoff for the `retry_number`-th retry (1-based)."""
    ceiling = min(policy.backoff_max, policy.backoff_base * 2.0 ** max(0, retry_number - 1))
    return float(max(0.0, min(1.0, jitter)) * ceiling)


def surely_not_applied(outcome: Outcome) -> bool:
    """The server did not act on the request: it refused it with 429, or never got it."""
    if isinstance(outcome, Throttled):
        return True
    return isinstance(outcome, TransportError) and not transport_facts(outcome).may_have_arrived


def may_repeat(kind: CallKind, outcome: Outcome) -> bool:
    """Whether a call of `kind` may be sent again after `outcome` (budget aside)."""
    return kind is not CallKind.WRITE or surely_not_applied(outcome)


def _after_unauthorized(
    policy: RetryPolicy, state: AttemptState, kind: CallKind, outcome: Unauthorized
) -> RetryDecision:
    if kind is CallKind.TOKEN or not outcome.token_problem:
        return Done()
    if state.refreshed:
        return Done(hold_tokens=policy.refused_token_hold)
    return RefreshToken() if state.can_refresh else Done()


def _wait(
    policy: RetryPolicy, state: AttemptState, outcome: Outcome, jitter: float
) -> RetryDecision:
    if state.attempts >= policy.max_attempts:
        return GiveUp(f"gave up after {state.attempts} attempts")
    asked = outcome.retry_after if isinstance(outcome, Throttled | Unavailable) else None
    if asked is not None and policy.respect_retry_after:
        wait = asked
    else:
        wait = backoff(policy, state.attempts, jitter)
    if wait > policy.max_total_wait - state.waited:
        return GiveUp(f"the next wait ({wait:.1f}s) would exceed the retry time budget")
    if state.time_left is not None and wait >= state.time_left:
        return GiveUp(f"the next wait ({wait:.1f}s) would pass the call's deadline")
    return RetryAfter(wait)


def _decide(
    policy: RetryPolicy, state: AttemptState, kind: CallKind, outcome: Outcome, jitter: float
) -> RetryDecision:
    """The decision after `state.attempts` tries, the last of which ended in `outcome`.

    - 2xx, 403 and any other final status: done.
    - 401: one new token per call when credentials are known (never for the token request
      itself); a fresh token refused as well starts a hold on token requests.
    - 429, 502/503/504, maintenance pages and transport failures that heal: wait and retry
      while attempts and time remain, but a write only when the server surely did not act.
    - TLS failures, oversized answers and malformed requests are final.
    """
    if isinstance(outcome, Ok | Forbidden | Failed):
        return Done()
    if isinstance(outcome, Unauthorized):
        return _after_unauthorized(policy, state, kind, outcome)
    if isinstance(outcome, TransportError) and not transport_facts(outcome).heals:
        return Done()
    if not may_repeat(kind, outcome):
        return GiveUp(WRITE_NOT_REPEATED)
    return _wait(policy, state, outcome, jitter)


def step(
    policy: RetryPolicy, state: AttemptState, kind: CallKind, outcome: Outcome, jitter: float
) -> tuple[AttemptState, RetryDecision]:
    """One transition: an attempt of a `kind` call ended in `outcome`. Returns the new state
    (attempts counted, waits added, the refresh used) and what to do next."""
    state = attrs.evolve(state, attempts=state.attempts + 1)
    decision = _decide(policy, state, kind, outcome, jitter)
    if isinstance(decision, RetryAfter):
        state = attrs.evolve(state, waited=state.waited + decision.seconds)
    elif isinstance(decision, RefreshToken):
        state = attrs.evolve(state, refreshed=True)
    return state, decision


__all__ = [
    "NO_RETRY",
    "TRANSPORT",
    "AttemptState",
    "CallKind",
    "Done",
    "GiveUp",
    "RefreshToken",
    "RetryAfter",
    "RetryDecision",
    "RetryPolicy",
    "TransportFacts",
    "backoff",
    "body_is_replayable",
    "call_kind",
    "may_repeat",
    "step",
    "surely_not_applied",
]
