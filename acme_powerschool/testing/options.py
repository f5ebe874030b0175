"""The simulator's options, grouped in a few records instead of twenty constructor parameters.

`Simulator(students=..., seed=...)` and every older keyword (`throttle_ms=`, `xml_quirks=`, ...)
still work: `split_legacy` sorts those keywords into these records. The records are mutable
(`sim.timing.latency_ms = 5` while it runs) and validate every assignment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs

DEFAULT_TOKEN_LIFETIME = 30 * 24 * 3600  # fact sheet §1.6: 30 days
PAGE_SIZE_KINDS = (
    "course",
    "school",
    "schema_table_query",
    "section",
    "section_enrollment",
    "staff",
    "student",
    "term",
)


def _one_of(*allowed: Any) -> Any:
    def check(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
        if value not in allowed:
            choices = " or ".join(repr(a) for a in allowed)
            raise ValueError(f"{attribute.name} must be {choices}")

    return check


def _at_least_one(instance: object, attribute: attrs.Attribute[Any], value: int) -> None:
    if value < 1:
        raise ValueError(f"{attribute.name} must be >= 1")


def _page_sizes(
    instance: object, attribute: attrs.Attribute[Any], value: Mapping[str, int]
) -> None:
    unknown = sorted(set(value) - set(PAGE_SIZE_KINDS))
    if unknown:
        raise ValueError(f"unknown max_page_sizes keys {unknown}: use {PAGE_SIZE_KINDS}")
    if any(size < 1 for size in value.values()):
        raise ValueError("every max_page_sizes value must be >= 1")


@attrs.define(on_setattr=attrs.setters.validate)
class Paging:
    """Max page sizes (`max_page_sizes` per resource, see PAGE_SIZE_KINDS) and what a larger
    `pagesize` gets: "cap" (silently capped) or "error" (400). Both choices are inferred."""

    max_page_size: int = attrs.field(default=100, validator=_at_least_one)
    max_page_sizes: dict[str, int] = attrs.field(
        factory=dict, converter=dict, validator=_page_sizes
    )
    oversize_pagesize: str = attrs.field(default="cap", validator=_one_of("cap", "error"))


@attrs.define(on_setattr=attrs.setters.validate)
class Timing:
    """Added latency, the per-plugin throttle (its status, 429 or 509, is inferred), and how
    long the "slow" fault waits."""

    latency_ms: float = 0.0
    throttle_ms: float = 0.0
    throttle_status: int = attrs.field(default=429, validator=_one_of(429, 509))
    slow_ms: float = 2000.0


@attrs.define(on_setattr=attrs.setters.validate)
class Access:
    """The plugin: its credentials (None: derived from the seed), token lifetime, its
    accessLevelV1Api ("FULL", "READ" or None) and plugin_id."""

    client_id: str | None = None
    client_secret: str | None = attrs.field(default=None, repr=False)
    token_lifetime: float = DEFAULT_TOKEN_LIFETIME
    v1_access: str | None = attrs.field(default="FULL", validator=_one_of("FULL", "READ", None))
    plugin_id: int = 1234


@attrs.define(on_setattr=attrs.setters.validate)
class Behaviour:
    """Wire choices. Defaults follow real servers where a capture shows them; the others are
    inferred and configurable (docs/simulator.md lists the source of each).

    `xml_quirks` (True, as captured): numeric-looking strings without a leading zero are JSON
    numbers in /ws/v1 JSON (school_number, section_number, client_uid, ...); False sends them as
    strings. `require_projection`: a schema-table GET without projection is a 400 (else all
    columns). `schema_write_shape`: "top" or "results" (wrapped). `default_format`: the answer
    without an Accept header. `always_expansions`: send "@expansions" on terms, courses and
    section enrollments too (real ones omit it). `powerquery_envelope`: "captured" (a top-level
    "@extensions", "_name"/"_id" in flattened records, an empty answer without "name" and
    "record") or "plain" (neither). `fee_warning_schools`: an INSERT into these schools answers
    status WARNING with FEES_ASSIGN_FEES_FAILED (the student is inserted).
    """

    xml_quirks: bool = True
    require_projection: bool = True
    schema_write_shape: str = attrs.field(default="top", validator=_one_of("top", "results"))
    default_format: str = attrs.field(default="json", validator=_one_of("json", "xml"))
    always_expansions: bool = False
    powerquery_envelope: str = attrs.field(
        default="captured", validator=_one_of("captured", "plain")
    )
    fee_warning_schools: tuple[int, ...] = attrs.field(default=(700,), converter=tuple)


_RECORDS: dict[str, type] = {"paging": Paging, "timing": Timing, "access": Access}
LEGACY: dict[str, str] = {
    **{f.name: "paging" for f in attrs.fields(Paging)},
    **{f.name: "timing" for f in attrs.fields(Timing)},
    **{f.name: "access" for f in attrs.fields(Access)},
    **{f.name: "behaviour" for f in attrs.fields(Behaviour)},
}


def split_legacy(legacy: Mapping[str, Any], records: Mapping[str, Any]) -> dict[str, Any]:
    """Build each option record from its explicit value (or defaults) overlaid with the older
    flat keywords. Unknown keywords raise TypeError, as a misspelled argument would."""
    unknown = sorted(set(legacy) - set(LEGACY))
    if unknown:
        raise TypeError(f"Simulator() got unexpected keyword arguments {unknown}")
    out: dict[str, Any] = {}
    for name, cls in {**_RECORDS, "behaviour": Behaviour}.items():
        base = records.get(name)
        changes = {k: v for k, v in legacy.items() if LEGACY[k] == name}
        if base is None:
            out[name] = cls(**changes)
        else:
            out[name] = attrs.evolve(base, **changes) if changes else base
    return out
