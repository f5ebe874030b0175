"""The retry state machine: a table over every outcome x call kind x attempt, and hypothesis
driving whole sequences (bounded waits, one refresh, no repeated writes)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acme_powerschool.core.outcome import (
    TRANSPORT_KINDS,
    Failed,
    Forbidden,
    Ok,
    Outcome,
    Throttled,
    TransportError,
    Unauthorized,
    Unavailable,
)
from acme_powerschool.core.retry import (
    TRANSPORT,
    WRITE_NOT_REPEATED,
    AttemptState,
    CallKind,
    Done,
    GiveUp,
    RefreshToken,
    RetryAfter,
    RetryDecision,
    RetryPolicy,
    backoff,
    call_kind,
    step,
)

READ, WRITE, TOKEN = CallKind.READ, CallKind.WRITE, CallKind.TOKEN
POLICY = RetryPolicy(max_attempts=3, backoff_base=1.0, backoff_max=8.0, refused_token_hold=60.0)
JITTER = 0.5
WAIT = RetryAfter(0.5)  # jitter 0.5 of backoff 1.0 on the first retry
OUT = GiveUp("gave up after 3 attempts")
HOLD = Done(hold_tokens=60.0)
NO = GiveUp(WRITE_NOT_REPEATED)

# outcome -> {kind: (decision after attempt 1, decision after attempt 3 = the last allowed)}
# For 401 the state is "may refresh, not refreshed yet"; the refreshed case has its own table.
TABLE: list[tuple[Outcome, dict[CallKind, tuple[RetryDecision, RetryDecision]]]] = [
    (Ok(), {READ: (Done(), Done()), WRITE: (Done(), Done()), TOKEN: (Done(), Done())}),
    (Forbidden(), {READ: (Done(), Done()), WRITE: (Done(), Done()), TOKEN: (Done(), Done())}),
    (Failed(404), {READ: (Done(), Done()), WRITE: (Done(), Done()), TOKEN: (Done(), Done())}),
    (Failed(500), {READ: (Done(), Done()), WRITE: (Done(), Done()), TOKEN: (Done(), Done())}),
    (Failed(302), {READ: (Done(), Done()), WRITE: (Done(), Done()), TOKEN: (Done(), Done())}),
    (
        Unauthorized(),
        {
            READ: (RefreshToken(), RefreshToken()),
            WRITE: (RefreshToken(), RefreshToken()),
            TOKEN: (Done(), Done()),
        },
    ),
    (
        Unauthorized(token_problem=False, detail="accessLevelV1Api"),
        {READ: (Done(), Done()), WRITE: (Done(), Done()), TOKEN: (Done(), Done())},
    ),
    (Throttled(None), {READ: (WAIT, OUT), WRITE: (WAIT, OUT), TOKEN: (WAIT, OUT)}),
    (
        Throttled(7.0),
        {
            READ: (RetryAfter(7.0), OUT),
            WRITE: (RetryAfter(7.0), OUT),
            TOKEN: (RetryAfter(7.0), OUT),
        },
    ),
    (Unavailable(503), {READ: (WAIT, OUT), WRITE: (NO, NO), TOKEN: (WAIT, OUT)}),
    (
        Unavailable(200, 2.0),
        {READ: (RetryAfter(2.0), OUT), WRITE: (NO, NO), TOKEN: (RetryAfter(2.0), OUT)},
    ),
] + [
    (
        TransportError(kind),
        {
            READ: (WAIT, OUT) if facts.heals else (Done(), Done()),
            TOKEN: (WAIT, OUT) if facts.heals else (Done(), Done()),
            WRITE: (
                (Done(), Done())
                if not facts.heals
                else (NO, NO)
                if facts.may_have_arrived
                else (WAIT, OUT)
            ),
        },
    )
    for kind, facts in TRANSPORT.items()
]
CASES = [
    pytest.param(outcome, kind, attempt, expected[index], id=f"{outcome}-{kind.value}-{attempt}")
    for outcome, by_kind in TABLE
    for kind, expected in by_kind.items()
    for index, attempt in enumerate((1, 3))
]


def test_the_table_covers_every_outcome_kind_and_transport_failure() -> None:
    kinds = {type(outcome) for outcome, _ in TABLE}
    assert kinds == {Ok, Forbidden, Failed, Unauthorized, Throttled, Unavailable, TransportError}
    assert set(TRANSPORT) == set(TRANSPORT_KINDS)
    assert all(set(by_kind) == set(CallKind) for _, by_kind in TABLE)


@pytest.mark.parametrize(("outcome", "kind", "attempt", "expected"), CASES)
def test_step_table(outcome: Outcome, kind: CallKind, attempt: int, expected: object) -> None:
    before = AttemptState(attempts=attempt - 1)
    after, decision = step(POLICY, before, kind, outcome, JITTER)
    assert decision == expected
    assert after.attempts == attempt
    waited = decision.seconds if isinstance(decision, RetryAfter) else 0.0
    assert after.waited == waited
    assert after.refreshed == isinstance(decision, RefreshToken)


@pytest.mark.parametrize("kind", [READ, WRITE])
@pytest.mark.parametrize(
    ("can_refresh", "refreshed", "expected"),
    [
        (True, False, RefreshToken()),
        (True, True, HOLD),  # a fresh token refused too: hold token requests
        (False, False, Done()),  # no credentials, or a hold already in force
        (False, True, HOLD),
    ],
)
def test_unauthorized_by_refresh_state(
    kind: CallKind, can_refresh: bool, refreshed: bool, expected: object
) -> None:
    state = AttemptState(attempts=1, can_refresh=can_refresh, refreshed=refreshed)
    assert step(POLICY, state, kind, Unauthorized(), 0.0)[1] == expected


def test_the_token_request_never_refreshes_itself() -> None:
    for state in (AttemptState(), AttemptState(refreshed=True), AttemptState(can_refresh=False)):
        assert step(POLICY, state, TOKEN, Unauthorized(), 0.0)[1] == Done()


def test_waits_stop_at_the_time_budget() -> None:
    policy = RetryPolicy(max_total_wait=5.0)
    state = AttemptState(attempts=1, waited=4.0)
    _, decision = step(policy, state, READ, Throttled(2.0), 0.0)
    assert isinstance(decision, GiveUp) and "time budget" in decision.reason
    _, decision = step(policy, state, READ, Throttled(1.0), 0.0)
    assert decision == RetryAfter(1.0)


def test_retry_after_can_be_ignored_by_policy() -> None:
    policy = RetryPolicy(respect_retry_after=False, backoff_base=2.0)
    assert step(policy, AttemptState(), READ, Throttled(99.0), 1.0)[1] == RetryAfter(2.0)


@pytest.mark.parametrize(
    ("method", "path", "declared", "extra", "expected"),
    [
        ("GET", "/ws/v1/student/2", None, {}, READ),
        ("get", "ws/v1/student/2", None, {}, READ),
        ("PUT", "/ws/v1/x", None, {}, READ),
        ("DELETE", "/ws/v1/x", None, {}, READ),
        ("POST", "/ws/v1/student", None, {}, WRITE),
        ("POST", "/ws/schema/query/com.x.y", None, {}, READ),
        ("POST", "ws/schema/query/com.x.y/count", None, {}, READ),
        # only the exact prefix reads: a POST elsewhere that merely contains it is a write
        ("POST", "/Xws/schema/query/com.x.y", None, {}, WRITE),
        ("POST", "/ws/v1/ws/schema/query/com.x.y", None, {}, WRITE),
        ("PATCH", "/ws/v1/x", None, {}, WRITE),
        ("POST", "/ws/v1/student", True, {}, READ),
        ("GET", "/ws/v1/x", False, {}, WRITE),
        ("PUT", "/ws/v1/x", None, {"files": {"f": b""}}, WRITE),
        ("PUT", "/ws/v1/x", True, {"data": __import__("io").BytesIO(b"{}")}, WRITE),
        ("PUT", "/ws/v1/x", None, {"data": b"{}"}, READ),
    ],
)
def test_call_kind(
    method: str, path: str, declared: bool | None, extra: dict[str, object], expected: CallKind
) -> None:
    assert call_kind(method, path, declared, extra) is expected


# -- whole sequences ----------------------------------------------------------------------

outcomes: st.SearchStrategy[Outcome] = st.one_of(
    st.just(Ok()),
    st.builds(Unauthorized, st.booleans()),
    st.just(Forbidden()),
    st.builds(Throttled, st.none() | st.floats(0, 500)),
    st.builds(Unavailable, st.sampled_from([200, 502, 503, 504]), st.none() | st.floats(0, 500)),
    st.builds(Failed, st.sampled_from([301, 400, 404, 405, 500])),
    st.builds(TransportError, st.sampled_from([*TRANSPORT_KINDS, "something-new"])),
)
policies = st.builds(
    RetryPolicy,
    max_attempts=st.integers(1, 8),
    backoff_base=st.floats(0, 5),
    backoff_max=st.floats(0, 60),
    max_total_wait=st.floats(0, 300),
    respect_retry_after=st.booleans(),
    refused_token_hold=st.floats(0, 600),
)


def simulate(
    policy: RetryPolicy,
    kind: CallKind,
    sequence: list[Outcome],
    jitters: list[float],
    start: AttemptState,
) -> tuple[list[RetryDecision], AttemptState]:
    """Drive step through a sequence of outcomes as the shell's loop does."""
    decisions: list[RetryDecision] = []
    state = start
    for index, outcome in enumerate(sequence):
        state, decision = step(policy, state, kind, outcome, jitters[index % len(jitters)])
        decisions.append(decision)
        if not isinstance(decision, RetryAfter | RefreshToken):
            break
    return decisions, state


