"""Pager[T]: a lazy, re-iterable list of PowerSchool records, fetched a page at a time.

It knows nothing of HTTP: it calls the `fetch_page(page, size)` it was given. Page arithmetic
lives in core/paging.py; pandas and polars are imported only by to_pandas() / to_polars().
"""

from __future__ import annotations

import collections
import contextlib
import itertools
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from acme_powerschool.core.paging import page_size_for, plan_pages

if TYPE_CHECKING:
    import os

    import pandas
    import polars
    import pyarrow

__all__ = ["OnCount", "OnPage", "Page", "Pager", "flatten_record"]

T = TypeVar("T")
U = TypeVar("U")

OnPage = Callable[[int, "int | None"], None]
"""Progress hook: called after each page with (pages done, pages planned or None if unknown)."""

OnCount = Callable[[int], None]
"""Total hook: called once per iteration with the record total, when the pager learns it."""

MAX_PREFETCH = 16
"""Upper bound on pages fetched ahead, so a typo cannot open a hundred connections."""


@attrs.frozen
class Page(Generic[T]):
    """One fetched page; `count` is the total record count when the page itself carries it."""

    items: Sequence[T]
    count: int | None = None


def _max_page_size_unknown() -> int | None:
    return None


def _check_prefetch(_: object, __: object, value: int) -> None:
    if not 0 <= value <= MAX_PREFETCH:
        raise ValueError(f"prefetch must be between 0 and {MAX_PREFETCH}, not {value}")


