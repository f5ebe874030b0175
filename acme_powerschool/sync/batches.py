"""Pages of records as Arrow tables for dlt: dlt writes an Arrow table straight to parquet and
skips its row-by-row JSON normaliser, so this is the sync's fast path.

What lands in the warehouse is what the dict rows (`rows.flat_row`) gave dlt: the same column
names (the converter's wire keys, `parent__child`), the same types (the model's, from
`acme_powerschool.frames`; text for schema tables and PowerQueries, converted as dlt converts a
value to text), the same `_dlt_id` / `_dlt_load_id` columns dlt adds to dict rows. A record this
path cannot put in columns exactly as the dict path would (a field the model does not know,
kept in `extra`; a free-form mapping, which the dict path spreads over columns) makes
`model_columns` answer None, and that page goes the dict way.

Row fingerprints (`fingerprint`) are computed here from the typed values, so unchanged rows are
recognised without building a dict per row.
"""

from __future__ import annotations

import functools
import hashlib
import operator
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from acme_powerschool import frames
from acme_powerschool.sync.columns import SEPARATOR, model_fields

if TYPE_CHECKING:
    import pyarrow

__all__ = [
    "DLT_ID",
    "DLT_LOAD_ID",
    "Pending",
    "fingerprints",
    "model_columns",
    "row_fingerprint",
    "text_columns",
    "to_table",
    "tombstone_table",
]

DLT_ID = "_dlt_id"
DLT_LOAD_ID = "_dlt_load_id"

YIELD_ROWS = 10_000
"""Rows gathered into one Arrow table before it goes to dlt (dlt's cost is per item)."""

Columns = dict[str, list[Any]]
"""Column name -> one value per row (Python values, typed as the column wants)."""


def row_fingerprint(row: Mapping[str, Any]) -> str:
    """The fingerprint of a dict row of strings: its names, then its values."""
    text = repr(tuple(row)) + repr(tuple(row.values()))
    return hashlib.blake2b(text.encode("utf-8"), digest_size=6).hexdigest()


def flat_text_columns(
    records: Sequence[Any], fingerprinted: bool = True
) -> tuple[Columns, list[str] | None] | None:
    """PowerQuery records that all have the same keys, in the same order, and only strings or
    nulls, as text columns named as `rows.flat_row` names them, with each row's
    `row_fingerprint` (None when not `fingerprinted`); None for any other page (it goes
    through `flat_row`)."""
    first = records[0]
    if type(first) is not dict:
        return None
    keys = tuple(first)
    if any(type(record) is not dict or tuple(record) != keys for record in records):
        return None
    names = tuple(key.replace(".", SEPARATOR) for key in keys)
    if len(set(names)) != len(names):
        return None
    rows = [tuple(record.values()) for record in records]
    by_column = zip(*rows, strict=True)
    columns: Columns = {name: list(values) for name, values in zip(names, by_column, strict=True)}
    for values in columns.values():
        if not _TEXT_OR_NULL.issuperset(map(type, values)):
            return None
    if not fingerprinted:
        return columns, None
    prefix, blake2b = repr(names), hashlib.blake2b
    prints = [
        blake2b((prefix + repr(row)).encode("utf-8"), digest_size=6).hexdigest() for row in rows
    ]
    return columns, prints


def fingerprints(columns: Columns) -> list[str]:
    """One fingerprint per row of `columns` (a model's columns: always the same, in order)."""
    blake2b = hashlib.blake2b
    return [
        blake2b(repr(row).encode("utf-8"), digest_size=6).hexdigest()
        for row in zip(*columns.values(), strict=True)
    ]


# -- models ---------------------------------------------------------------------------------


class _Plan:
    """How a model's records become columns: per column its wire name, attribute path, kind."""

    def __init__(self, model: type) -> None:
        self.fields = model_fields(model)
        prefixes: dict[tuple[str, ...], None] = {}
        for _, column in self.fields:
            for end in range(1, len(column.path)):
                prefixes[column.path[:end]] = None
        self.blocks = tuple(prefixes)  # nested blocks, parents before children


_PLANS: dict[type, _Plan] = {}


def _json_text(converter: Any, value: Any) -> str:
    from dlt.common.json import json

    text: str = json.dumps(converter.unstructure(value))
    return text


_TEXT_OR_NULL = frozenset((str, type(None)))
_EXTRA = operator.attrgetter("extra")
_IS_NONE = functools.partial(operator.is_, None)


