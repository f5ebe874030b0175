"""Plan the pages of a PowerSchool list: how many requests, of what size. Pure arithmetic.

No I/O and no clock here; the pager in `acme_powerschool.pager` carries the plan out.
"""

from __future__ import annotations

import attrs

__all__ = ["DEFAULT_MAX_PAGE_SIZE", "PagePlan", "page_size_for", "plan_pages"]

DEFAULT_MAX_PAGE_SIZE = 100
"""Used when /ws/v1/metadata does not name a max page size (fact sheet §2.6, §8)."""


def _positive(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be at least 1, not {value}")


def _not_negative(_: object, attribute: attrs.Attribute[int], value: int) -> None:
    if value < 0:
        raise ValueError(f"{attribute.name} must not be negative, not {value}")


@attrs.frozen
class PagePlan:
    """Fetch pages 1..pages of page_size records each to read count records."""

    count: int = attrs.field(validator=_not_negative)
    page_size: int = attrs.field(validator=_positive)
    pages: int = attrs.field(validator=_not_negative)

    def page_numbers(self) -> range:
        return range(1, self.pages + 1)


def page_size_for(max_page_size: int | None, requested: int | None) -> int:
    """The page size to ask for: the request, capped by the server's max (PowerSchool refuses or
    silently caps larger pages); the max when nothing was requested."""
    ceiling = max_page_size if max_page_size and max_page_size > 0 else DEFAULT_MAX_PAGE_SIZE
    if requested is None or requested <= 0:
        return ceiling
    return min(requested, ceiling)


def plan_pages(count: int, max_page_size: int | None, requested: int | None = None) -> PagePlan:
    """The fewest requests that read `count` records: ceil(count / page size) pages."""
    if count < 0:
        raise ValueError(f"count must not be negative, not {count}")
    size = page_size_for(max_page_size, requested)
    return PagePlan(count=count, page_size=size, pages=-(-count // size))
