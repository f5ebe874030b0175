"""Hypothesis strategies for every generated model, built from the models' own field types, and
the quirk rewriter that turns a clean body into what PowerSchool may really send. Not a test
module."""

from __future__ import annotations

import collections.abc
import datetime
import importlib
import pkgutil
import types
import typing
from decimal import Decimal
from typing import Any

import attrs
from hypothesis import strategies as st

import acme_powerschool.models

EXTRA_KEYS = ("zz_future_field", "newer_powerschool")


def all_models() -> list[type[Any]]:
    found = []
    for info in pkgutil.iter_modules(acme_powerschool.models.__path__):
        module = importlib.import_module(f"acme_powerschool.models.{info.name}")
        for value in vars(module).values():
            if attrs.has(value) and value.__module__ == module.__name__:
                attrs.resolve_types(value)
                found.append(value)
    return sorted(found, key=lambda cls: cls.__name__)


def _not_canonical_int(text: str) -> bool:
    return not (text.isascii() and text.isdigit() and (text == "0" or text[0] != "0"))


_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=8)
_SCALARS: dict[Any, st.SearchStrategy[Any]] = {
    str: _TEXT | st.sampled_from(["3001", "02127", "0.00", "TestID"]),
    int: st.integers(-(2**40), 2**40),
    bool: st.booleans(),
    float: st.floats(allow_nan=False, allow_infinity=False),
    Decimal: st.decimals(
        allow_nan=False, allow_infinity=False, places=2, max_value=10**9, min_value=-(10**9)
    ),
    datetime.date: st.dates(),
    typing.Any: st.none() | _TEXT | st.integers(0, 100),
}


def _args(tp: Any) -> tuple[Any, ...]:
    return typing.get_args(tp)


def _is_union(tp: Any) -> bool:
    return typing.get_origin(tp) in (typing.Union, types.UnionType)


def strategy_for(tp: Any, depth: int = 0) -> st.SearchStrategy[Any]:
    if _is_union(tp):
        options = set(_args(tp))
        if type(None) in options:
            rest = [a for a in _args(tp) if a is not type(None)]
            inner: Any = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007
            return st.none() | strategy_for(inner, depth)
        if options == {int, str}:
            return st.integers(0, 10**9) | _TEXT.filter(_not_canonical_int)
    origin = typing.get_origin(tp)
    if origin is tuple:
        return st.lists(strategy_for(_args(tp)[0], depth + 1), max_size=3 if depth < 3 else 0).map(
            tuple
        )
    if origin in (dict, collections.abc.Mapping):
        return st.dictionaries(_TEXT, _TEXT, max_size=2)
    if attrs.has(tp):
        return model_strategy(tp, depth + 1)
    if origin is typing.Literal:
        return st.sampled_from(_args(tp))
    return _SCALARS[tp]


def model_strategy(cls: type[Any], depth: int = 0) -> st.SearchStrategy[Any]:
    known = {f.metadata.get("key", f.name) for f in attrs.fields(cls)}
    fields: dict[str, st.SearchStrategy[Any]] = {}
    for field in attrs.fields(cls):
        if field.name == "extra":
            keys = [k for k in EXTRA_KEYS if k not in known]
            fields["extra"] = st.dictionaries(st.sampled_from(keys), _TEXT, max_size=2)
        elif depth > 3 and field.default is None:
            fields[field.name] = st.none()
        else:
            fields[field.name] = strategy_for(field.type, depth)
    return st.builds(cls, **fields)


# -- quirks ---------------------------------------------------------------------------------


def quirk(value: Any, tp: Any, draw: Any) -> Any:
    """A JSON value PowerSchool might send for `value` (already unstructured) of type `tp`."""
    if _is_union(tp) and type(None) in _args(tp):
        if value is None:
            return draw(st.sampled_from([None, "", "<absent>"]))
        rest = [a for a in _args(tp) if a is not type(None)]
        tp = rest[0] if len(rest) == 1 else typing.Union[tuple(rest)]  # noqa: UP007
    if value is None:
        return None
    if _is_union(tp) and set(_args(tp)) == {int, str}:
        if isinstance(value, int) and draw(st.booleans()):
            return str(value)  # numbers as strings
        return value
    origin = typing.get_origin(tp)
    if origin is tuple:
        items = [quirk(item, _args(tp)[0], draw) for item in value]
        if len(items) == 1 and draw(st.booleans()):
            return items[0]  # the single-record quirk
        if not items and draw(st.booleans()):
            return ""
        return items
    if attrs.has(tp):
        out: dict[str, Any] = {}
        by_key = {f.metadata.get("key", f.name): f for f in attrs.fields(tp) if f.name != "extra"}
        for key, item in value.items():
            field = by_key.get(key)
            out[key] = item if field is None else quirk(item, field.type, draw)
        for key, field in by_key.items():
            if key not in out and field.default is None:
                choice = draw(st.sampled_from(["<absent>", "", None]))
                if choice != "<absent>":
                    out[key] = choice  # an empty expansion: "" (or null)
        out = {k: v for k, v in out.items() if v != "<absent>"}
        if draw(st.booleans()):
            out["@expansions"] = "demographics, addresses"
        return out
    if tp is str and isinstance(value, str) and not _not_canonical_int(value):
        return int(value) if draw(st.booleans()) else value  # XML->JSON: numeric strings
    if tp is int and draw(st.booleans()):
        return str(value)
    if tp is bool and draw(st.booleans()):
        return "true" if value else "false"
    return value
