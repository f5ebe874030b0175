"""The `q` filter language of /ws/v1 and /ws/schema/table: parsing and matching.

Written from the fact sheet (§3.5): `==`, `!=`, `=gt=`, `=ge=`, `=lt=`, `=le=`, clauses joined
by `;` (AND), `*` wildcards, value lists `==(A,P)`. It knows no resource: callers look up fields.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

import attrs

_CLAUSE = re.compile(r"^\s*([A-Za-z_][A-Za-z0-9_.]*)\s*(==|!=|=gt=|=ge=|=lt=|=le=)(.*)$")
_NUMBER = re.compile(r"-?[0-9]+(\.[0-9]+)?")


class QError(ValueError):
    """A malformed filter: the server answers 400 with this message."""


@attrs.frozen
class Clause:
    field: str
    op: str
    values: tuple[str, ...]


def parse_q(q: str) -> list[Clause]:
    clauses = []
    for part in q.split(";"):
        if not part.strip():
            continue
        m = _CLAUSE.match(part)
        if m is None:
            raise QError(f"Invalid query expression: {part}")
        field, op, raw = m.group(1), m.group(2), m.group(3).strip()
        if raw.startswith("(") and raw.endswith(")"):
            if op not in ("==", "!="):
                raise QError(f"Invalid query expression: {part}")
            values = tuple(v.strip() for v in raw[1:-1].split(","))
        else:
            values = (raw,)
        clauses.append(Clause(field, op, values))
    return clauses


def is_number(value: str) -> bool:
    return bool(_NUMBER.fullmatch(value.strip()))


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _wild(pattern: str) -> re.Pattern[str]:
    return re.compile(
        "^" + ".*".join(re.escape(p) for p in pattern.split("*")) + "$", re.IGNORECASE
    )


def _equal(actual: str, wanted: str) -> bool:
    if "*" in wanted:
        return bool(_wild(wanted).match(actual))
    if is_number(actual) and is_number(wanted):
        return float(actual) == float(wanted)
    return actual.lower() == wanted.lower()


def matches(clause: Clause, value: Any) -> bool:
    actual = _as_text(value)
    if clause.op == "==":
        return any(_equal(actual, w) for w in clause.values)
    if clause.op == "!=":
        return not any(_equal(actual, w) for w in clause.values)
    wanted = clause.values[0]
    left: Any
    right: Any
    if is_number(actual) and is_number(wanted):
        left, right = float(actual), float(wanted)
    else:
        left, right = actual.lower(), wanted.lower()
    if clause.op == "=gt=":
        return bool(left > right)
    if clause.op == "=ge=":
        return bool(left >= right)
    if clause.op == "=lt=":
        return bool(left < right)
    return bool(left <= right)


def matches_all(clauses: Sequence[Clause], values: Sequence[Any]) -> bool:
    return all(matches(c, v) for c, v in zip(clauses, values, strict=True))