def _nulls(values: list[Any]) -> int:
    """How many of `values` are None (`list.count` would call a model's `__eq__` on each)."""
    return sum(map(_IS_NONE, values))


def _attribute(objects: list[Any], name: str, nulls: int) -> list[Any]:
    """`name` of each object (None for a None object); `nulls`: how many objects are None."""
    if not nulls:
        return list(map(operator.attrgetter(name), objects))
    return [None if o is None else getattr(o, name) for o in objects]


def _has_extra(objects: list[Any]) -> bool:
    """Whether one of the (non-None) objects keeps fields its model does not know."""
    present = [o for o in objects if o is not None]
    return bool(present) and hasattr(present[0], "extra") and any(map(_EXTRA, present))


def _blocks(
    plan: _Plan, records: Sequence[Any]
) -> dict[tuple[str, ...], tuple[list[Any], int] | None] | None:
    """Per nested block, its object of each record and how many are None (None for a block no
    record has), or None when one of them holds fields the model does not know."""
    count = len(records)
    objects: dict[tuple[str, ...], tuple[list[Any], int] | None] = {(): (list(records), 0)}
    for block in plan.blocks:
        parent = objects[block[:-1]]
        if parent is None:
            objects[block] = None
            continue
        values = _attribute(parent[0], block[-1], parent[1])
        nulls = _nulls(values)
        if nulls == count:  # a block not expanded
            objects[block] = None
            continue
        if _has_extra(values):
            return None
        objects[block] = (values, nulls)
    return objects


def fits_decimal(value: Any) -> bool:
    """Whether a Decimal (or None) is held exactly by the decimal column's Arrow type
    (`frames.DECIMAL_PRECISION` digits, `frames.DECIMAL_SCALE` of them after the point)."""
    if value is None:
        return True
    if not value.is_finite():
        return False
    _, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite
    if not any(digits):  # zero, at any exponent
        return True
    length = len(digits)
    while exponent < 0 and length > 1 and digits[length - 1] == 0:  # 1.50 is 1.5
        length -= 1
        exponent += 1
    scale, whole = frames.DECIMAL_SCALE, frames.DECIMAL_PRECISION - frames.DECIMAL_SCALE
    return exponent >= -scale and length + exponent <= whole


def fits_bigint(value: Any) -> bool:
    """Whether an int (or None) fits the bigint column's 64 bits."""
    return value is None or -(2**63) <= value < 2**63


_FITS = {"decimal": fits_decimal, "bigint": fits_bigint}


def model_columns(records: Sequence[Any]) -> Columns | None:
    """The records (all of one model) as typed columns named by wire keys, or None when one
    of them needs the dict path (a field the model does not know; a free-form value; a number
    its Arrow column cannot hold exactly)."""
    if not records:
        return {}
    model = type(records[0])
    plan = _PLANS.get(model)
    if plan is None:
        plan = _PLANS[model] = _Plan(model)
    if _has_extra(list(records)):
        return None
    objects = _blocks(plan, records)
    if objects is None:
        return None
    from acme_powerschool.convert import default_converter

    converter = default_converter()
    count = len(records)
    out: Columns = {}
    nulls = [None] * count
    for wire, column in plan.fields:
        parent = objects[column.path[:-1]]
        if parent is None:
            out[wire] = nulls
            continue
        values = _attribute(parent[0], column.path[-1], parent[1])
        if values.count(None) == count:
            out[wire] = values
            continue
        kind = column.kind
        if kind == "text":
            values = [v if v is None or type(v) is str else str(v) for v in values]
        elif kind == "list":
            values = [None if v is None else _json_text(converter, v) for v in values]
        elif kind == "json":
            return None  # a mapping is spread over columns by the dict path
        elif kind in _FITS and not all(map(_FITS[kind], values)):
            return None  # a number its Arrow column cannot hold exactly
        out[wire] = values
    return out


def model_schema(model: type, key: str) -> pyarrow.Schema:
    """The Arrow schema of `model_columns(...)` for `model` (lists and free-form as text)."""
    import pyarrow as pa

    fields = []
    for wire, column in model_fields(model):
        kind = "text" if column.kind in ("list", "json") else column.kind
        fields.append(pa.field(wire, frames.arrow_type(kind), nullable=wire != key))
    return pa.schema(fields)


# -- text rows (schema tables, PowerQueries) ------------------------------------------------


def _as_text(value: Any) -> Any:
    """A value as dlt makes it text for a text column (PowerSchool sends strings)."""
    if value is None or type(value) is str:
        return value
    from dlt.common.data_types.type_helpers import coerce_value, py_type_to_sc_type

    return coerce_value("text", py_type_to_sc_type(type(value)), value)


