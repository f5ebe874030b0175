"""Records to columns: the one place a model's attrs types become column types (Arrow, pandas,
polars, Parquet, and the column hints of the dlt sync).

A model's columns are its fields, nested blocks flattened with dotted names (`name.first_name`),
lists of one or many as list columns; dates stay dates, date-times UTC timestamps, integers
stay (nullable) integers, booleans booleans, money an exact decimal; ids (`int | str`,
`"04100000"` keeps its zero) and `Literal` codes are text; free-form values (`any`, `map`) are
JSON text. A schema-table row has one column per table column; an untyped PowerQuery row one
text column per key.

Writing streams: records are turned into Arrow record batches of at most `BATCH_ROWS`, so a
Parquet file of any size is written with flat memory. Nothing here fetches; pyarrow, pandas and
polars are imported only by the functions that need them.
"""

from __future__ import annotations

import datetime
import functools
import importlib
import itertools
import json
import os
import types
import typing
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import attrs

from acme_powerschool.types import TableRecord

if TYPE_CHECKING:
    import pandas
    import polars
    import pyarrow

__all__ = [
    "BATCH_ROWS",
    "Column",
    "ColumnKind",
    "arrow_schema",
    "arrow_type",
    "column_types",
    "columns",
    "record_batches",
    "to_arrow",
    "to_pandas",
    "to_parquet",
    "to_polars",
    "to_records",
]

BATCH_ROWS = 2048
"""Records per Arrow record batch (and Parquet row group) when streaming."""

ColumnKind = Literal[
    "text", "bigint", "double", "bool", "decimal", "date", "timestamp", "json", "list"
]
"""A column's logical type; the names are dlt's data types (a `list` is `json` to dlt)."""

DECIMAL_PRECISION, DECIMAL_SCALE = 38, 9
"""Money arrives as strings like "0.00": an exact decimal with room to spare."""

_SCALAR_KINDS: dict[Any, ColumnKind] = {
    str: "text",
    int: "bigint",
    float: "double",
    bool: "bool",
    Decimal: "decimal",
    datetime.date: "date",
    datetime.datetime: "timestamp",
}


@attrs.frozen
class Column:
    """One column of a model's table: its dotted `name`, the attribute `path` to its value,
    its `kind` and, for a list, the kind (or model) of its items."""

    name: str
    kind: ColumnKind
    path: tuple[str, ...]
    nullable: bool = True
    item: ColumnKind | type | None = None


# -- types to columns -----------------------------------------------------------------------


