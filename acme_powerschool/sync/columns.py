"""Column hints for dlt: the types come from `acme_powerschool.frames` (the one place a model's
attrs types become column types, the same as the DataFrames'); this module only names the
columns as the sync's rows do and says which column is the key. It converts no value.

Nested blocks become `parent__child` columns named by the converter's wire keys (the names
`rows.flat_row` produces); lists and free-form fields stay one JSON column; ids (`int | str`)
are text, so a code such as "04100000" keeps its zeros.
"""

from __future__ import annotations

import functools
import typing
from collections.abc import Iterable
from typing import Any

import attrs

from acme_powerschool import frames
from acme_powerschool.convert import wire_key

__all__ = ["SEPARATOR", "model_columns", "model_fields", "text_columns"]

SEPARATOR = "__"
"""Joins a nested block and its field in a column name (dlt's own separator)."""

Column = dict[str, Any]


def model_columns(model: type, primary_key: str = "id") -> dict[str, Column]:
    """`{column: {"data_type": ..., "nullable": ...}}` for every column `frames` gives `model`,
    named by wire keys; every column is nullable (a tombstone keeps only its key) except the
    primary key."""
    cached = _CACHE.get((model, primary_key))
    if cached is None:
        types = frames.column_types(model)
        cached = {
            wire: {"data_type": types[column.name], "nullable": True}
            for wire, column in model_fields(model)
        }
        if primary_key in cached:
            cached[primary_key] = {**cached[primary_key], "nullable": False}
        _CACHE[(model, primary_key)] = cached
    return {name: dict(hint) for name, hint in cached.items()}


_CACHE: dict[tuple[type, str], dict[str, Column]] = {}


@functools.cache
def model_fields(model: type) -> tuple[tuple[str, frames.Column], ...]:
    """Every `frames` column of `model` with its column name (wire keys joined by SEPARATOR)."""
    return tuple((_wire_name(model, column.path), column) for column in frames.columns(model))


def text_columns(names: Iterable[str]) -> dict[str, Column]:
    """Hints for rows that PowerSchool sends as strings (schema tables, PowerQueries)."""
    return {name: {"data_type": "text", "nullable": True} for name in names}


def _wire_name(model: Any, path: tuple[str, ...]) -> str:
    """A frames column's attribute path as the converter's JSON keys (a field's "key" metadata,
    else its alias), joined with SEPARATOR, a dot inside a key too ("students.dcid"): exactly
    `flat_row`'s name for that value."""
    keys = []
    for name in path:
        field = attrs.fields_dict(model)[name]
        keys.append(wire_key(field))
        hint = typing.get_type_hints(model)[name]  # the next step is into the nested block
        model = next((t for t in typing.get_args(hint) if attrs.has(t)), hint)
    return SEPARATOR.join(keys).replace(".", SEPARATOR)