def text_columns(rows: Sequence[Mapping[str, Any]]) -> Columns:
    """Dict rows as text columns, every key of every row (missing: null)."""
    names = dict.fromkeys(name for row in rows for name in row)
    out: Columns = {}
    for name in names:
        values = [row.get(name) for row in rows]
        out[name] = [v if v is None or type(v) is str else _as_text(v) for v in values]
    return out


# -- tables ---------------------------------------------------------------------------------


def _load_id() -> str:
    import dlt

    load_id: str = dlt.current.load_package_state()["load_id"]
    return load_id


def to_table(
    columns: Columns,
    count: int,
    schema: pyarrow.Schema | None = None,
    load_id: str | None = None,
) -> pyarrow.Table:
    """`count` rows of `columns` as an Arrow table with dlt's `_dlt_id` and `_dlt_load_id`
    (the columns dlt adds to dict rows), typed by `schema` (None: every column text).
    `load_id` by default is the load package dlt is extracting."""
    import pyarrow as pa
    from dlt.common.normalizers.utils import generate_dlt_ids

    if schema is None:
        schema = pa.schema([pa.field(name, pa.string()) for name in columns])
    arrays = [_array(pa, columns[f.name], f.type, count) for f in schema]
    fields = list(schema)
    arrays.append(pa.array(generate_dlt_ids(count), type=pa.string()))
    fields.append(pa.field(DLT_ID, pa.string(), nullable=False))
    arrays.append(pa.array([load_id or _load_id()] * count, type=pa.string()))
    fields.append(pa.field(DLT_LOAD_ID, pa.string(), nullable=False))
    return pa.Table.from_arrays(arrays, schema=pa.schema(fields))


def _array(pa: Any, values: list[Any], kind: Any, count: int) -> Any:
    if values.count(None) == count:  # most optional columns of most records
        return pa.nulls(count, type=kind)
    return pa.array(values, type=kind)


def key_not_null(table: Any, key: str) -> Any:
    """An Arrow table (dict rows pass through) whose `key` column is declared not null, as the
    resource's hint declares it (rows without a key never reach a table)."""
    schema: Any = getattr(table, "schema", None)
    if schema is None:
        return table
    index = schema.get_field_index(key)
    if index < 0 or not schema.field(index).nullable:
        return table
    return table.cast(schema.set(index, schema.field(index).with_nullable(False)))


def tombstone_table(
    key: str, key_type: Any, idents: Sequence[str], column: str, value: Any
) -> pyarrow.Table:
    """Rows that carry only the key (as `key_type`, the type the table's key has: the ids are
    kept as text) and `column` (the hard-delete flag or the time the row was seen gone)."""
    import pyarrow as pa

    count = len(idents)
    kind = pa.bool_() if isinstance(value, bool) else frames.arrow_type("timestamp")
    keys = pa.array(list(idents), type=pa.string())
    if key_type is not None and key_type != pa.string():
        keys = keys.cast(key_type)
    table = to_table({column: [value] * count}, count, pa.schema([pa.field(column, kind)]))
    return table.add_column(0, pa.field(key, keys.type, nullable=False), keys)


class Pending:
    """The kept rows of many pages gathered as columns, handed to dlt as one Arrow table of
    YIELD_ROWS rows (dlt's cost, and Arrow's, is per item: a page is small)."""

    def __init__(self, schema: pyarrow.Schema | None = None) -> None:
        self.schema = schema
        self.columns: Columns = {}
        self.rows = 0

    def add(self, columns: Columns, keep: Sequence[int]) -> pyarrow.Table | None:
        """Keep the rows `keep` of `columns`; the gathered table when enough rows wait."""
        count = len(keep)
        if not count:
            return None
        everything = count == len(next(iter(columns.values()), ()))
        gathered = self.columns
        for name in columns:
            if name not in gathered:
                gathered[name] = [None] * self.rows
        for name, values in gathered.items():
            source = columns.get(name)
            if source is None:
                values.extend([None] * count)
            elif everything:
                values.extend(source)
            else:
                values.extend([source[i] for i in keep])
        self.rows += count
        return self.flush() if self.rows >= YIELD_ROWS else None

    def flush(self) -> pyarrow.Table | None:
        """Everything gathered as one table (None when nothing is)."""
        if not self.rows:
            return None
        table = to_table(self.columns, self.rows, self.schema)
        self.columns, self.rows = {}, 0
        return table
