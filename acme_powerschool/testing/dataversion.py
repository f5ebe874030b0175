"""Data versions (PowerSchool 10.0+): a change log of (table, row id) -> the version it changed at.

Every write the simulator applies (v1 student writes, schema-table POST/PUT/DELETE, the
`Simulator.mutate` test hook) records the rows it touched here and advances the one district-wide
version counter. A *subscription* names an application and the tables it follows; a PowerQuery
sent with `$dataversion` + `$dataversion_applicationname`, and `GET /ws/dataversion/{app}/{v}`,
read this log through it. The log also keeps each row's WHENMODIFIED time.

Sources (see docs/simulator.md): PowerSchool's developer pages ("PowerQueries", Data Version:
both parameters together, the response carries the latest `$dataversion` as a string); the API
explorer's dataversion page (`GET /ws/dataversion/{applicationName}/{dataVersion}`, version >= 0,
400 otherwise); grantholle/powerschool-api's README (a published response:
`{"$dataversion":"16323283","tables":{"userscorefields":[802],"users":[851,769,802,112]}}`).
What a deleted row looks like is not published: `deleted_rows` chooses (inferred).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping

import attrs

# The tables a subscription follows unless told otherwise: the core tables behind the v1
# resources and the schema tables the simulator can write. "users" is the staff table.
DEFAULT_TABLES = (
    "students",
    "schools",
    "users",
    "sections",
    "cc",
    "terms",
    "courses",
    "attendance",
    "u_studentsuserfields",
)
DEFAULT_APPLICATION = "acme_sync"
# The version every seeded row carries: asking "changed since" anything lower returns every row.
SEED_VERSION = 1000
DELETED_ROWS = ("listed", "omitted")


def seeded_when(row_id: int) -> str:
    """The WHENMODIFIED of a row as seeded: a fixed day of the summer before the school year."""
    return f"2025-08-{1 + row_id % 28:02d} 06:00:00"


def timestamp(seconds: float) -> str:
    """A WHENMODIFIED value: `YYYY-MM-DD HH:MM:SS` in UTC (the format is inferred)."""
    return time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(seconds))


def _subscriptions(value: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    return {str(k): tuple(t.lower() for t in v) for k, v in value.items()}


@attrs.frozen
class DataVersionOptions:
    """How data versions behave.

    `subscriptions`: application name -> tables it follows (lower-case table names). `start`: the
    version of the seeded rows (the current version before any write). `deleted_rows`: "listed"
    (default: a deleted row's id is listed under its table by /ws/dataversion, and a PowerQuery
    cannot return it) or "omitted" (a deleted row appears nowhere). Both inferred.
    """

    subscriptions: Mapping[str, tuple[str, ...]] = attrs.field(
        factory=lambda: {DEFAULT_APPLICATION: DEFAULT_TABLES}, converter=_subscriptions
    )
    start: int = SEED_VERSION
    deleted_rows: str = attrs.field(default="listed")

    @deleted_rows.validator
    def _check(self, attribute: attrs.Attribute[str], value: str) -> None:
        if value not in DELETED_ROWS:
            raise ValueError(f"deleted_rows must be one of {DELETED_ROWS}")


class ChangeLog:
    """The district's change log. Thread-safe; cheap for untouched rows (nothing is stored)."""

    def __init__(self, options: DataVersionOptions) -> None:
        if options.start < 1:
            raise ValueError("the data version start must be >= 1")
        self.options = options
        self._lock = threading.Lock()
        self._version = options.start
        self._changed: dict[str, dict[int, int]] = {}  # table -> id -> version of last change
        self._deleted: dict[str, set[int]] = {}
        self._when: dict[tuple[str, int], str] = {}
        self._subscriptions = dict(options.subscriptions)

    @property
    def version(self) -> int:
        with self._lock:
            return self._version

    def subscribe(self, application: str, tables: Iterable[str]) -> None:
        with self._lock:
            self._subscriptions[application] = tuple(t.lower() for t in tables)

    def subscription(self, application: str) -> tuple[str, ...] | None:
        with self._lock:
            return self._subscriptions.get(application)

    def record(self, table: str, row_id: int, when: str, deleted: bool = False) -> int:
        """One row changed (or was deleted) at `when`: the version advances by one."""
        key = table.lower()
        with self._lock:
            self._version += 1
            self._changed.setdefault(key, {})[row_id] = self._version
            gone = self._deleted.setdefault(key, set())
            if deleted:
                gone.add(row_id)
            else:
                gone.discard(row_id)
            self._when[(key, row_id)] = when
            return self._version

    def when(self, table: str, row_id: int) -> str | None:
        """The WHENMODIFIED of a written row, or None for a row as seeded."""
        with self._lock:
            return self._when.get((table.lower(), row_id))

    def changed_since(
        self, table: str, since: int, all_ids: Callable[[], Iterator[int]]
    ) -> list[int]:
        """Ids of `table` that changed after version `since`, in id order. A `since` below the
        seed version means every row (the seeded rows changed at the seed version)."""
        key = table.lower()
        with self._lock:
            changed = dict(self._changed.get(key, {}))
            deleted = set(self._deleted.get(key, set()))
            start = self.options.start
            listed = self.options.deleted_rows == "listed"
        if since < start:
            ids = set(all_ids()) | {i for i, v in changed.items() if v > since}
        else:
            ids = {i for i, v in changed.items() if v > since}
        if not listed:
            ids -= deleted
        # In the order they changed (the published example is not in id order), then by id.
        return sorted(ids, key=lambda i: (changed.get(i, start), i))

    def is_deleted(self, table: str, row_id: int) -> bool:
        with self._lock:
            return row_id in self._deleted.get(table.lower(), set())

    def changed_after(self, table: str, row_id: int, since: int) -> bool:
        """Whether one live row changed after `since` (seeded rows changed at the seed version)."""
        with self._lock:
            version = self._changed.get(table.lower(), {}).get(row_id, self.options.start)
        return version > since
