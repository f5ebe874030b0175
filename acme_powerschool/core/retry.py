"""Whether and when to try a request again, as a pure decision.

Nothing here sleeps or draws random numbers: the caller passes the jitter (a float in [0, 1))
and applies the decision.
"""

from __future__ import annotations

import attrs

from acme_powerschool.core.outcome import (
    Failed,
    Forbidden,
    Ok,
    Outcome,
    RateLimited,
    TransportError,
    Unauthorized,
    Unavailable,
)


@attrs.frozen
class RetryPolicy:
    """How hard to try. Defaults suit a nightly sync: patient, but bounded.

    `max_attempts` counts every try of one call (first included). Waits grow as
    `backoff_base * 2**(retry-1)` capped at `backoff_max`, with full jitter; a Retry-After the
    server sent is honoured exactly. No call waits more than `max_total_wait` seconds in all.
    """

    max_attempts: int = attrs.field(default=5, validator=attrs.validators.ge(1))
    backoff_base: float = attrs.field(default=0.5, validator=attrs.validators.ge(0))
    backoff_max: float = attrs.field(default=30.0, validator=attrs.validators.ge(0))
    max_total_wait: float = attrs.field(default=120.0, validator=attrs.validators.ge(0))
    respect_retry_after: bool = True


NO_RETRY = RetryPolicy(max_attempts=1)


@attrs.frozen
class Done:
    """Stop and hand the outcome to the caller (success or a final failure)."""


@attrs.frozen
class RetryAfter:
    """Wait this many seconds, then send the same call again."""

    seconds: float


@attrs.frozen
class RefreshToken:
    """Drop the token, get a new one, and send the call again at once."""


@attrs.frozen
class GiveUp:
    """A retryable failure that ran out of budget, or may not be repeated."""

    reason: str


RetryDecision = Done | RetryAfter | RefreshToken | GiveUp


def backoff(policy: RetryPolicy, retry_number: int, jitter: float) -> float:
    """Full-jitter exponential backoff for the `retry_number`-th retry (1-based)."""
    ceiling = min(policy.backoff_max, policy.backoff_base * 2.0 ** max(0, retry_number - 1))
    return float(max(0.0, min(1.0, jitter)) * ceiling)


def decide_retry(
    policy: RetryPolicy,
    *,
    safe_to_repeat: bool,
    attempt: int,
    waited: float,
    outcome: Outcome,
    jitter: float,
    can_refresh: bool,
    refreshed: bool,
) -> RetryDecision:
    """What to do after `attempt` tries (1-based) that have already waited `waited` seconds.

    - 401: refresh the token once per call when credentials are known.
    - 429, 502/503/504, maintenance pages and transport errors: wait and retry while attempts
      and time remain, but only for calls that are safe to repeat. A write is retried only
      when the server surely did not act on it: its connection never opened, or it was
      refused with 429 (throttled requests are rejected, not applied).
    - TLS failures and malformed requests are final: no retry heals them.
    - Anything else is final.
    """
    if isinstance(outcome, Ok | Forbidden | Failed):
        return Done()
    if isinstance(outcome, Unauthorized):
        if outcome.token_problem and can_refresh and not refreshed:
            return RefreshToken()
        return Done()
    if isinstance(outcome, TransportError) and not outcome.retryable:
        return Done()
    not_applied = isinstance(outcome, RateLimited) or (
        isinstance(outcome, TransportError) and not outcome.sent
    )
    if not (safe_to_repeat or not_applied):
        return GiveUp("the request is a write and may have reached the server; not repeating it")
    if attempt >= policy.max_attempts:
        return GiveUp(f"gave up after {attempt} attempts")
    remaining = policy.max_total_wait - waited
    asked = outcome.retry_after if isinstance(outcome, RateLimited | Unavailable) else None
    if asked is not None and policy.respect_retry_after:
        wait = asked
    else:
        wait = backoff(policy, attempt, jitter)
    if wait > remaining:
        return GiveUp(f"the next wait ({wait:.1f}s) would exceed the retry time budget")
    return RetryAfter(wait)


__all__ = [
    "NO_RETRY",
    "Done",
    "GiveUp",
    "RefreshToken",
    "RetryAfter",
    "RetryDecision",
    "RetryPolicy",
    "backoff",
    "decide_retry",
]
