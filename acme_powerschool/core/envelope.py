"""Unwrap PowerSchool's JSON envelopes into plain records. Pure: JSON values in, values out.

Every envelope quirk of the fact sheet is answered here once (§3.2, §4.3-4.5, §5.4-5.7, §6.5);
a body of the wrong shape raises ResponseFormatError. No I/O and no model knowledge here.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs

from acme_powerschool.core.errors import ResponseFormatError

__all__ = [
    "QueryPage",
    "one_or_many",
    "unwrap_count",
    "unwrap_list",
    "unwrap_one",
    "unwrap_query",
    "unwrap_write",
]

Record = Mapping[str, Any]


def one_or_many(value: Any) -> list[Any]:
    """A JSON value that should be a list: a bare value is a list of one (PowerSchool's
    single-record quirk) and null or "" is an empty list."""
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return value
    return [value]


def _records(value: Any, where: str) -> list[Record]:
    records = one_or_many(value)
    for record in records:
        if type(record) is not dict and not isinstance(record, Mapping):  # dict: skip the ABC
            raise ResponseFormatError(f"{where}: expected objects, got {type(record).__name__}")
    return records


def _object(body: Any, key: str) -> Mapping[str, Any]:
    if not isinstance(body, Mapping):
        raise ResponseFormatError(f"expected a JSON object with {key!r}, got {_kind(body)}")
    value = body.get(key)
    if not isinstance(value, Mapping):
        raise ResponseFormatError(f"expected {key!r} to hold an object, got {_kind(value)}")
    return value


def _kind(value: Any) -> str:
    return "nothing" if value is None else type(value).__name__


def unwrap_one(body: Any, singular: str) -> Record:
    """`{"student": {...}}` -> the student object."""
    return _object(body, singular)


def unwrap_list(body: Any, plural: str, singular: str) -> list[Record]:
    """`{"students": {"@expansions": ..., "student": [...] | {...}}}` -> the student objects.

    A missing singular key (or `"students": ""`) means zero records, a bare object one record.
    """
    if isinstance(body, Mapping) and body.get(plural) in ("", None) and plural in body:
        return []
    inner = _object(body, plural)
    return _records(inner.get(singular), f"{plural}.{singular}")


def unwrap_count(body: Any) -> int:
    """`{"resource": {"count": N}}` (v1) or `{"count": N}` (schema tables, PowerQueries) -> N."""
    if isinstance(body, Mapping) and isinstance(body.get("resource"), Mapping):
        body = body["resource"]
    if not isinstance(body, Mapping) or "count" not in body:
        raise ResponseFormatError(f"expected a count, got {_kind(body)}")
    return _count_value(body["count"])


def _count_value(raw: Any) -> int:
    if isinstance(raw, bool):
        raise ResponseFormatError(f"count is not a number: {raw!r}")
    try:
        count = int(raw)
    except (TypeError, ValueError):
        raise ResponseFormatError(f"count is not a number: {raw!r}") from None
    if count < 0 or (count != raw and str(count) != str(raw).strip()):
        raise ResponseFormatError(f"count is not a whole number of records: {raw!r}")
    return count


@attrs.frozen
class QueryPage:
    """One page of a PowerQuery or schema-table answer: `count` only when PowerSchool sent it."""

    name: str | None
    records: Sequence[Record]
    count: int | None = None


def unwrap_query(body: Any) -> QueryPage:
    """`{"name": ..., "record": [...] | {...}, "count"?: N}` -> QueryPage; no `record` = none."""
    if not isinstance(body, Mapping):
        raise ResponseFormatError(f"expected a JSON object with 'record', got {_kind(body)}")
    name = body.get("name")
    count = _count_value(body["count"]) if "count" in body else None
    return QueryPage(
        name=name if isinstance(name, str) else None,
        records=_records(body.get("record"), "record"),
        count=count,
    )


def unwrap_write(body: Any) -> Record:
    """A write answer, wrapped in `results` (v1 students, §6.5) or not (schema tables, §4.12).

    The `result` list inside keeps its single-object quirk; the converter owns that one.
    """
    if isinstance(body, Mapping) and isinstance(body.get("results"), Mapping):
        results: Record = body["results"]
        return results
    if isinstance(body, Mapping):
        return body
    raise ResponseFormatError(f"expected a JSON object, got {_kind(body)}")
