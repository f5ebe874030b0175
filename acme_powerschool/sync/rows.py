"""What the sync keeps per resource between runs, and how a read becomes rows for dlt.

`Tracker` lives inside a dlt resource: it reads and writes that resource's dlt state (never a
file of ours), so the ids it knows and the cursor it holds are committed in the same load
package as the rows, and a killed run leaves both as they were. It sends no request.
"""

from __future__ import annotations

import datetime
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
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
    """The ids (with a fingerprint of each row) a resource has loaded, and its cursor.

    A full read hands every row through `keep()` (or `changed()` for dict rows); rows equal to
    what was loaded are left out, and `finish_full()` returns the ids that did not come back.
    An incremental read hands only changed rows, and `gone(ids)` for ids the server says are
    gone. The ids and fingerprints are kept in the state as one packed string (`pack_rows`):
    dlt copies, hashes, encodes and compresses its state on every run, and one string costs it
    far less than a mapping of every id.
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
        self.known: dict[str, str] = unpack_rows(state.get("rows"))
        self.seen: dict[str, str] = {}
        self.fingerprinted = True
        """False: rows are kept with UNPRINTED instead of their fingerprint (a full read whose
        later runs read by data version: they load every row the server lists as changed)."""

    def prints(self, count: int, compute: Callable[[], list[str]]) -> list[str]:
        """`compute()`, or UNPRINTED `count` times when this read keeps no fingerprints."""
        return compute() if self.fingerprinted else [UNPRINTED] * count

    @property
    def first_run(self) -> bool:
        return "rows" not in self.state

    def keep(self, idents: Sequence[Any], prints: Sequence[str]) -> list[int]:
        """The positions of the rows of one page that are new or differ from what was loaded
        (`idents[i]` the key of row i, `prints[i]` its fingerprint)."""
        counts, seen, known = self.counts, self.seen, self.known
        if not known and None not in idents:  # a first read: every row is new, unless twice
            texts = [str(ident) for ident in idents]
            if len(set(texts)) == len(texts) and seen.keys().isdisjoint(texts):
                seen.update(zip(texts, prints, strict=True))
                counts.read += len(texts)
                counts.inserted += len(texts)
                self.report.progress(self.resource)
                return list(range(len(texts)))
        out = []
        for position, (ident, fingerprint) in enumerate(zip(idents, prints, strict=True)):
            if ident is None:
                continue
            ident = str(ident)
            counts.read += 1
            if ident in seen:  # listed twice in one read (a staff member of two schools)
                continue
            seen[ident] = fingerprint
            before = known.get(ident)
            if before == fingerprint:
                continue
            if before is None:
                counts.inserted += 1
            else:
                counts.updated += 1
            out.append(position)
        self.report.progress(self.resource)
        return out

    def changed(self, records: Iterable[Any]) -> list[dict[str, Any]]:
        """The dict rows of one page that are new or differ from what was loaded."""
        rows = [record if isinstance(record, dict) else flat_row(record) for record in records]
        prints = [digest(row) for row in rows]
        return [rows[i] for i in self.keep([row.get(self.key) for row in rows], prints)]

    def gone(self, idents: Iterable[Any]) -> list[str]:
        """The ids among `idents` that were loaded: forgotten, to be deleted (or marked)."""
        out = []
        for ident in dict.fromkeys(str(i) for i in idents):
            self.seen.pop(ident, None)
            if self.known.pop(ident, None) is not None:
                self.counts.deleted += 1
                out.append(ident)
        return out

    def finish_full(self) -> list[str]:
        """After a full read: the ids that are gone; the state now holds this read."""
        gone = self.gone([ident for ident in self.known if ident not in self.seen])
        self.state["rows"] = pack_rows(self.seen)
        return gone

    def finish_incremental(self) -> None:
        """After an incremental read: the state holds what was known plus what changed."""
        self.known.update(self.seen)
        self.state["rows"] = pack_rows(self.known)

    def reconcile(self, present: Iterable[Any]) -> list[str]:
        """The loaded ids missing from `present` (a cheap id-only read): gone."""
        alive = {str(i) for i in present}
        return self.gone(
            [ident for ident in self.known if ident not in alive and ident not in self.seen]
        )


PRINT_LENGTH = 12
"""Characters of a fingerprint (`digest`, `batches.fingerprints`: 6 bytes in hex)."""
UNPRINTED = "-" * PRINT_LENGTH
"""Kept for a row read without its fingerprint: equal to no fingerprint, so the row is loaded
again whenever it is read again."""


def pack_rows(rows: Mapping[str, str]) -> str | dict[str, str]:
    """`{id: fingerprint}` as one string, a line per id: the fingerprint, then the id. An id
    with a line break in it keeps the mapping as it is."""
    lines = [f"{fingerprint}{ident}" for ident, fingerprint in rows.items()]
    if any("\n" in ident for ident in rows) or any(
        len(fingerprint) != PRINT_LENGTH for fingerprint in rows.values()
    ):
        return dict(rows)
    return "\n".join(lines)


def unpack_rows(packed: Any) -> dict[str, str]:
    """The `{id: fingerprint}` `pack_rows` packed (a mapping, as older versions kept it, too)."""
    if not packed:
        return {}
    if isinstance(packed, Mapping):
        return dict(packed)
    return {line[PRINT_LENGTH:]: line[:PRINT_LENGTH] for line in str(packed).split("\n")}