starts = st.builds(AttemptState, can_refresh=st.booleans())
seqs = st.lists(outcomes, min_size=1, max_size=20)
jitter_lists = st.lists(st.floats(0, 1), min_size=1, max_size=5)


@given(policies, st.sampled_from(CallKind), seqs, jitter_lists, starts)
def test_waits_attempts_and_refreshes_stay_within_bounds(
    policy: RetryPolicy,
    kind: CallKind,
    sequence: list[Outcome],
    jitters: list[float],
    start: AttemptState,
) -> None:
    decisions, state = simulate(policy, kind, sequence, jitters, start)
    retries = [d for d in decisions if isinstance(d, RetryAfter)]
    assert state.waited == pytest.approx(sum(d.seconds for d in retries))
    assert state.waited <= policy.max_total_wait + 1e-9
    assert len(retries) < policy.max_attempts
    assert all(d.seconds >= 0 for d in retries)
    assert state.attempts == len(decisions)
    refreshes = sum(isinstance(d, RefreshToken) for d in decisions)
    assert refreshes <= (1 if start.can_refresh and kind is not TOKEN else 0)


@given(policies, seqs, st.floats(0, 1), starts)
def test_writes_are_repeated_only_when_surely_not_applied(
    policy: RetryPolicy, sequence: list[Outcome], jitter: float, start: AttemptState
) -> None:
    """A write is sent again only after a 429, a 401, or a failure before the request left."""
    decisions, _ = simulate(policy, WRITE, sequence, [jitter], start)
    for outcome, decision in zip(sequence, decisions, strict=False):
        if isinstance(decision, RetryAfter):
            assert isinstance(outcome, Throttled) or (
                isinstance(outcome, TransportError) and not TRANSPORT[outcome.kind].may_have_arrived
            )
        if isinstance(decision, RefreshToken):
            assert isinstance(outcome, Unauthorized)


