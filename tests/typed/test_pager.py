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

from acme_powerschool.core.call import Call
from acme_powerschool.models import Student
from acme_powerschool.pager import Page, Pager, flatten_record
from acme_powerschool.typed import fetch_list


def students(n: int) -> list[dict[str, Any]]:
    return [{"id": i, "name": {"first_name": f"S{i}"}} for i in range(1, n + 1)]


@settings(max_examples=60, deadline=None)
@given(
    n=st.integers(0, 450),
    max_size=st.integers(1, 120),
    requested=st.none() | st.integers(1, 200),
    prefetch=st.integers(0, 4),
    progress=st.booleans(),
)
def test_a_pager_yields_each_record_once_in_order_with_few_requests(
    n: int, max_size: int, requested: int | None, prefetch: int, progress: bool
) -> None:
    ps = FakeClient(district_route(students(n)), max_page_size=max_size)
    seen: list[tuple[int, int | None]] = []
    pager = ps.students.list(pagesize=requested, prefetch=prefetch)
    if progress:
        pager = pager.with_options(on_page=lambda done, total: seen.append((done, total)))
    ids = [s.id for s in pager]
    assert ids == list(range(1, n + 1))
    size = min(requested or max_size, max_size)
    assert len(ps.paths()) <= math.ceil(n / size) + 1
    assert ps.paths(metadata=True).count("/ws/v1/metadata") == 1
    if progress:
        assert [done for done, _ in seen] == list(range(1, len(seen) + 1))
        assert all(total == math.ceil(n / size) for _, total in seen)


def test_nothing_is_fetched_until_iteration_and_one_page_at_a_time() -> None:
    ps = FakeClient(district_route(students(250)), max_page_size=100)
    pager = ps.students.list()
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

    def fetch(number: int, size: int) -> Page[int]:
        if number == 1:
            release.wait(5)  # page 1 finishes last
        else:
            release.set()
        return Page(list(range((number - 1) * size, min(number * size, 50))))

    pager = Pager(fetch, count_records=lambda: 50, max_page_size=lambda: 10, prefetch=4)
    assert list(pager) == list(range(50))


def test_prefetch_is_bounded() -> None:
    with pytest.raises(ValueError):
        Pager(lambda n, s: Page([]), prefetch=100)


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
