"""The one cattrs converter that turns PowerSchool JSON into models and back: every JSON quirk of
the fact sheet is handled here and nowhere else. No I/O; no hooks on cattrs' global converter.

Quirks answered (fact sheet §3.2, §3.3, §4.3, §5.5):
- a list that arrives as one bare object, at any depth, is a list of one; `""` or null is empty;
- an empty expansion arrives as `""`: for an optional field `""` means None;
- numbers arrive as strings and strings as numbers: `str`, `int`, `float`, `bool`, `Decimal` and
  `date` fields accept either; `Id` (int | str) normalises plain decimal strings to int;
- fields a model does not know are kept in its `extra` mapping (strict converters raise instead);
  envelope keys starting with `@` (`@expansions`, `@extensions`) are dropped.

Speed: each generated model module has a STRUCTURE table of functions codegen wrote, which
build a regular record without a hook call per field (nested models by their own generated
function, instances without __init__); they hand every value that is not already regular back
to the hooks here (`_Fields`), and every record with unknown or missing keys, or on which they
raise, to the general loop here, so the results and errors are the same either way (a
hypothesis test compares them).
"""

from __future__ import annotations

import collections.abc
import datetime
import functools
import operator
import sys
import types
import typing
from collections.abc import Callable, Mapping
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar

import attrs
import cattrs

from acme_powerschool.core.ids import normalise_id

__all__ = [
    "UnknownFieldError",
    "blank_as_none",
    "configure_converter",
    "default_converter",
    "flat_query_record",
    "grouped_query_record",
    "make_converter",
    "normalise_id",
    "table_values",
    "to_table_value",
    "wire_key",
]


def wire_key(field: attrs.Attribute[Any]) -> str:
    """The JSON key of a model field: its "key" metadata (`_extension_data`, `students.dcid`),
    else its alias, else its name. The one rule the converter, the CLI's CSV columns and the
    sync's column names share."""
    key: str = field.metadata.get("key", field.alias or field.name)
    return key


T = TypeVar("T")
Hook = Callable[[Any, Any], Any]

_TRUE = frozenset({"true", "1", "yes", "y", "t"})
_FALSE = frozenset({"false", "0", "no", "n", "f"})


class UnknownFieldError(ValueError):
    """A strict converter met a field the model does not declare."""


def make_converter(*, strict: bool = False, generated: bool = True) -> cattrs.Converter:
    """A new converter with every PowerSchool hook; strict ones raise on unknown fields.
    `generated=False` ignores the models' generated structure functions (same results, slower:
    for tests and benchmarks)."""
    converter = cattrs.Converter()
    configure_converter(converter, strict=strict, generated=generated)
    return converter


@functools.cache
def default_converter() -> cattrs.Converter:
    """The lenient converter the typed helpers share (created on first use)."""
    return make_converter()


def configure_converter(
    converter: cattrs.Converter, *, strict: bool = False, generated: bool = True
) -> None:
    """Register the PowerSchool hooks on `converter` (later registrations win in cattrs).

    A structure hook you register afterwards for a model applies where that model is
    structured on its own; inside another model, the generated function of the outer model
    builds it directly. To have your hook used for nested models too, configure with
    `generated=False`.
    """
    converter.register_structure_hook(str, _structure_str)
    converter.register_structure_hook(int, _structure_int)
    converter.register_structure_hook(float, _structure_float)
    converter.register_structure_hook(bool, _structure_bool)
    converter.register_structure_hook(Decimal, _structure_decimal)
    converter.register_structure_hook(datetime.date, _structure_date)
    converter.register_unstructure_hook(datetime.date, datetime.date.isoformat)
    converter.register_unstructure_hook(Decimal, str)
    converter.register_structure_hook_func(_is_mapping, _structure_mapping)
    converter.register_structure_hook_factory(_is_sequence, _sequence_factory(converter))
    converter.register_structure_hook_func(_is_id, _structure_id)
    converter.register_structure_hook_factory(_is_optional, _optional_factory(converter))
    converter.register_structure_hook_factory(
        attrs.has, _model_factory(converter, strict, generated)
    )
    converter.register_unstructure_hook_factory(attrs.has, _model_unstructure_factory(converter))
    converter.register_unstructure_hook_func(
        _is_list_or_tuple, lambda items: [converter.unstructure(item) for item in items]
    )


