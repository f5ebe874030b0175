"""Pager: lazy, in order, each record once, and no more than ceil(N / max page size) + 1 requests
(the metadata request is made once per client and is not counted)."""

from __future__ import annotations

import math
import threading
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typed_fakes import FakeClient, district_route

import acme_powerschool
from acme_powerschool.core.call import Call
from acme_powerschool.models import Student
from acme_powerschool.pager import MAX_PREFETCH, Page, Pager, flatten_record
from acme_powerschool.runtime import fetch_list
from acme_powerschool.testing import Simulator


def students(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "name": {"first_name": f"S{i}", "last_name": "L"}} for i in range(1, n + 1)]


@settings(max_examples=80, deadline=None)
@given(
    n=st.integers(0, 450),
    max_size=st.integers(1, 120),
    requested=st.none() | st.integers(1, 200),
    prefetch=st.none() | st.integers(0, 4),
    progress=st.booleans(),
)
def test_a_pager_yields_each_record_once_in_order_with_few_requests(
    n: int, max_size: int, requested: int | None, prefetch: int | None, progress: bool
) -> None:
    ps = FakeClient(district_route(students(n), max_page_size=max_size), max_page_size=max_size)
    seen: list[tuple[int, int | None]] = []
    pager = ps.students.list(pagesize=requested, prefetch=prefetch)
    if progress:
        pager = pager.with_options(on_page=lambda done, total: seen.append((done, total)))
    ids = [s.id for s in pager]
    assert ids == list(range(1, n + 1))
    size = min(requested or max_size, max_size)
    pages = [path for path in ps.paths() if not path.endswith("/count")]
    counts = len(ps.paths()) - len(pages)
    assert counts == (1 if prefetch != 0 or progress else 0)
    # Page requests: what a reader that stops at the first short page needs, never more, but
    # for page 1 asked without a size (the server answers at its max): when the count says it
    # holds everything it is the only page; without a count, a page 2 tells.
    expected = n // size + 1
    if requested is None and counts and n == size:
        expected = 1
    if requested is None and not counts and 0 < n < size:
        expected = 2
    assert len(pages) == expected
    # One request beyond ceil(N / max page size): the count, or the check page (both only
    # when the last page came back full and a count was asked for).
    extra = len(ps.paths()) - max(1, math.ceil(n / size))
    assert extra <= (2 if counts and n % size == 0 and n > 0 else 1)
    # The max page size comes from page 1, never from a metadata request; only a requested
    # size is checked against the server's max.
    assert ps.paths(metadata=True).count("/ws/v1/metadata") == (1 if requested else 0)
    if progress:
        assert [done for done, _ in seen] == list(range(1, len(seen) + 1))
        assert all(total in (math.ceil(n / size), None) for _, total in seen)


