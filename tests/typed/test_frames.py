"""frames.py: columns from the models' types, the same schema for Arrow, pandas, polars and
Parquet, streamed batch by batch; schema tables one column per table column."""

from __future__ import annotations

import datetime
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from model_strategies import EXTRA_KEYS, all_models, model_strategy
from typed_fakes import FakeClient, district_route

from acme_powerschool import frames
from acme_powerschool.core.call import Call
from acme_powerschool.models import Student, WriteResult
from acme_powerschool.pager import Page, Pager

MODELS = all_models()


def student(i: int, **blocks: Any) -> dict[str, Any]:
    return {
        "id": i,
        "local_id": f"0{i}",
        "name": {"first_name": f"S{i}", "last_name": "L"},
        **blocks,
    }


def test_a_model_schema_keeps_its_types_and_flattens_its_blocks() -> None:
    schema = frames.arrow_schema(Student)
    assert schema.field("id").type == pa.int64() and not schema.field("id").nullable
    assert schema.field("local_id").type == pa.string()  # an Id keeps "04100000"
    assert schema.field("name.first_name").type == pa.string()
    assert schema.field("demographics.birth_date").type == pa.date32()
    assert schema.field("school_enrollment.grade_level").type == pa.int64()
    assert pa.types.is_decimal(schema.field("lunch.balance_1").type)
    fees = schema.field("fees.fee").type
    assert pa.types.is_list(fees) and pa.types.is_struct(fees.value_type)
    assert "extra" not in schema.names and "name" not in schema.names
    write = frames.arrow_schema(WriteResult)
    assert write.field("result").type.value_type.field("status").type == pa.string()


def test_column_types_are_dlt_data_types_without_pyarrow() -> None:
    kinds = frames.column_types(Student)
    assert kinds["id"] == "bigint" and kinds["demographics.birth_date"] == "date"
    assert kinds["lunch.balance_1"] == "decimal" and kinds["fees.fee"] == "json"
    assert kinds["counselors"] == "json" and kinds["name.last_name"] == "text"


@attrs.frozen
class _Stamped:
    id: int
    seen: datetime.datetime | None = None


def test_a_datetime_is_a_utc_timestamp_column() -> None:
    assert frames.column_types(_Stamped) == {"id": "bigint", "seen": "timestamp"}
    seen = datetime.datetime(2026, 1, 5, 8, 0, tzinfo=datetime.timezone.utc)
    table = frames.to_arrow([_Stamped(1, seen), _Stamped(2)])
    assert table.schema.field("seen").type == pa.timestamp("us", tz="UTC")
    assert table.column("seen").to_pylist() == [seen, None]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_sync_column_hints_are_frames_types_under_flat_row_names(data: st.DataObject) -> None:
    from acme_powerschool.sync.columns import SEPARATOR, model_columns
    from acme_powerschool.sync.rows import flat_row

    model = data.draw(st.sampled_from(MODELS))
    hints = model_columns(model)
    assert [h["data_type"] for h in hints.values()] == list(frames.column_types(model).values())
    assert [name for name, h in hints.items() if not h["nullable"]] == (
        ["id"] if "id" in hints else []
    )
    record = data.draw(model_strategy(model))
    free = tuple(f"{n}{SEPARATOR}" for n, h in hints.items() if h["data_type"] == "json")
    for name, value in flat_row(record).items():  # an all-None block stays an empty {}
        unknown = name.rpartition(SEPARATOR)[2] in EXTRA_KEYS  # an `extra` key, at any depth
        if value not in (None, {}) and not unknown and not name.startswith(free):
            assert name in hints, name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_every_model_converts_to_its_own_schema(data: st.DataObject) -> None:
    model = data.draw(st.sampled_from(MODELS))
    records = data.draw(st.lists(model_strategy(model), max_size=3))
    table = frames.to_arrow(records, model)
    assert table.schema == frames.arrow_schema(model) and table.num_rows == len(records)


def test_pandas_and_polars_get_typed_columns_from_one_schema() -> None:
    records = [
        student(1, demographics={"birth_date": "2010-05-01", "projected_graduation_year": "2028"}),
        student(2),
    ]
    ps = FakeClient(district_route(records))
    frame = ps.students.list().to_pandas()
    assert list(frame["id"]) == [1, 2]
    assert frame["demographics.birth_date"][0] == datetime.date(2010, 5, 1)
    assert str(frame["demographics.projected_graduation_year"].dtype) == "Int64"
    assert frame["demographics.projected_graduation_year"].isna().tolist() == [False, True]
    assert list(frame["local_id"]) == ["01", "02"]
    polars = pytest.importorskip("polars")
    pl_frame = ps.students.list().to_polars()
    assert pl_frame.schema["demographics.birth_date"] == polars.Date
    assert pl_frame.schema["demographics.projected_graduation_year"] == polars.Int64
    records_out = list(ps.students.list().to_records())
    assert records_out[0]["demographics.birth_date"] == datetime.date(2010, 5, 1)


def test_to_parquet_streams_batch_by_batch_and_reads_back_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(frames, "BATCH_ROWS", 7)
    records = [student(i, lunch={"balance_1": f"{i}.50"}) for i in range(1, 51)]
    ps = FakeClient(district_route(records), max_page_size=10)
    path = tmp_path / "students.parquet"
    assert ps.students.list().to_parquet(path) == 50
    parquet = pq.ParquetFile(path)
    assert parquet.metadata.num_row_groups == math.ceil(50 / 7)
    table = parquet.read()
    assert table.equals(ps.students.list().to_arrow())
    assert table.column("lunch.balance_1")[3].as_py() == Decimal("4.50")


def test_a_failure_mid_stream_leaves_no_parquet_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(frames, "BATCH_ROWS", 2)

    def fetch_page(number: int, size: int) -> Page[Any]:
        if number > 1:
            raise RuntimeError("connection lost")
        return Page([{"a": "1"}] * size)

    path = tmp_path / "rows.parquet"
    with pytest.raises(RuntimeError, match="connection lost"):
        Pager(fetch_page, pagesize=3).to_parquet(path)
    assert list(tmp_path.iterdir()) == []


def test_a_schema_table_frame_has_one_column_per_table_column() -> None:
    def route(call: Call) -> Any:
        if call.path.endswith("/count"):
            return {"count": 3}
        page = int((call.params or {}).get("page", 1))
        rows = [
            {"id": i, "tables": {"u_x": {"id": str(i), "color": "red" if i % 2 else ""}}}
            for i in (1, 2, 3)
        ]
        return {"record": rows if page == 1 else []}

    frame = FakeClient(route).table("u_x").query().to_pandas()
    assert list(frame.columns) == ["id", "color"]
    assert list(frame["color"].isna()) == [False, True, False]


def test_untyped_powerquery_rows_are_text_columns_and_empty_pagers_are_empty() -> None:
    pager = Pager(lambda n, s: Page([{"students.dcid": "2", "x": None}] if n == 1 else []))
    table = pager.to_arrow()
    assert table.schema == pa.schema([("students.dcid", pa.string()), ("x", pa.string())])
    assert frames.to_arrow([], Student).schema == frames.arrow_schema(Student)
    assert Pager(lambda n, s: Page([])).to_pandas().empty


def test_rows_that_gain_a_column_later_are_an_error_not_a_silent_drop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(frames, "BATCH_ROWS", 1)
    with pytest.raises(ValueError, match="'b'"):
        frames.to_arrow([{"a": "1"}, {"a": "2", "b": "3"}])
