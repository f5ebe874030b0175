"""core/envelope.py: every envelope quirk of the fact sheet, unwrapped once."""

from __future__ import annotations

from typing import Any

import pytest

from acme_powerschool.core.envelope import (
    one_or_many,
    unwrap_count,
    unwrap_list,
    unwrap_one,
    unwrap_query,
    unwrap_write,
)
from acme_powerschool.core.errors import ResponseFormatError


def test_one_or_many_turns_a_bare_object_into_a_list_of_one() -> None:
    assert one_or_many({"id": 1}) == [{"id": 1}]
    assert one_or_many([{"id": 1}, {"id": 2}]) == [{"id": 1}, {"id": 2}]
    assert one_or_many("") == []
    assert one_or_many(None) == []


def test_unwrap_list_reads_every_shape_of_a_v1_list() -> None:
    many = {"students": {"@expansions": "a", "student": [{"id": 1}, {"id": 2}]}}
    one = {"students": {"@expansions": "a", "student": {"id": 1}}}
    none = {"students": {"@expansions": "a", "@extensions": "b"}}
    assert unwrap_list(many, "students", "student") == [{"id": 1}, {"id": 2}]
    assert unwrap_list(one, "students", "student") == [{"id": 1}]
    assert unwrap_list(none, "students", "student") == []
    assert unwrap_list({"students": ""}, "students", "student") == []


@pytest.mark.parametrize(
    "body",
    [
        [],
        "<html>maintenance</html>",
        {"schools": {"school": []}},
        {"students": {"student": [1, 2]}},
        {"students": {"student": "x"}},
        {"students": []},
    ],
)
def test_unwrap_list_rejects_wrong_shapes(body: Any) -> None:
    with pytest.raises(ResponseFormatError):
        unwrap_list(body, "students", "student")


def test_unwrap_one_needs_the_singular_object() -> None:
    assert unwrap_one({"student": {"id": 2}}, "student") == {"id": 2}
    for body in ({"students": {}}, {"student": ""}, None, [1]):
        with pytest.raises(ResponseFormatError):
            unwrap_one(body, "student")


def test_unwrap_count_reads_both_count_shapes_and_string_counts() -> None:
    assert unwrap_count({"resource": {"count": 423}}) == 423
    assert unwrap_count({"count": 16987}) == 16987
    assert unwrap_count({"resource": {"count": "7"}}) == 7
    for body in ({"resource": {}}, {"count": -1}, {"count": "x"}, {"count": 1.5}, [], {}):
        with pytest.raises(ResponseFormatError):
            unwrap_count(body)


def test_unwrap_query_treats_a_missing_record_as_none() -> None:
    page = unwrap_query({"name": "Students"})
    assert page.records == [] and page.count is None and page.name == "Students"
    page = unwrap_query({"name": "Students", "record": {"dcid": "1"}, "count": 707625})
    assert page.records == [{"dcid": "1"}] and page.count == 707625
    with pytest.raises(ResponseFormatError):
        unwrap_query({"record": ["x"]})


def test_unwrap_write_reads_wrapped_and_top_level_results() -> None:
    inner = {"insert_count": 1, "result": {"status": "SUCCESS"}}
    assert unwrap_write({"results": inner}) == inner
    assert unwrap_write(inner) == inner
    with pytest.raises(ResponseFormatError):
        unwrap_write([inner])
