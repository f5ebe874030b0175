"""core/paging.py: the fewest pages that read every record."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acme_powerschool.core.paging import DEFAULT_MAX_PAGE_SIZE, page_size_for, plan_pages


@settings(max_examples=200, deadline=None)
@given(
    count=st.integers(0, 10**7),
    max_size=st.none() | st.integers(-1, 5000),
    requested=st.none() | st.integers(-1, 10_000),
)
def test_a_plan_covers_every_record_with_the_fewest_pages(
    count: int, max_size: int | None, requested: int | None
) -> None:
    plan = plan_pages(count, max_size, requested)
    ceiling = max_size if max_size and max_size > 0 else DEFAULT_MAX_PAGE_SIZE
    assert 1 <= plan.page_size <= ceiling
    if requested and requested > 0:
        assert plan.page_size == min(requested, ceiling)
    assert plan.pages * plan.page_size >= count
    assert (plan.pages - 1) * plan.page_size < count or plan.pages == 0
    assert list(plan.page_numbers()) == list(range(1, plan.pages + 1))


def test_no_records_need_no_pages_and_sizes_are_capped() -> None:
    assert plan_pages(0, 100).pages == 0
    assert page_size_for(100, 500) == 100
    assert page_size_for(None, None) == DEFAULT_MAX_PAGE_SIZE
    with pytest.raises(ValueError):
        plan_pages(-1, 100)
