"""The Arrow path of the sync: pages become typed columns exactly as the dict rows would, the
fingerprints do not depend on the path a PowerQuery page takes, the packed fingerprint state
reads back what was packed, and a page the Arrow path cannot take goes through dict rows into
the same table."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from syncharness import Harness

from acme_powerschool.convert import default_converter
from acme_powerschool.models.students import Student
from acme_powerschool.sync import batches
from acme_powerschool.sync.columns import model_columns
from acme_powerschool.sync.rows import PRINT_LENGTH, flat_row, pack_rows, unpack_rows

idents = st.text(min_size=1, max_size=12)
prints = st.text(alphabet="0123456789abcdef", min_size=PRINT_LENGTH, max_size=PRINT_LENGTH)


@given(st.dictionaries(idents, prints, max_size=30))
def test_packed_rows_read_back_as_packed(rows: dict[str, str]) -> None:
    packed = pack_rows(rows)
    assert unpack_rows(packed) == rows
    if not any("\n" in ident for ident in rows):
        assert isinstance(packed, str)  # one string in dlt's state, not a mapping per id


def test_the_state_of_an_older_version_is_read_as_it_was_kept() -> None:
    assert unpack_rows({"12": "a1b2c3d4e5f6"}) == {"12": "a1b2c3d4e5f6"}
    assert unpack_rows(None) == {}


names = st.sampled_from(["students.dcid", "students.last_name", "cc.id", "grade", "x.y"])
values = st.none() | st.text(max_size=6)


@given(st.lists(names, min_size=1, max_size=5, unique=True), st.data())
def test_a_powerquery_page_gives_the_columns_and_fingerprints_of_its_dict_rows(
    keys: list[str], data: Any
) -> None:
    records = data.draw(
        st.lists(st.fixed_dictionaries({key: values for key in keys}), min_size=1, max_size=6)
    )
    fast = batches.flat_text_columns(records)
    if fast is None:  # only a page whose records list their keys in different orders
        assert len({tuple(record) for record in records}) > 1
        return
    columns, fingerprints = fast
    rows = [flat_row(record) for record in records]
    assert columns == batches.text_columns(rows)
    assert fingerprints == [batches.row_fingerprint(row) for row in rows]


def test_a_powerquery_page_of_mixed_shapes_goes_through_dict_rows() -> None:
    assert batches.flat_text_columns([{"a": "1"}, {"b": "2"}]) is None
    assert batches.flat_text_columns([{"a": "1"}, {"a": 2}]) is None  # dlt makes 2 text
    assert batches.text_columns([{"a": "1"}, {"a": 2}]) == {"a": ["1", "2"]}


STUDENT = {
    "id": 7,
    "local_id": 12,
    "name": {"first_name": "Ada", "last_name": "Lo"},
    "demographics": {"birth_date": "2011-10-24", "gender": "F"},
}


def test_model_columns_are_named_and_typed_as_the_column_hints() -> None:
    student = default_converter().structure(STUDENT, Student)
    columns = batches.model_columns([student])
    assert columns is not None
    assert list(columns) == list(model_columns(Student))
    assert columns["id"] == [7]
    assert columns["local_id"] == ["12"]  # an id is text, as dlt makes the wire's 12
    assert columns["name__last_name"] == ["Lo"]
    assert str(columns["demographics__birth_date"][0]) == "2011-10-24"
    table = batches.to_table(columns, 1, batches.model_schema(Student, "id"), load_id="17")
    assert table.schema.field("id").nullable is False
    assert table.column("_dlt_id")[0].as_py()
    assert table.column("_dlt_load_id").to_pylist() == ["17"]


def test_a_record_with_fields_the_model_does_not_know_goes_through_dict_rows() -> None:
    converter = default_converter()
    known = converter.structure(STUDENT, Student)
    unknown = converter.structure({**STUDENT, "new_block": {"flag": True}}, Student)
    assert unknown.extra
    assert batches.model_columns([known, unknown]) is None
    assert "new_block__flag" in flat_row(unknown)


def test_pages_of_dict_rows_and_arrow_tables_land_in_one_table_equal(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = batches.model_columns
    calls: list[int] = []

    def every_other_page_as_dicts(records: Any) -> Any:
        calls.append(len(records))
        return None if len(calls) % 2 else real(records)

    monkeypatch.setattr(batches, "model_columns", every_other_page_as_dicts)
    harness.sync(resources=["students"])
    assert len(calls) >= 2
    harness.assert_equal("students", harness.students())
    harness.sim.mutate("students", "delete", 7)
    harness.client.students.bulk_update([{"id": 3, "name": {"first_name": "Tertia"}}])
    again = harness.sync(resources=["students"])
    assert again.resources["students"].deleted == 1
    harness.assert_equal("students", harness.students())
    assert "7" not in harness.rows("students")


def _student(ident: int, **more: Any) -> Student:
    record = {"id": ident, "name": {"first_name": "Ada", "last_name": f"L{ident}"}, **more}
    student: Student = default_converter().structure(record, Student)
    return student


def test_a_records_fingerprint_does_not_depend_on_its_neighbours() -> None:
    """A record goes the Arrow way or the dict way by itself: when pages shift (an insert or a
    delete before it), an unchanged record is not loaded again as an update."""
    import datetime

    from acme_powerschool.sync.rows import SyncReport, Tracker
    from acme_powerschool.sync.source import _model_pages

    odd = _student(4, surprise="a field the model does not know")
    assert batches.model_columns([odd]) is None
    now = datetime.datetime(2026, 11, 30, tzinfo=datetime.timezone.utc)
    state: dict[str, Any] = {}

    def run(page: list[Student]) -> Any:
        tracker = Tracker(state, "students", SyncReport(), key="id", deletes="delete", now=now)
        parts = list(_model_pages(tracker, page))
        tracker.finish_full()
        return tracker.counts, parts

    counts, parts = run([_student(1), odd, _student(2)])
    assert counts.inserted == 3
    assert [len(p) for p in parts if isinstance(p, list)] == [1]  # only the odd one as a dict
    counts, _ = run([_student(2), _student(3), odd])  # shifted: 1 gone, 3 new
    assert (counts.inserted, counts.updated, counts.deleted) == (1, 0, 1)
    counts, _ = run([_student(3), _student(2, local_id=22), odd])
    assert (counts.inserted, counts.updated, counts.deleted) == (0, 1, 0)


@given(st.decimals(allow_nan=False, allow_infinity=False) | st.integers(-(2**70), 2**70))
def test_a_number_goes_to_arrow_exactly_when_its_column_holds_it(number: Any) -> None:
    import decimal

    import pyarrow as pa

    from acme_powerschool import frames

    if isinstance(number, int):
        fits, kind = batches.fits_bigint(number), pa.int64()
    else:
        fits, kind = batches.fits_decimal(number), frames.arrow_type("decimal")
    try:
        held = pa.array([number], type=kind).to_pylist()[0]
    except (pa.ArrowInvalid, OverflowError):
        held = None
    if fits:
        assert held is not None and decimal.Decimal(held) == decimal.Decimal(number)
    else:
        assert held is None or decimal.Decimal(held) != decimal.Decimal(number)


def test_a_fee_arrow_cannot_hold_goes_the_dict_way() -> None:
    import decimal

    from acme_powerschool.models.students import Fee

    fine = default_converter().structure({"fee_amount": "12.50"}, Fee)
    exact = default_converter().structure({"fee_amount": "0.0000000001"}, Fee)
    assert fine.fee_amount == decimal.Decimal("12.50") and batches.model_columns([fine])
    assert batches.model_columns([exact]) is None


def test_lists_of_records_land_as_json_arrays_not_as_strings(harness: Harness) -> None:
    import duckdb

    harness.sync(resources=["students"], student_expansions=("ethnicity_race",))
    dataset = harness.pipeline.dataset_name
    with duckdb.connect(str(harness.db), read_only=True) as db:
        kinds = db.execute(
            f"select distinct json_type(ethnicity_race__races) from {dataset}.students "
            "where ethnicity_race__races is not null"
        ).fetchall()
        first = db.execute(
            f"select ethnicity_race__races ->> '$[0].district_race_code' from {dataset}.students "
            "where id = 1"
        ).fetchone()
    assert kinds == [("ARRAY",)]
    races = harness.client.students.get(1, expansions=["ethnicity_race"]).ethnicity_race
    assert races is not None and first == (races.races[0].district_race_code,)
