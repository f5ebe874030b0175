"""Pager[T]: a lazy, re-iterable list of PowerSchool records, fetched a page at a time.

It knows nothing of HTTP: it calls the `fetch_page(page, size)` it was given (`size` None: the
server's default page size, which PowerSchool makes its maximum). Page arithmetic lives in
core/paging.py, the window's policy in core/window.py; pandas and polars are imported only by
to_pandas() / to_polars().

How a listing is read (`prefetch` None, the default, or N > 0): the count request (when there is
one) and page 1 go out together; page 1 without a page size comes back at the server's maximum,
which is then the page size; the remaining pages, and the check page after a full last page,
are asked for ahead on worker threads, at most `prefetch` (default MAX_PREFETCH) ahead of the
page the caller holds. How many are really on the wire at once is the client's adaptive window's
decision (shell/window.py), shared by every pager and thread of the client. `chain()` reads
several listings as one stream, so the window never drains between them. `prefetch=0` reads one
page at a time, outside the window.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import math
from collections.abc import Callable, Generator, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import attrs

from acme_powerschool.core.paging import page_size_for

if TYPE_CHECKING:
    import os

    import pandas
    import polars
    import pyarrow

__all__ = ["MAX_PREFETCH", "Chain", "OnCount", "OnPage", "Page", "Pager", "chain", "flatten_record"]

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


def _check_prefetch(_: object, __: object, value: int | None) -> None:
    if value is not None and not 0 <= value <= MAX_PREFETCH:
        raise ValueError(f"prefetch must be between 0 and {MAX_PREFETCH}, not {value}")


class _Records(Generic[T]):
    """What every stream of records offers: lists, first, flat records and data frames."""

    def __iter__(self) -> Iterator[T]:
        raise NotImplementedError

    def first(self) -> T | None:
        """The first record, or None when there is none (reads one page)."""
        for record in self:
            return record
        return None

    def to_list(self) -> list[T]:
        """Every record in one list (holds them all: prefer iterating for big districts)."""
        return list(self)

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
        """Stream every record into a Parquet file, batch by batch (memory flat in N); returns
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


@attrs.frozen
class Pager(_Records[T]):
    """Records of one list request, fetched only while you iterate.

    Iterating holds the page you are reading plus at most `prefetch` pages ahead, so a district
    of any size can be streamed. Each iteration starts again from page 1. The total (a count
    endpoint asked together with page 1, or a count carried by page 1) is only a plan, never a
    limit: when the last planned page comes back full (the count was low, as PowerSchool's
    district counts are when they leave a school out, or records were added meanwhile) the
    check page after it tells, and reading goes on one page at a time. Reading always stops at
    the first short page.

    `prefetch`: None (the default) reads ahead through the client's adaptive window; N caps
    the pages ahead at N; 0 reads one page at a time (and asks for a count only when `on_page`
    or `on_count` needs the total).
    """

    fetch_page: Callable[[int, int | None], Page[T]]
    count_records: Callable[[], int] | None = None
    max_page_size: Callable[[], int | None] = _max_page_size_unknown
    """The server's max page size when known without a request; None: page 1 tells."""
    pagesize: int | None = None
    prefetch: int | None = attrs.field(default=None, validator=_check_prefetch)
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
        return _pages_of([self], self.prefetch)

    def _page_size(self) -> int | None:
        """The size asked for, capped at the server's max; None lets page 1 say (no metadata
        request: a page asked for without a size comes back at the server's maximum)."""
        if self.pagesize is None or self.pagesize <= 0:
            return None
        return page_size_for(self.max_page_size(), self.pagesize)

    # -- conveniences ---------------------------------------------------------------------

    def count(self) -> int:
        """How many records there are: the count endpoint when there is one, else by reading."""
        if self.count_records is not None:
            return self.count_records()
        return sum(len(page) for page in self.iter_pages())

    def map(self, function: Callable[[T], U]) -> Pager[U]:
        """A pager whose records are function(record), page by page."""
        fetch = self.fetch_page

        def fetch_mapped(number: int, size: int | None) -> Page[U]:
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

    def flat_map(
        self, listing: Callable[[T], Pager[U]], *, prefetch: int | None = None
    ) -> Chain[U]:
        """The records of `listing(record)` for each record, read as one stream:
        `ps.schools.list().flat_map(lambda school: ps.students.for_school(school.id))`."""
        return Chain(lambda: (listing(record) for record in self), prefetch)


@attrs.frozen
class Chain(_Records[T]):
    """Several listings read as one stream through one window: the next listing's count and
    first page are on their way while the last pages of the one before are still arriving."""

    listings: Callable[[], Iterable[Pager[T]]]
    prefetch: int | None = attrs.field(default=None, validator=_check_prefetch)

    def __iter__(self) -> Iterator[T]:
        for page in self.iter_pages():
            yield from page

    def iter_pages(self) -> Iterator[Sequence[T]]:
        """The records page by page, listing after listing, in order."""
        return _pages_of(self.listings(), self.prefetch)


def chain(listings: Iterable[Pager[T]], *, prefetch: int | None = None) -> Chain[T]:
    """`listings` (pagers) read one after the other as one stream (re-iterable if `listings`
    is a list or tuple)."""
    kept = listings if isinstance(listings, list | tuple) else None
    once = iter(listings)
    return Chain(lambda: kept if kept is not None else once, prefetch)


# -- the reader -------------------------------------------------------------------------------