@pytest.mark.parametrize("prefetch", [None, *range(MAX_PREFETCH + 1)])
@settings(max_examples=25, deadline=None)
@given(
    n=st.integers(0, 60),
    size=st.integers(1, 12),
    error=st.integers(-70, 70),
    progress=st.booleans(),
    first_page_counts=st.booleans(),
)
def test_a_wrong_count_never_drops_or_repeats_a_record(
    prefetch: int | None, n: int, size: int, error: int, progress: bool, first_page_counts: bool
) -> None:
    """The count is a plan, not a limit: lower than the list (a school the count leaves out,
    records added while reading) or higher (records deleted), every record comes once, in order."""
    records = list(range(n))
    count = max(0, n + error)
    lock = threading.Lock()
    asked: list[int] = []
    counted: list[int] = []
    totals: list[int] = []
    seen: list[tuple[int, int | None]] = []

    def fetch(number: int, page_size: int | None) -> Page[int]:
        assert page_size == size
        with lock:
            asked.append(number)
        carried = count if first_page_counts and number == 1 else None
        return Page(records[(number - 1) * size : number * size], carried)

    def count_records() -> int:
        counted.append(count)
        return count

    pager = Pager(
        fetch,
        count_records=count_records,
        max_page_size=lambda: size,
        pagesize=size,
        prefetch=prefetch,
        first_page_counts=first_page_counts,
        on_count=totals.append,
    )
    if progress:
        pager = pager.with_options(on_page=lambda done, total: seen.append((done, total)))
    assert list(pager) == records
    assert sorted(asked) == sorted(set(asked)), "a page was asked for twice"
    assert len(counted) == (0 if first_page_counts else 1)
    assert totals == [count]
    ahead = MAX_PREFETCH if prefetch is None else prefetch
    if count <= n:
        assert sorted(asked) == list(range(1, n // size + 2))
    else:  # pages past the end may already be in flight when the short page arrives
        assert len(asked) <= n // size + 1 + ahead
    if progress:
        assert [done for done, _ in seen] == list(range(1, len(seen) + 1))
        # One report per page read; an empty last page may or may not be among them.
        assert len(seen) in (math.ceil(n / size), n // size + 1)


def test_nothing_is_fetched_until_iteration_and_sequential_reads_one_page_at_a_time() -> None:
    ps = FakeClient(district_route(students(250)), max_page_size=100)
    pager = ps.students.list(prefetch=0)
    assert ps.calls == []
    iterator = iter(pager)
    next(iterator)
    assert ps.paths() == ["/ws/v1/district/student"]
    for _ in range(99):
        next(iterator)
    assert len(ps.paths()) == 1
    next(iterator)
    assert len(ps.paths()) == 2


def test_a_single_record_page_is_a_list_of_one() -> None:
    ps = FakeClient(district_route(students(1)))
    assert [s.id for s in ps.students.list()] == [1]


def test_count_uses_the_count_endpoint_and_pages_carry_the_query() -> None:
    ps = FakeClient(district_route(students(7)), max_page_size=3)
    assert ps.students.list(q="name.last_name==A*").count() == 7
    ps.students.list(q="name.last_name==A*", expansions=["demographics"]).to_list()
    page_call = ps.calls[-1]
    assert page_call.params is not None
    assert page_call.params["q"] == "name.last_name==A*"
    assert page_call.params["expansions"] == "demographics"
    count_call = ps.calls[0]
    assert count_call.path.endswith("/count") and count_call.params == {"q": "name.last_name==A*"}


def test_prefetch_keeps_order_when_pages_finish_out_of_order() -> None:
    release = threading.Event()

    def fetch(number: int, size: int | None) -> Page[int]:
        if number == 1:
            # Page 1 finishes last; page 2 can only release it when the two run at once.
            assert release.wait(10), "page 2 never ran while page 1 was in flight"
        else:
            release.set()
        return Page(list(range((number - 1) * size, min(number * size, 50))))

    pager = Pager(fetch, count_records=lambda: 50, pagesize=10, prefetch=4)
    assert list(pager) == list(range(50))


def test_prefetch_must_be_between_0_and_16() -> None:
    with pytest.raises(ValueError):
        Pager(lambda n, s: Page([]), prefetch=MAX_PREFETCH + 1)
    with pytest.raises(ValueError):
        Pager(lambda n, s: Page([]), prefetch=-1)


@pytest.mark.parametrize("prefetch", [1, 2, 3, 4, 8, MAX_PREFETCH])
def test_prefetch_runs_at_most_prefetch_pages_ahead_and_really_concurrently(
    prefetch: int,
) -> None:
    pages, size = 40, 3
    total = pages * size - 1  # the last page is short: no page past the plan
    cond = threading.Condition()
    started: list[int] = []
    in_flight = peak = 0
    # The first window (pages 1..prefetch) must be in flight all at once to pass this barrier:
    # a pager that fetched them one by one would break it and fail.
    first_window = threading.Barrier(prefetch)

    def fetch(number: int, page_size: int | None) -> Page[int]:
        assert page_size == size
        nonlocal in_flight, peak
        with cond:
            started.append(number)
            in_flight += 1
            peak = max(peak, in_flight)
            cond.notify_all()
        try:
            if number <= prefetch and prefetch > 1:
                first_window.wait(10)
            return Page(list(range((number - 1) * page_size, min(number * page_size, total))))
        finally:
            with cond:
                in_flight -= 1
                cond.notify_all()

    pager = Pager(fetch, count_records=lambda: total, pagesize=size, prefetch=prefetch)
    read: list[int] = []
    for consumed, page in enumerate(pager.iter_pages(), start=1):
        read.extend(page)
        with cond:
            # While the caller holds page `consumed`, the pager has asked for the pages up to
            # consumed + prefetch (they start) and for none beyond.
            window = min(consumed + prefetch, pages)
            assert cond.wait_for(lambda: len(started) >= window, timeout=10)  # noqa: B023
            assert max(started) <= consumed + prefetch, (consumed, sorted(started))
    assert read == list(range(total))
    assert sorted(started) == list(range(1, pages + 1))
    assert peak <= prefetch
    if prefetch >= 2:
        assert peak == prefetch  # the first window really ran concurrently


def test_on_count_reports_the_total_without_an_extra_request() -> None:
    ps = FakeClient(district_route(students(7)), max_page_size=3)
    totals: list[int] = []
    assert len(ps.students.list().with_options(on_count=totals.append).to_list()) == 7
    assert totals == [7]
    assert ps.paths().count("/ws/v1/district/student/count") == 1
    totals.clear()
    sequential = ps.students.list(prefetch=0).with_options(on_count=totals.append)
    assert len(sequential.to_list()) == 7 and totals == [7]
    mapped = Pager(
        lambda n, s: Page([n] if n == 1 else [], 1),
        first_page_counts=True,
        count_records=lambda: pytest.fail("the first page carries the count"),
        on_count=totals.append,
    ).map(str)
    assert mapped.to_list() == ["1"] and totals == [7, 1]


def test_to_pandas_and_flat_records() -> None:
    ps = FakeClient(district_route(students(3)))
    frame = ps.students.list().to_pandas()
    assert list(frame["id"]) == [1, 2, 3]
    assert list(frame["name.first_name"]) == ["S1", "S2", "S3"]
    assert flatten_record({"a": {"b": 1}, "c": [1]}) == {"a.b": 1, "c": [1]}


def test_to_polars_needs_polars() -> None:
    pytest.importorskip("polars")
    ps = FakeClient(district_route(students(3)))
    assert ps.students.list().to_polars().height == 3


def test_map_and_first() -> None:
    ps = FakeClient(district_route(students(5)), max_page_size=2)
    pager = fetch_list(
        ps,
        Call("GET", "/ws/v1/district/student"),
        Student,
        plural="students",
        singular="student",
        count_path=None,
        max_page_size="student_max_page_size",
    )
    assert pager.map(lambda s: s.id).to_list() == [1, 2, 3, 4, 5]
    assert pager.count() == 5  # no count endpoint: counted by reading
    first = pager.first()
    assert first is not None and first.id == 1


# -- the window, over real HTTP against the simulator -------------------------------------------


def _client(sim: Simulator) -> acme_powerschool.api:
    return acme_powerschool.api(
        sim.base_url, client_id=sim.client_id, client_secret=sim.client_secret
    )


def test_chained_listings_read_as_one_stream_with_no_metadata_request() -> None:
    with Simulator(students=700, schools=4, seed=3, max_page_size=40) as sim:
        sim.latency_ms = 2
        ps = _client(sim)
        nested = [
            s.id
            for school in ps.schools.list(prefetch=0)
            for s in ps.students.for_school(school.id, prefetch=0)
        ]
        sim.stats.reset()
        chained = ps.schools.list().flat_map(lambda school: ps.students.for_school(school.id))
        assert [s.id for s in chained] == nested and len(nested) == 700
        routes = sim.stats.by_route
        assert not any("metadata" in route for route in routes)
        sizes = [len(school.students) for school in sim.district.schools]
        # per school: its count and ceil(N / 40) pages, plus a check page only after a full
        # last page; the schools list: one page (its count says it holds them all) and a count
        pages = sum(math.ceil(n / 40) + (n % 40 == 0) for n in sizes)
        assert sim.stats.requests == len(sizes) + pages + 2
        window = ps._window
        assert window is not None and 2 <= window.peak <= window.policy.ceiling


def test_a_sequential_pager_stays_outside_the_window() -> None:
    with Simulator(students=120, seed=3, max_page_size=25) as sim:
        ps = _client(sim)
        assert len(ps.students.list(prefetch=0).to_list()) == 120
        assert ps._window is not None and ps._window.peak == 0


@pytest.mark.parametrize("status", [429, 509])
def test_a_throttling_server_never_makes_the_default_pager_give_up(status: int) -> None:
    """The simulator answers `status` with Retry-After to requests less than 40 ms apart: the
    window collapses on the first, waits the Retry-After, then learns the pace; every record
    arrives, in order, and nothing raises RateLimited."""
    with Simulator(students=200, seed=5, max_page_size=25, throttle_status=status) as sim:
        ps = _client(sim)
        ps._obtain_access_token()
        sim.throttle_ms = 40
        sim.stats.reset()
        ids = [s.id for s in ps.students.list()]
        assert ids == list(range(1, 201))
        assert sim.stats.statuses.get(status, 0) >= 1  # it was throttled, and read on
        window = ps._window
        assert window is not None and window.state.limit == 1.0


def test_a_callers_session_gets_the_window_unless_it_has_adapters_of_its_own() -> None:
    import requests
    from requests.adapters import HTTPAdapter

    from acme_powerschool.shell.window import WindowAdapter

    plain = requests.Session()
    ps = acme_powerschool.api("http://127.0.0.1:9", access_token="t", session=plain)
    assert ps._window is not None
    assert isinstance(plain.get_adapter("https://x"), WindowAdapter)
    assert plain.get_adapter("https://x").poolmanager.connection_pool_kw["maxsize"] >= 16

    class Mine(HTTPAdapter):
        pass

    custom = requests.Session()
    custom.mount("https://", Mine())
    ps = acme_powerschool.api("http://127.0.0.1:9", access_token="t", session=custom)
    assert ps._window is None and isinstance(custom.get_adapter("https://x"), Mine)