def _without_none(tp: Any) -> tuple[Any, bool]:
    """`X | None` as (X, True); anything else as (tp, False)."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        args = typing.get_args(tp)
        rest = tuple(a for a in args if a is not type(None))
        if len(rest) < len(args):
            return (rest[0] if len(rest) == 1 else typing.Union[rest]), True  # noqa: UP007
    return tp, False


def _scalar_kind(tp: Any) -> ColumnKind:
    """The kind of a non-model, non-list type: ids (`int | str`) and Literals are text."""
    if tp in _SCALAR_KINDS:
        return _SCALAR_KINDS[tp]
    origin = typing.get_origin(tp)
    if origin is Literal or origin in (typing.Union, types.UnionType):
        return "text"
    return "json"  # Any, Mapping: kept as JSON text


def _is_list(tp: Any) -> bool:
    args = typing.get_args(tp)
    return typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis


@functools.cache
def columns(model: type) -> tuple[Column, ...]:
    """Every column of `model`, nested blocks flattened (`name.first_name`); `extra` is left
    out (it holds what the spec does not know, differently per record)."""
    hints = typing.get_type_hints(model)
    found: list[Column] = []
    for field in attrs.fields(model):
        if field.name == "extra":
            continue
        tp, optional = _without_none(hints[field.name])
        nullable = optional or field.default is not attrs.NOTHING
        if attrs.has(tp):
            found.extend(
                attrs.evolve(
                    inner, name=f"{field.name}.{inner.name}", path=(field.name, *inner.path)
                )
                for inner in columns(tp)
            )
        elif _is_list(tp):
            element = typing.get_args(tp)[0]
            item = element if attrs.has(element) else _scalar_kind(element)
            found.append(Column(field.name, "list", (field.name,), True, item))
        else:
            found.append(Column(field.name, _scalar_kind(tp), (field.name,), nullable))
    return tuple(found)


def column_types(model: type) -> dict[str, ColumnKind]:
    """`{column name: kind}` for `model`, in dlt's words (a list column is `json`): what the
    sync hands dlt as column hints. Needs no pyarrow."""
    return {c.name: ("json" if c.kind == "list" else c.kind) for c in columns(model)}


def arrow_type(kind: ColumnKind | type | None) -> pyarrow.DataType:
    """The Arrow type of a column kind (a model type: a struct of its columns)."""
    import pyarrow as pa

    if isinstance(kind, type):  # a list of models: each item a struct of its columns
        return pa.struct([pa.field(c.name, _column_type(c)) for c in columns(kind)])
    simple = {
        "text": pa.string(),
        "json": pa.string(),
        "bigint": pa.int64(),
        "double": pa.float64(),
        "bool": pa.bool_(),
        "decimal": pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us", tz="UTC"),
    }
    return simple[kind or "text"]


def _column_type(column: Column) -> pyarrow.DataType:
    import pyarrow as pa

    if column.kind == "list":
        return pa.list_(arrow_type(column.item))
    return arrow_type(column.kind)


def arrow_schema(model: type) -> pyarrow.Schema:
    """The Arrow schema of `model`'s table (see the module docstring for the rules)."""
    import pyarrow as pa

    return pa.schema([pa.field(c.name, _column_type(c), c.nullable) for c in columns(model)])


# -- records to rows ------------------------------------------------------------------------


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, default=str, sort_keys=True)


def _plain(kind: ColumnKind | type | None, value: Any) -> Any:
    """One value as its column wants it (ids and codes as text, free-form as JSON text)."""
    if value is None:
        return None
    if kind == "text":
        return value if type(value) is str else str(value)
    if kind == "json":
        return _json_text(value)
    if isinstance(kind, type):
        return model_row(value)
    return value


def _getter(column: Column) -> Callable[[Any], Any]:
    path, kind, item = column.path, column.kind, column.item

    def value(record: Any) -> Any:
        for name in path:
            record = getattr(record, name)
            if record is None:
                return None
        if kind == "list":
            return [_plain(item, v) for v in record]
        return _plain(kind, record)

    return value


@functools.cache
def _getters(model: type) -> tuple[tuple[str, Callable[[Any], Any]], ...]:
    return tuple((c.name, _getter(c)) for c in columns(model))


def model_row(record: Any) -> dict[str, Any]:
    """One model as `{column: value}` with typed values (dates as dates)."""
    model: type = type(record)
    return {name: get(record) for name, get in _getters(model)}


def _table_row(record: Any) -> dict[str, Any]:
    return {"id": _plain("text", record.id), **record.values}


def _dict_row(record: Mapping[str, Any]) -> dict[str, Any]:
    return {str(k): _plain("text" if isinstance(v, str) else "json", v) for k, v in record.items()}


def _row_function(first: Any) -> Callable[[Any], dict[str, Any]]:
    """How records like `first` become rows: models by their columns, schema-table rows by
    their table columns, untyped PowerQuery rows by their keys, anything else as `value`."""
    if isinstance(first, TableRecord):
        return _table_row
    if attrs.has(type(first)):
        return model_row
    if isinstance(first, Mapping):
        return _dict_row
    return lambda record: {"value": _plain("json", record)}


def to_records(records: Iterable[Any]) -> Iterator[dict[str, Any]]:
    """Each record as one flat dict of typed values, keyed like the DataFrame's columns."""
    iterator = iter(records)
    first = next(iterator, None)
    if first is None:
        return
    row = _row_function(first)
    yield row(first)
    for record in iterator:
        yield row(record)


# -- rows to Arrow, streaming ---------------------------------------------------------------


def _text_schema(names: Iterable[str]) -> pyarrow.Schema:
    import pyarrow as pa

    return pa.schema([pa.field(name, pa.string()) for name in names])


