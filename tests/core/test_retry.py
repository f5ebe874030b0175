"""decide_retry: bounded waits, one refresh, and no repeated writes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

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
from acme_powerschool.core.retry import (
    Done,
    GiveUp,
    RefreshToken,
    RetryAfter,
    RetryPolicy,
    backoff,
    decide_retry,
)

outcomes: st.SearchStrategy[Outcome] = st.one_of(
    st.just(Ok()),
    st.builds(Unauthorized, st.booleans()),
    st.just(Forbidden()),
    st.builds(RateLimited, st.none() | st.floats(0, 500)),
    st.builds(Unavailable, st.sampled_from([502, 503, 504]), st.none() | st.floats(0, 500)),
    st.builds(Failed, st.sampled_from([400, 404, 405, 500])),
    st.builds(TransportError, st.sampled_from(["reset", "timeout"]), st.booleans(), st.booleans()),
)
policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 8),
    backoff_base=st.floats(0, 5),
    backoff_max=st.floats(0, 60),
    max_total_wait=st.floats(0, 300),
    respect_retry_after=st.booleans(),
)


def simulate(
    policy: RetryPolicy, safe: bool, sequence: list[Outcome], jitters: list[float]
) -> tuple[list[object], float, int]:
    """Drive decide_retry through a sequence of outcomes as the shell would."""
    decisions: list[object] = []
    waited = 0.0
    attempt = 0
    refreshed = False
    for index, outcome in enumerate(sequence):
        attempt += 1
        decision = decide_retry(
            policy,
            safe_to_repeat=safe,
            attempt=attempt,
            waited=waited,
            outcome=outcome,
            jitter=jitters[index % len(jitters)],
            can_refresh=True,
            refreshed=refreshed,
        )
        decisions.append(decision)
        if isinstance(decision, RetryAfter):
            waited += decision.seconds
        elif isinstance(decision, RefreshToken):
            refreshed = True
        else:
            break
    return decisions, waited, attempt


@given(
    policies,
    st.booleans(),
    st.lists(outcomes, min_size=1, max_size=20),
    st.lists(st.floats(0, 1), min_size=1, max_size=5),
)
def test_waits_stay_within_bounds(
    policy: RetryPolicy, safe: bool, sequence: list[Outcome], jitters: list[float]
) -> None:
    decisions, waited, _attempts = simulate(policy, safe, sequence, jitters)
    assert waited <= policy.max_total_wait + 1e-9
    retries = [d for d in decisions if isinstance(d, RetryAfter)]
    assert len(retries) < policy.max_attempts
    assert sum(isinstance(d, RefreshToken) for d in decisions) <= 1
    for decision in retries:
        assert decision.seconds >= 0


@given(policies, st.lists(outcomes, min_size=1, max_size=20), st.floats(0, 1))
def test_writes_are_repeated_only_when_surely_not_applied(
    policy: RetryPolicy, sequence: list[Outcome], jitter: float
) -> None:
    """A write is repeated only after a refused connection or a 429 (rejected, not applied)."""
    decisions, _, _ = simulate(policy, False, sequence, [jitter])
    for outcome, decision in zip(sequence, decisions, strict=False):
        if isinstance(decision, RetryAfter):
            assert isinstance(outcome, RateLimited) or (
                isinstance(outcome, TransportError) and not outcome.sent
            )


@given(policies, st.booleans(), outcomes, st.floats(0, 1), st.integers(1, 10))
def test_final_outcomes_never_wait(
    policy: RetryPolicy, safe: bool, outcome: Outcome, jitter: float, attempt: int
) -> None:
    decision = decide_retry(
        policy,
        safe_to_repeat=safe,
        attempt=attempt,
        waited=0.0,
        outcome=outcome,
        jitter=jitter,
        can_refresh=True,
        refreshed=False,
    )
    if isinstance(outcome, Ok | Forbidden | Failed) or (
        isinstance(outcome, TransportError) and not outcome.retryable
    ):
        assert decision == Done()


def test_retry_after_on_a_503_is_honoured() -> None:
    decision = decide_retry(
        RetryPolicy(),
        safe_to_repeat=True,
        attempt=1,
        waited=0.0,
        outcome=Unavailable(503, retry_after=12.0),
        jitter=0.1,
        can_refresh=True,
        refreshed=False,
    )
    assert decision == RetryAfter(12.0)


@given(policies, st.integers(1, 30), st.floats(0, 1))
def test_backoff_is_full_jitter_within_cap(policy: RetryPolicy, retry: int, jitter: float) -> None:
    wait = backoff(policy, retry, jitter)
    assert 0 <= wait <= min(policy.backoff_max, policy.backoff_base * 2.0 ** (retry - 1)) + 1e-9


def test_retry_after_is_honoured_exactly() -> None:
    decision = decide_retry(
        RetryPolicy(),
        safe_to_repeat=True,
        attempt=1,
        waited=0.0,
        outcome=RateLimited(7.0),
        jitter=0.9,
        can_refresh=True,
        refreshed=False,
    )
    assert decision == RetryAfter(7.0)


def test_retry_after_beyond_budget_gives_up() -> None:
    decision = decide_retry(
        RetryPolicy(max_total_wait=5),
        safe_to_repeat=True,
        attempt=1,
        waited=0.0,
        outcome=RateLimited(60.0),
        jitter=0.5,
        can_refresh=True,
        refreshed=False,
    )
    assert isinstance(decision, GiveUp)


def test_unauthorized_refreshes_once_and_only_with_credentials() -> None:
    common = dict(safe_to_repeat=True, attempt=1, waited=0.0, jitter=0.0)
    policy = RetryPolicy()
    first = decide_retry(
        policy, outcome=Unauthorized(), can_refresh=True, refreshed=False, **common
    )  # type: ignore[arg-type]
    again = decide_retry(policy, outcome=Unauthorized(), can_refresh=True, refreshed=True, **common)  # type: ignore[arg-type]
    no_creds = decide_retry(
        policy, outcome=Unauthorized(), can_refresh=False, refreshed=False, **common
    )  # type: ignore[arg-type]
    plugin_denied = decide_retry(
        policy, outcome=Unauthorized(False), can_refresh=True, refreshed=False, **common
    )  # type: ignore[arg-type]
    assert first == RefreshToken()
    assert again == Done() == no_creds == plugin_denied


def test_final_outcomes_are_done() -> None:
    for outcome in (Ok(), Forbidden(), Failed(404), Failed(500)):
        decision = decide_retry(
            RetryPolicy(),
            safe_to_repeat=True,
            attempt=1,
            waited=0.0,
            outcome=outcome,
            jitter=0.5,
            can_refresh=True,
            refreshed=False,
        )
        assert decision == Done()