@given(policies, st.sampled_from(CallKind), outcomes, st.floats(0, 1), st.integers(0, 10), starts)
def test_final_outcomes_never_wait(
    policy: RetryPolicy,
    kind: CallKind,
    outcome: Outcome,
    jitter: float,
    attempts: int,
    start: AttemptState,
) -> None:
    state = AttemptState(attempts=attempts, can_refresh=start.can_refresh)
    _, decision = step(policy, state, kind, outcome, jitter)
    final = isinstance(outcome, Ok | Forbidden | Failed) or (
        isinstance(outcome, TransportError)
        and not TRANSPORT.get(outcome.kind, TRANSPORT["read-timeout"]).heals
    )
    if final:
        assert decision == Done()


@given(policies, st.integers(1, 30), st.floats(0, 1))
def test_backoff_is_full_jitter_within_cap(policy: RetryPolicy, retry: int, jitter: float) -> None:
    wait = backoff(policy, retry, jitter)
    assert 0 <= wait <= min(policy.backoff_max, policy.backoff_base * 2.0 ** (retry - 1)) + 1e-9


def test_no_retry_starts_that_would_pass_the_calls_deadline() -> None:
    state = AttemptState(attempts=1, time_left=3.0)
    _, decision = step(POLICY, state, READ, Throttled(5.0), 0.0)
    assert isinstance(decision, GiveUp) and "deadline" in decision.reason
    assert step(POLICY, state, READ, Throttled(2.0), 0.0)[1] == RetryAfter(2.0)
    past = AttemptState(attempts=1, time_left=-1.0)
    assert isinstance(step(POLICY, past, READ, Throttled(0.0), 0.0)[1], GiveUp)
    assert step(POLICY, past, READ, Ok(), 0.0)[1] == Done()  # a finished call is done


@pytest.mark.parametrize(
    ("retry", "jitter", "expected"),
    [
        (1, 1.0, 1.0),  # base * 2**0
        (2, 1.0, 2.0),  # doubles per retry, from the first
        (3, 1.0, 4.0),
        (4, 0.5, 4.0),  # jitter scales the ceiling (8.0)
        (6, 1.0, 20.0),  # 32.0 capped at backoff_max
        (2, 1.5, 2.0),  # jitter outside [0, 1] is clamped, never stretches the wait
        (2, -0.5, 0.0),
    ],
)
def test_backoff_doubles_from_the_base_and_is_capped(
    retry: int, jitter: float, expected: float
) -> None:
    policy = RetryPolicy(backoff_base=1.0, backoff_max=20.0)
    assert backoff(policy, retry, jitter) == expected


def test_a_wait_that_ends_exactly_at_the_deadline_is_not_started() -> None:
    # Waiting until the deadline leaves no time to send: give up instead.
    at = AttemptState(attempts=1, time_left=5.0)
    assert isinstance(step(POLICY, at, READ, Throttled(5.0), 0.0)[1], GiveUp)
    before = AttemptState(attempts=1, time_left=5.5)
    assert step(POLICY, before, READ, Throttled(5.0), 0.0)[1] == RetryAfter(5.0)
