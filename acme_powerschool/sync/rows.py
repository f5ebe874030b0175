"""What the sync keeps per resource between runs, and how a read becomes rows for dlt.

`Tracker` lives inside a dlt resource: it reads and writes that resource's dlt state (never a
file of ours), so the ids it knows and the cursor it holds are committed in the same load
package as the rows, and a killed run leaves both as they were. It sends no request.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Iterable, Mapping
from typing import Any

import attrs

from acme_powerschool.pager import flatten_record
from acme_powerschool.sync.columns import SEPARATOR

__all__ = [
    "DELETED_AT_COLUMN",
    "DELETED_COLUMN",
    "ResourceCounts",
    "SyncReport",
    "Tracker",
    "flat_row",
]

DELETED_COLUMN = "_ps_deleted"
"""The `hard_delete` column: a row carrying True is deleted from the warehouse."""
DELETED_AT_COLUMN = "_ps_deleted_at"
"""With deletes="mark": when the sync saw the row gone (the row keeps only its key)."""


def flat_row(record: Any) -> dict[str, Any]:
    """A model, table row or PowerQuery row as one level of `parent__child` columns."""
    return {key.replace(".", SEPARATOR): value for key, value in flatten_record(record).items()}


def digest(row: Mapping[str, Any]) -> str:
    """A short fingerprint of a row: equal rows, equal digests (48 bits)."""
    text = json.dumps(row, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


@attrs.define
class ResourceCounts:
    """What one resource did in one run."""

    method: str = ""
    read: int = 0
    inserted: int = 0
    updated: int = 0
    deleted: int = 0


@attrs.define
class SyncReport:
    """Counts per resource, filled while dlt extracts; `on_progress(resource, rows_read)` is
    called after every page."""

    resources: dict[str, ResourceCounts] = attrs.field(factory=dict)
    on_progress: Any = None

    def counts(self, resource: str) -> ResourceCounts:
        return self.resources.setdefault(resource, ResourceCounts())

    def progress(self, resource: str) -> None:
        if self.on_progress is not None:
            self.on_progress(resource, self.counts(resource).read)


class Tracker:
    """The ids (with a digest of each row) a resource has loaded, and its cursor.

    A full read hands every row through `changed()`; rows equal to what was loaded are left out,
    and `finish_full()` returns tombstones for the ids that did not come back. An incremental
    read hands only changed rows, and `tombstones(ids)` for ids the server says are gone.
    """

    def __init__(
        self,
        state: dict[str, Any],
        resource: str,
        report: SyncReport,
        *,
        key: str,
        deletes: str,
        now: datetime.datetime,
    ) -> None:
        self.state = state
        self.resource = resource
        self.report = report
        self.counts = report.counts(resource)
        self.key = key
        self.deletes = deletes
        self.now = now
        self.known: dict[str, str] = dict(state.get("rows", {}))
        self.seen: dict[str, str] = {}

    @property
    def first_run(self) -> bool:
        return "rows" not in self.state

    def changed(self, records: Iterable[Any]) -> list[dict[str, Any]]:
        """The rows of one page that are new or differ from what was loaded."""
        out = []
        for record in records:
            row = record if isinstance(record, dict) else flat_row(record)
            ident = row.get(self.key)
            if ident is None:
                continue
            ident = str(ident)
            self.counts.read += 1
            if ident in self.seen:  # listed twice in one read (a staff member of two schools)
                continue
            fingerprint = digest(row)
            self.seen[ident] = fingerprint
            before = self.known.get(ident)
            if before == fingerprint:
                continue
            if before is None:
                self.counts.inserted += 1
            else:
                self.counts.updated += 1
            out.append(row)
        self.report.progress(self.resource)
        return out

    def tombstone(self, ident: str) -> dict[str, Any]:
        if self.deletes == "mark":
            return {self.key: ident, DELETED_AT_COLUMN: self.now}
        return {self.key: ident, DELETED_COLUMN: True}

    def tombstones(self, idents: Iterable[str]) -> list[dict[str, Any]]:
        """Rows that delete (or mark) these ids; ids never loaded are left out."""
        out = []
        for ident in dict.fromkeys(str(i) for i in idents):
            self.seen.pop(ident, None)
            if self.known.pop(ident, None) is not None:
                self.counts.deleted += 1
                out.append(self.tombstone(ident))
        return out

    def finish_full(self) -> list[dict[str, Any]]:
        """After a full read: tombstones for what is gone; the state now holds this read."""
        gone = [ident for ident in self.known if ident not in self.seen]
        tombs = self.tombstones(gone)
        self.state["rows"] = dict(self.seen)
        return tombs

    def finish_incremental(self) -> None:
        """After an incremental read: the state holds what was known plus what changed."""
        self.known.update(self.seen)
        self.state["rows"] = dict(self.known)

    def reconcile(self, present: Iterable[Any]) -> list[dict[str, Any]]:
        """Tombstones for loaded ids missing from `present` (a cheap id-only read)."""
        alive = {str(i) for i in present}
        gone = [ident for ident in self.known if ident not in alive and ident not in self.seen]
        return self.tombstones(gone)