@attrs.frozen
class Pager(Generic[T]):
    """Records of one list request, fetched only while you iterate.

    Iterating holds one page (plus up to `prefetch` pages in flight), so a district of any size
    can be streamed. Each iteration starts again from page 1. With a known total (a count
    endpoint, asked for only when `prefetch`, `on_page` or `on_count` needs it, or a count
    carried by the first page) it plans ceil(total / page size) pages and fetches them ahead;
    the total is only a plan, never a limit: when the last planned page comes back full (the
    count was low, as PowerSchool's district counts are when they leave a school out, or
    records were added meanwhile) it keeps reading one page at a time. Reading always stops at
    the first short page.
    """

    fetch_page: Callable[[int, int], Page[T]]
    count_records: Callable[[], int] | None = None
    max_page_size: Callable[[], int | None] = _max_page_size_unknown
    pagesize: int | None = None
    prefetch: int = attrs.field(default=0, validator=_check_prefetch)
    on_page: OnPage | None = None
    first_page_counts: bool = False
    """True when page 1 itself carries the total (PowerQuery `count=true`): no count request."""
    on_count: OnCount | None = None
    """Called with the record total as soon as the pager learns it (count or first page)."""

    def with_options(
        self,
        *,
        pagesize: int | None = None,
        prefetch: int | None = None,
        on_page: OnPage | None = None,
        on_count: OnCount | None = None,
    ) -> Pager[T]:
        """A copy with other paging options (the records are the same)."""
        changes: dict[str, Any] = {}
        if pagesize is not None:
            changes["pagesize"] = pagesize
        if prefetch is not None:
            changes["prefetch"] = prefetch
        if on_page is not None:
            changes["on_page"] = on_page
        if on_count is not None:
            changes["on_count"] = on_count
        return attrs.evolve(self, **changes)

    # -- reading --------------------------------------------------------------------------

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page

    def iter_pages(self) -> Iterator[Sequence[T]]:
        """The records page by page, in order; every page but the last is full."""
        size = page_size_for(self.max_page_size(), self.pagesize)
        planned: int | None = None
        done = 0
        wants_total = self.prefetch > 0 or self.on_page is not None or self.on_count is not None
        if self.count_records is not None and wants_total and not self.first_page_counts:
            planned = self._learn_total(self.count_records(), size)
        else:
            page = self.fetch_page(1, size)
            if page.count is not None:
                planned = self._learn_total(page.count, size)
            done = 1
            self._report(done, planned)
            yield page.items
            if len(page.items) < size:
                return
        if planned is not None and planned > done:
            with contextlib.closing(self._planned(range(done + 1, planned + 1), size)) as pages:
                for items in pages:
                    done += 1
                    self._report(done, planned)
                    yield items
                    if len(items) < size:
                        return  # the count was high: pages still in flight are dropped
        # Past the plan (or without one), and the last page read was full: the total was low
        # or unknown, so read on one page at a time until a short page says the list ended.
        while True:
            items = self.fetch_page(done + 1, size).items
            if not items:
                return
            done += 1
            self._report(done, planned if planned is not None and done <= planned else None)
            yield items
            if len(items) < size:
                return

    def _learn_total(self, total: int, size: int) -> int:
        """Tell `on_count` the record total; the pages it plans."""
        if self.on_count is not None:
            self.on_count(total)
        return plan_pages(max(total, 0), size).pages

    def _planned(self, numbers: range, size: int) -> Generator[Sequence[T], None, None]:
        """Pages `numbers` in order, with at most `prefetch` of them asked for ahead of the one
        the caller holds. The caller stops early (at a short page) by closing the iterator,
        which cancels what was not started."""
        if self.prefetch == 0 or len(numbers) <= 1:
            for number in numbers:
                yield self.fetch_page(number, size).items
            return
        pending: collections.deque[Future[Page[T]]] = collections.deque()
        upcoming = iter(numbers)
        with ThreadPoolExecutor(max_workers=self.prefetch, thread_name_prefix="ps-pager") as pool:
            try:
                for number in itertools.islice(upcoming, self.prefetch):
                    pending.append(pool.submit(self.fetch_page, number, size))
                while pending:
                    items = pending.popleft().result().items
                    # The page handed over leaves the window: one more may enter it, so
                    # `prefetch` pages are in flight while the caller holds this one.
                    next_number = next(upcoming, None)
                    if next_number is not None:
                        pending.append(pool.submit(self.fetch_page, next_number, size))
                    yield items
            finally:
                for future in pending:
                    future.cancel()

    def _report(self, done: int, total: int | None) -> None:
        if self.on_page is not None:
            self.on_page(done, total)

    # -- conveniences ---------------------------------------------------------------------

    def count(self) -> int:
        """How many records there are: the count endpoint when there is one, else by reading."""
        if self.count_records is not None:
            return self.count_records()
        return sum(len(page) for page in self.iter_pages())

    def first(self) -> T | None:
        """The first record, or None when there is none (reads one page)."""
        for record in self:
            return record
        return None

    def to_list(self) -> list[T]:
        """Every record in one list (holds them all: prefer iterating for big districts)."""
        return list(self)

    def map(self, function: Callable[[T], U]) -> Pager[U]:
        """A pager whose records are function(record), page by page."""
        fetch = self.fetch_page

        def fetch_mapped(number: int, size: int) -> Page[U]:
            page = fetch(number, size)
            return Page([function(item) for item in page.items], page.count)

        return Pager(
            fetch_mapped,
            count_records=self.count_records,
            max_page_size=self.max_page_size,
            pagesize=self.pagesize,
            prefetch=self.prefetch,
            on_page=self.on_page,
            first_page_counts=self.first_page_counts,
            on_count=self.on_count,
        )

    def to_records(self) -> Iterator[dict[str, Any]]:
        """Each record as one flat dict of typed values (`name.first_name` keys; dates as dates),
        keyed like the DataFrame's columns (acme_powerschool.frames)."""
        from acme_powerschool.frames import to_records

        return to_records(self)

    def to_arrow(self) -> pyarrow.Table:
        """Every record as an Arrow table whose schema comes from the model's types."""
        from acme_powerschool.frames import to_arrow

        return to_arrow(self)

    def to_parquet(self, path: str | os.PathLike[str]) -> int:
        """Stream every record into a Parquet file, page by page (memory flat in N); returns
        the number of rows. The file appears only once it is complete."""
        from acme_powerschool.frames import to_parquet

        return to_parquet(self, path)

    def to_pandas(self) -> pandas.DataFrame:
        """A pandas DataFrame of every record, typed columns (nullable ints, dates, booleans)."""
        from acme_powerschool.frames import to_pandas

        return to_pandas(self)

    def to_polars(self) -> polars.DataFrame:
        """A polars DataFrame of every record, with the same schema as to_pandas()."""
        from acme_powerschool.frames import to_polars

        return to_polars(self)


def flatten_record(record: Any) -> dict[str, Any]:
    """A model or mapping as one level of `parent.child` keys; lists stay values."""
    if attrs.has(type(record)):
        from acme_powerschool.convert import default_converter

        record = default_converter().unstructure(record)
    if not isinstance(record, Mapping):
        return {"value": record}
    flat: dict[str, Any] = {}
    _flatten_into(flat, "", record)
    return flat


def _flatten_into(flat: dict[str, Any], prefix: str, mapping: Mapping[str, Any]) -> None:
    for key, value in mapping.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            _flatten_into(flat, f"{name}.", value)
        else:
            flat[name] = value