# -- scalars --------------------------------------------------------------------------------


def _structure_str(value: Any, _: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float | Decimal):
        return str(value)
    raise TypeError(f"expected a string, got {type(value).__name__}")


def _structure_int(value: Any, _: Any) -> int:
    if isinstance(value, bool):
        raise TypeError("expected a whole number, got a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    raise TypeError(f"expected a whole number, got {value!r}")


def _structure_float(value: Any, _: Any) -> float:
    if isinstance(value, int | float | str) and not isinstance(value, bool):
        return float(value)
    raise TypeError(f"expected a number, got {value!r}")


def _structure_bool(value: Any, _: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise ValueError(f"expected true or false, got {value!r}")


def _structure_decimal(value: Any, _: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise TypeError(f"expected a decimal number, got {value!r}")
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(f"expected a decimal number, got {value!r}") from None


def _structure_date(value: Any, _: Any) -> datetime.date:
    if type(value) is str and len(value) == 10:
        return datetime.date.fromisoformat(value)
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    if isinstance(value, str):
        return datetime.date.fromisoformat(value.strip()[:10])
    raise TypeError(f"expected a YYYY-MM-DD date, got {value!r}")


def _structure_id(value: Any, _: Any) -> int | str:
    return value if type(value) is int else normalise_id(value)


def _is_id(tp: Any) -> bool:
    return _union_args(tp) == frozenset({int, str})


# -- containers -----------------------------------------------------------------------------


def _union_args(tp: Any) -> frozenset[Any] | None:
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        return frozenset(typing.get_args(tp))
    return None


def _is_optional(tp: Any) -> bool:
    args = _union_args(tp)
    return args is not None and type(None) in args


def _optional_factory(converter: cattrs.Converter) -> Callable[[Any], Hook]:
    def factory(tp: Any) -> Hook:
        rest = [arg for arg in typing.get_args(tp) if arg is not type(None)]
        inner = functools.reduce(operator.or_, rest)
        inner_hook = converter.get_structure_hook(inner)

        # Fast paths for the two commonest optional fields; same results as the general hook.
        if inner is str:

            def structure_optional_str(value: Any, _: Any) -> Any:
                if type(value) is str:
                    return value or None
                return None if value is None else _structure_str(value, str)

            return structure_optional_str
        if _is_id(inner):

            def structure_optional_id(value: Any, _: Any) -> Any:
                if type(value) is int:
                    return value
                return None if value is None or value == "" else normalise_id(value)

            return structure_optional_id

        def structure_optional(value: Any, _: Any) -> Any:
            if value is None or (type(value) is str and value == ""):
                return None
            return inner_hook(value, inner)

        return structure_optional

    return factory


def _is_sequence(tp: Any) -> bool:
    origin = typing.get_origin(tp)
    if origin is tuple:
        args = typing.get_args(tp)
        return len(args) == 2 and args[1] is Ellipsis
    return origin in (list, collections.abc.Sequence)


def _sequence_factory(converter: cattrs.Converter) -> Callable[[Any], Hook]:
    def factory(tp: Any) -> Hook:
        element = typing.get_args(tp)[0]
        element_hook = converter.get_structure_hook(element)
        as_list = typing.get_origin(tp) is list

        def structure_sequence(value: Any, _: Any) -> Any:
            if value is None or (isinstance(value, str) and value == ""):
                items: Any = ()
            elif isinstance(value, list | tuple):
                items = value
            else:
                items = (value,)  # the single-record quirk: one bare object
            result = [element_hook(item, element) for item in items]
            return result if as_list else tuple(result)

        return structure_sequence

    return factory


def _is_list_or_tuple(tp: Any) -> bool:
    return tp is list or tp is tuple or typing.get_origin(tp) in (list, tuple)


def _is_mapping(tp: Any) -> bool:
    return tp in (dict, Mapping) or typing.get_origin(tp) in (dict, collections.abc.Mapping)


def _structure_mapping(value: Any, _: Any) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    raise TypeError(f"expected an object, got {type(value).__name__}")


# -- models ---------------------------------------------------------------------------------


FieldPlans = dict[str, tuple[str, Hook, Any]]
"""JSON key -> (attribute name, the converter's hook, the attribute's type)."""

Fast = Callable[[Mapping[str, Any], "_Fields"], Any]
"""A model's generated structure function: a regular record in, the instance out (or None)."""


class _Fields:
    """The hook of every model field of one converter, by model and JSON key. The generated
    structure functions call it (`field(cls, key, raw)`) for each value that is not already
    regular, nested models' functions included, so this converter decides every quirk."""

    def __init__(self, converter: cattrs.Converter) -> None:
        self._converter = converter
        self._plans: dict[Any, tuple[FieldPlans, bool]] = {}

    def plans(self, cls: Any) -> tuple[FieldPlans, bool]:
        """The hook of every field of `cls` by JSON key, and whether the model keeps unknown
        ones in `extra` (computed once per model)."""
        found = self._plans.get(cls)
        if found is None:
            attrs.resolve_types(cls)
            by_key: FieldPlans = {}
            keeps_extra = False
            for field in attrs.fields(cls):
                if field.name == "extra":
                    keeps_extra = True
                    continue
                hook = self._converter.get_structure_hook(field.type)
                by_key[wire_key(field)] = (field.name, hook, field.type)
            found = self._plans[cls] = (by_key, keeps_extra)
        return found

    def __call__(self, cls: Any, key: str, raw: Any) -> Any:
        """One field through this converter's hook; errors name the model and the key."""
        _, hook, field_type = self.plans(cls)[0][key]
        try:
            return hook(raw, field_type)
        except UnknownFieldError:
            raise
        except Exception as exc:
            raise ValueError(f"{cls.__name__}.{key}: {exc}") from exc


def _generated_structure(cls: Any) -> Fast | None:
    """The structure function codegen wrote for `cls` (its module's STRUCTURE table), if any.
    It takes regular records only and hands every irregular value back to this converter."""
    table = getattr(sys.modules.get(cls.__module__), "STRUCTURE", None)
    return table.get(cls) if isinstance(table, dict) else None


@attrs.frozen
class _ModelHook:
    """The structure hook of one model: its generated function first (which hands irregular
    values back to `fields`), the general loop for irregular records and for every error."""

    cls: Any
    fields: _Fields
    by_key: FieldPlans
    keeps_extra: bool
    strict: bool
    fast: Fast | None

    def __call__(self, value: Any, _: Any) -> Any:
        if type(value) is not dict and not isinstance(value, Mapping):
            raise TypeError(f"{self.cls.__name__}: expected an object, got {type(value).__name__}")
        if self.fast is not None:
            try:
                record = self.fast(value, self.fields)
            except Exception:  # the general loop below makes the error, with its message
                record = None
            if record is not None:
                return record
        return self.general(value)

    def general(self, value: Mapping[Any, Any]) -> Any:
        kwargs: dict[str, Any] = {}
        extra: dict[str, Any] = {}
        for key, raw in value.items():
            plan = self.by_key.get(key)
            if plan is not None:
                kwargs[plan[0]] = self.fields(self.cls, key, raw)
            elif isinstance(key, str) and not key.startswith("@"):
                if self.strict:
                    raise UnknownFieldError(f"{self.cls.__name__}: unknown field {key!r}")
                extra[key] = raw
        if extra and self.keeps_extra:
            kwargs["extra"] = extra
        try:
            return self.cls(**kwargs)
        except TypeError as exc:
            raise ValueError(f"{self.cls.__name__}: {exc}") from exc


def _model_factory(
    converter: cattrs.Converter, strict: bool, generated: bool
) -> Callable[[Any], Hook]:
    fields = _Fields(converter)

    def factory(cls: Any) -> Hook:
        by_key, keeps_extra = fields.plans(cls)
        fast = _generated_structure(cls) if generated else None
        return _ModelHook(cls, fields, by_key, keeps_extra, strict, fast)

    return factory


def _model_unstructure_factory(
    converter: cattrs.Converter,
) -> Callable[[Any], Callable[[Any], Any]]:
    def factory(cls: Any) -> Callable[[Any], Any]:
        fields = [(f.name, wire_key(f)) for f in attrs.fields(cls) if f.name != "extra"]
        keeps_extra = any(f.name == "extra" for f in attrs.fields(cls))

        def unstructure_model(obj: Any) -> dict[str, Any]:
            out: dict[str, Any] = dict(obj.extra) if keeps_extra else {}
            for name, key in fields:
                value = getattr(obj, name)
                if value is not None:
                    out[key] = converter.unstructure(value)
            return out

        return unstructure_model

    return factory


# -- untyped records: PowerQueries and schema tables ----------------------------------------


def blank_as_none(values: Mapping[str, Any]) -> dict[str, Any]:
    """A flat record with PowerSchool's `""` for null turned into None."""
    return {key: (None if value == "" else value) for key, value in values.items()}


def flat_query_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """One PowerQuery record as `{"table.column": value}`, whichever shape it came in.

    Grouped records (`{"id":..,"name":..,"tables":{"students":{"dcid":"1"}}}`) become
    `{"students.dcid": "1"}`; flattened ones keep their keys. `""` becomes None.
    """
    tables = record.get("tables")
    if not isinstance(tables, Mapping):
        return blank_as_none({k: v for k, v in record.items() if not str(k).startswith("@")})
    flat: dict[str, Any] = {}
    for table, columns in tables.items():
        for column in one_or_many_mappings(columns):
            for key, value in column.items():
                flat[f"{table}.{key}"] = None if value == "" else value
    return flat


def grouped_query_record(record: Mapping[str, Any]) -> dict[str, Any]:
    """One PowerQuery record as `{"table": {"column": value}}` (flattened ones stay flat)."""
    tables = record.get("tables")
    if not isinstance(tables, Mapping):
        return flat_query_record(record)
    return {
        str(table): blank_as_none(columns) if isinstance(columns, Mapping) else columns
        for table, columns in tables.items()
    }


def one_or_many_mappings(value: Any) -> list[Mapping[str, Any]]:
    items = value if isinstance(value, list) else [value]
    return [item for item in items if isinstance(item, Mapping)]


def table_values(record: Mapping[str, Any], table: str) -> dict[str, Any]:
    """The column values of one schema-table row (`{"id":N,"tables":{"t":{...}}}`), `""` as None.

    The key under `tables` is the table name in lower case (fact sheet §4.3); when it differs,
    the only entry is taken.
    """
    tables = record.get("tables")
    if not isinstance(tables, Mapping) or not tables:
        raise ValueError(f"schema-table row without 'tables': {sorted(record)}")
    columns = tables.get(table.lower())
    if columns is None:
        columns = tables.get(table)
    if columns is None and len(tables) == 1:
        columns = next(iter(tables.values()))
    if not isinstance(columns, Mapping):
        raise ValueError(f"schema-table row has no values for {table!r}")
    return blank_as_none(columns)


def to_table_value(value: Any) -> str:
    """A value as a schema-table write wants it (§4.11): a string; booleans "1"/"0"; null ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(value)
