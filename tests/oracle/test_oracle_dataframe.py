"""read_dataframe() and read_dataframe_batches() on Arrow data from a fake connection.

No database: the fake's fetch_df_all/fetch_df_batches return an object that exposes only the
Arrow C stream interface, as oracledb's DataFrame does, so these tests prove the conversion
path, the bind handling and what is passed to oracledb, not oracledb's fetch itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest

from acme_powerschool.shell.oracle import read_dataframe, read_dataframe_batches

SCHOOLS = pa.table(
    {
        "SCHOOL_NUMBER": pa.array([100, 600, 700], pa.int64()),
        "NAME": ["Apple Grove High School", "Cherry Hill Middle School", "Washington Elementary"],
    }
)


class ArrowOnly:
    """Exposes only __arrow_c_stream__, like oracledb.DataFrame (no pyarrow methods to lean on)."""

    def __init__(self, table: pa.Table) -> None:
        self._table = table

    def __arrow_c_stream__(self, requested_schema: Any = None) -> Any:
        return self._table.__arrow_c_stream__(requested_schema)


class FakeArrowConnection:
    """Records fetch_df_all / fetch_df_batches calls and answers with SCHOOLS."""

    acme_arraysize = 1000

    def __init__(self) -> None:
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def fetch_df_all(self, **kwargs: Any) -> ArrowOnly:
        self.calls.append(("fetch_df_all", kwargs))
        return ArrowOnly(SCHOOLS)

    def fetch_df_batches(self, **kwargs: Any) -> Iterator[ArrowOnly]:
        self.calls.append(("fetch_df_batches", kwargs))
        size = kwargs["size"]
        for start in range(0, SCHOOLS.num_rows, size):
            yield ArrowOnly(SCHOOLS.slice(start, size))


SQL = "select school_number, name from schools where school_number >= :low"


def test_pandas_is_the_default() -> None:
    conn = FakeArrowConnection()
    df = read_dataframe(conn, SQL, {"low": 100})  # type: ignore[arg-type]
    assert list(df.columns) == ["SCHOOL_NUMBER", "NAME"]
    assert df["SCHOOL_NUMBER"].tolist() == [100, 600, 700]
    assert conn.calls == [
        ("fetch_df_all", {"statement": SQL, "parameters": {"low": 100}, "arraysize": 1000})
    ]


def test_arrow_returns_a_pyarrow_table() -> None:
    table = read_dataframe(FakeArrowConnection(), SQL, {"low": 100}, to="arrow")  # type: ignore[arg-type]
    assert isinstance(table, pa.Table)
    assert table.equals(SCHOOLS)


def test_polars_uses_the_dataframe_constructor() -> None:
    polars = pytest.importorskip("polars")
    df = read_dataframe(FakeArrowConnection(), SQL, {"low": 100}, to="polars")  # type: ignore[arg-type]
    assert isinstance(df, polars.DataFrame)
    assert df.columns == ["SCHOOL_NUMBER", "NAME"]


def test_no_params_passes_none_and_arraysize_can_be_overridden() -> None:
    conn = FakeArrowConnection()
    read_dataframe(conn, "select 1 from dual", to="arrow", arraysize=50)  # type: ignore[arg-type]
    assert conn.calls[0][1] == {
        "statement": "select 1 from dual",
        "parameters": None,
        "arraysize": 50,
    }


@pytest.mark.parametrize("params", [[100], (100,), "100", 100])
def test_positional_or_other_params_are_refused(params: Any) -> None:
    conn = FakeArrowConnection()
    with pytest.raises(TypeError, match="named binds"):
        read_dataframe(conn, SQL, params)  # type: ignore[arg-type]
    assert conn.calls == []


def test_unknown_target_is_refused_before_querying() -> None:
    conn = FakeArrowConnection()
    with pytest.raises(ValueError, match="'pandas', 'polars', 'arrow'"):
        read_dataframe(conn, SQL, to="excel")  # type: ignore[arg-type]
    assert conn.calls == []


def test_sql_must_be_text() -> None:
    with pytest.raises(TypeError, match="sql must be a str"):
        read_dataframe(FakeArrowConnection(), b"select 1 from dual")  # type: ignore[arg-type]


def test_batches_yield_one_frame_per_size_rows() -> None:
    conn = FakeArrowConnection()
    batches = list(read_dataframe_batches(conn, SQL, {"low": 100}, size=2))  # type: ignore[arg-type]
    assert [b.num_rows for b in batches] == [2, 1]
    assert pa.concat_tables(batches).equals(SCHOOLS)
    assert conn.calls == [
        ("fetch_df_batches", {"statement": SQL, "parameters": {"low": 100}, "size": 2})
    ]


def test_batches_as_pandas() -> None:
    frames = list(
        read_dataframe_batches(FakeArrowConnection(), SQL, {"low": 1}, to="pandas", size=3)  # type: ignore[arg-type]
    )
    assert len(frames) == 1 and frames[0]["NAME"].iloc[0] == "Apple Grove High School"
