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
