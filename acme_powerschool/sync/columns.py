"""Column hints for dlt, derived from our generated models: the one place the sync decides how
a model field is typed in the warehouse. It reads type annotations only; it converts no value.

Nested blocks become `parent__child` columns (the names `rows.flat_row` produces); lists and
`Any` fields stay one JSON column. Ids (`int | str`, see `acme_powerschool.types.Id`) are text,
because PowerSchool sends both forms and a code such as "04100000" must keep its zeros.
"""

from __future__ import annotations

import datetime
import types
import typing
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import attrs

__all__ = ["SEPARATOR", "model_columns", "text_columns"]

SEPARATOR = "__"
"""Joins a nested block and its field in a column name (dlt's own separator)."""

Column = dict[str, Any]

_SCALARS: Mapping[Any, str] = {
    bool: "bool",
    int: "bigint",
    float: "double",
    Decimal: "decimal",
    str: "text",
    datetime.datetime: "timestamp",
    datetime.date: "date",
}


def model_columns(model: type[Any], primary_key: str = "id") -> dict[str, Column]:
    """`{column: {"data_type": ..., "nullable": ...}}` for every field of `model`, nested blocks
    flattened; the primary key is not nullable."""
    cached = _CACHE.get((model, primary_key))
    if cached is None:
        cached = {}
        _collect(model, "", cached)
        if primary_key in cached:
            cached[primary_key] = {**cached[primary_key], "nullable": False}
        _CACHE[(model, primary_key)] = cached
    return {name: dict(hint) for name, hint in cached.items()}


_CACHE: dict[tuple[type[Any], str], dict[str, Column]] = {}


def text_columns(names: typing.Iterable[str]) -> dict[str, Column]:
    """Hints for rows that PowerSchool sends as strings (schema tables, PowerQueries)."""
    return {name: {"data_type": "text", "nullable": True} for name in names}


def _collect(model: type[Any], prefix: str, columns: dict[str, Column]) -> None:
    hints = typing.get_type_hints(model)
    for field in attrs.fields(model):
        if field.name == "extra":
            continue
        key = field.metadata.get("key", field.alias or field.name)
        name = f"{prefix}{key}"
        tp = _strip_optional(hints[field.name])
        if isinstance(tp, type) and attrs.has(tp):
            _collect(tp, f"{name}{SEPARATOR}", columns)
            continue
        columns[name] = {"data_type": _data_type(tp), "nullable": True}


def _strip_optional(tp: Any) -> Any:
    args = typing.get_args(tp)
    if _is_union(tp) and type(None) in args:
        rest = tuple(a for a in args if a is not type(None))
        return rest[0] if len(rest) == 1 else typing.Union[rest]  # noqa: UP007
    return tp


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def _data_type(tp: Any) -> str:
    if tp in _SCALARS:
        return _SCALARS[tp]
    origin = typing.get_origin(tp)
    if origin is typing.Literal:
        return "text"
    if _is_union(tp):  # an Id (int | str) or another mix: text keeps every form
        return "text"
    return "json"  # tuples, lists, mappings, Any: one JSON column