def _schema_for(first: Any, rows: Sequence[dict[str, Any]]) -> pyarrow.Schema:
    """The schema of a stream, from its first record (a model's own schema) or, for rows
    without a model, the keys of the first batch (all text: PowerSchool sends strings)."""
    if attrs.has(type(first)) and not isinstance(first, TableRecord):
        return arrow_schema(type(first))
    return _text_schema(dict.fromkeys(key for row in rows for key in row))


def _chunks(records: Iterable[Any], size: int) -> Iterator[list[Any]]:
    iterator = iter(records)
    while chunk := list(itertools.islice(iterator, size)):
        yield chunk


def record_batches(records: Iterable[Any]) -> Iterator[pyarrow.RecordBatch]:
    """Records as Arrow record batches of at most BATCH_ROWS rows, all with the schema the
    first batch decides; only one batch of rows is held at a time. A later row with a column
    the schema does not have is a ValueError (it would otherwise be dropped)."""
    import pyarrow as pa

    row: Callable[[Any], dict[str, Any]] | None = None
    schema: pyarrow.Schema | None = None
    for chunk in _chunks(records, BATCH_ROWS):
        if row is None:
            row = _row_function(chunk[0])
        rows = [row(record) for record in chunk]
        if schema is None:
            schema = _schema_for(chunk[0], rows)
        unknown = {key for r in rows for key in r} - set(schema.names)
        if unknown:
            raise ValueError(f"rows gained columns the first batch did not have: {sorted(unknown)}")
        yield pa.RecordBatch.from_pylist(rows, schema=schema)


def to_arrow(records: Iterable[Any], model: type | None = None) -> pyarrow.Table:
    """Every record as one Arrow table; with no records, `model`'s empty table (or none)."""
    import pyarrow as pa

    batches = list(record_batches(records))
    if batches:
        return pa.Table.from_batches(batches)
    schema = arrow_schema(model) if model is not None else pa.schema([])
    return schema.empty_table()


def to_parquet(records: Iterable[Any], path: str | os.PathLike[str]) -> int:
    """Stream every record into a Parquet file at `path`, one row group per batch, written to
    a temporary file beside it and renamed into place only when complete (a failure mid-way
    leaves no half-written file). Returns the number of rows written."""
    import pyarrow.parquet as pq

    target = os.fspath(path)
    partial = f"{target}.partial"
    written = 0
    writer: pq.ParquetWriter | None = None
    try:
        for batch in record_batches(records):
            if writer is None:
                writer = pq.ParquetWriter(partial, batch.schema)
            writer.write_batch(batch)
            written += batch.num_rows
        if writer is None:  # no records: an empty file, still a valid Parquet file
            writer = pq.ParquetWriter(partial, _text_schema(()))
        writer.close()
        writer = None
        os.replace(partial, target)
    finally:
        if writer is not None:
            writer.close()
        if os.path.exists(partial):
            os.unlink(partial)
    return written


def _pandas_types() -> Callable[[Any], Any]:
    import pandas as pd
    import pyarrow as pa

    mapping = {
        pa.int64(): pd.Int64Dtype(),
        pa.bool_(): pd.BooleanDtype(),
        pa.float64(): pd.Float64Dtype(),
        pa.string(): pd.StringDtype(),
    }
    return mapping.get


def _optional(module: str) -> Any:
    """Import an optional extra, or ImportError saying which extra installs it."""
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise ImportError(
            f"to_{module}() needs {module}: pip install 'acme-powerschool[{module}]'"
        ) from exc


def to_pandas(records: Iterable[Any]) -> pandas.DataFrame:
    """A pandas DataFrame through Arrow: nullable integers and booleans, dates as dates."""
    _optional("pandas")
    frame: pandas.DataFrame = to_arrow(records).to_pandas(types_mapper=_pandas_types())
    return frame


def to_polars(records: Iterable[Any]) -> polars.DataFrame:
    """A polars DataFrame through Arrow (the same schema pandas gets)."""
    frame: polars.DataFrame = _optional("polars").from_arrow(to_arrow(records))
    return frame