@attrs.define
class _Listing(Generic[T]):
    """One listing being read: what is known so far."""

    pager: Pager[T]
    size: int | None
    total: int | None = None
    planned: int | None = None
    done: int = 0
    ended: bool = False

    def learn_total(self, total: int) -> None:
        self.total = total
        if self.pager.on_count is not None:
            self.pager.on_count(total)

    def report(self) -> None:
        if self.pager.on_page is not None:
            planned = self.planned if self.planned is not None else None
            self.pager.on_page(self.done, planned if planned and self.done <= planned else None)


@attrs.frozen
class _Entry(Generic[T]):
    """A page asked for: which listing, which page, at what size, and its answer to come."""

    listing: _Listing[T]
    number: int
    size: int | None
    future: Future[Page[T]]


Submit = Callable[[Callable[[], Any]], "Future[Any]"]


def _pages_of(pagers: Iterable[Pager[T]], prefetch: int | None) -> Iterator[Sequence[T]]:
    ahead = MAX_PREFETCH if prefetch is None else prefetch
    if ahead == 0:
        return _read(pagers, _inline, ahead=1, concurrent=False)
    return _read_concurrently(pagers, ahead)


def _inline(work: Callable[[], Any]) -> Future[Any]:
    """Run `work` now; its result (or error) as a finished future."""
    future: Future[Any] = Future()
    try:
        future.set_result(work())
    except BaseException as exc:  # handed to whoever reads the future, as a pool would
        future.set_exception(exc)
    return future


def _read_concurrently(pagers: Iterable[Pager[T]], ahead: int) -> Iterator[Sequence[T]]:
    from acme_powerschool.shell.window import windowed  # loaded with the first read ahead

    pool = ThreadPoolExecutor(max_workers=ahead, thread_name_prefix="ps-pager")

    def in_window(work: Callable[[], Any]) -> Any:
        with windowed():
            return work()

    try:
        yield from _read(pagers, lambda work: pool.submit(in_window, work), ahead, True)
    finally:
        # Pages still on their way when the caller stops are not waited for.
        pool.shutdown(wait=False, cancel_futures=True)


def _read(
    pagers: Iterable[Pager[T]], submit: Submit, ahead: int, concurrent: bool
) -> Generator[Sequence[T], None, None]:
    """Pages of every listing in order, keeping up to `ahead` of them asked for."""
    entries = _entries(pagers, submit, concurrent)
    pending: collections.deque[_Entry[T]] = collections.deque()
    with contextlib.closing(entries):
        while True:
            _fill(pending, entries, ahead)
            if not pending:
                return
            entry = pending.popleft()
            listing = entry.listing
            if listing.ended:
                entry.future.cancel()
                continue
            items = entry.future.result().items
            if entry.size is not None and len(items) < entry.size:
                listing.ended = True  # a short page: the list ends here
            if concurrent:  # while the caller holds this page, `ahead` more are on their way
                _fill(pending, entries, ahead)
            if items or entry.number == 1:
                listing.done += 1
                listing.report()
                yield items


def _fill(pending: collections.deque[_Entry[T]], entries: Iterator[_Entry[T]], ahead: int) -> None:
    while len(pending) < ahead:
        entry = next(entries, None)
        if entry is None:
            return
        pending.append(entry)


def _entries(
    pagers: Iterable[Pager[T]], submit: Submit, concurrent: bool
) -> Generator[_Entry[T], None, None]:
    for pager in pagers:
        yield from _plan(pager, submit, concurrent)


def _plan(pager: Pager[T], submit: Submit, concurrent: bool) -> Generator[_Entry[T], None, None]:
    """The pages of one listing to ask for, in order, each asked for as it is yielded."""
    listing = _Listing(pager, pager._page_size())
    wants_total = concurrent or pager.on_page is not None or pager.on_count is not None
    count: Future[int] | None = None
    if pager.count_records is not None and wants_total and not pager.first_page_counts:
        count = submit(pager.count_records)  # together with page 1, not before it
    entry = _ask(listing, submit, 1)
    yield entry
    got: int | None = None
    if count is not None and listing.size is not None:
        total: int | None = count.result()  # the plan needs only the count
    else:
        page = entry.future.result()
        got = len(page.items)
        total = count.result() if count is not None else page.count
    if total is not None:
        listing.learn_total(total)
    last = _after_first(listing, got, total)
    if last is None:
        return
    for number in range(2, last + 1):
        if listing.ended:
            return
        entry = _ask(listing, submit, number)
        yield entry
    # Past the plan: while the last page asked for comes back full, ask for the next one.
    while not listing.ended and len(entry.future.result().items) >= (listing.size or 0):
        entry = _ask(listing, submit, entry.number + 1)
        yield entry


def _ask(listing: _Listing[T], submit: Submit, number: int) -> _Entry[T]:
    size = listing.size if number > 1 or listing.size is not None else None
    work = functools.partial(listing.pager.fetch_page, number, size)
    return _Entry(listing, number, size, submit(work))


def _after_first(listing: _Listing[T], got: int | None, total: int | None) -> int | None:
    """The last page to ask for ahead (check page included), or None when page 1 is the whole
    list. `got` is page 1's length when it was waited for. Learns the page size when it was
    left to the server."""
    if listing.size is None:
        assert got is not None
        if got == 0 or total == got:
            return None  # page 1 holds every counted record (or there are none)
        listing.size = got  # the server's maximum: page 1 was full, or the count is low
    elif got is not None and got < listing.size:
        return None
    if total is None or total <= listing.size:
        return 1  # nothing to plan: read on while pages come back full
    pages = math.ceil(total / listing.size)
    listing.planned = pages
    # A full last page cannot tell whether the count was low: its check page rides along.
    return pages + 1 if total % listing.size == 0 else pages


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
