"""The one id rule (core/ids.py): '03001' stays text, '3001' is a number, non-ASCII digits
and control characters are a clear InvalidId, never a crash."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from acme_powerschool.core.call import Call, render_path
from acme_powerschool.core.ids import InvalidId, normalise_id, parse_id, path_segment


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (3001, 3001),
        ("3001", 3001),
        (" 3001 ", 3001),
        ("03001", "03001"),
        ("0", 0),
        ("TestID", "TestID"),
        ("04100000", "04100000"),
    ],
)
def test_parse_id_keeps_leading_zeros(raw: object, expected: object) -> None:
    assert parse_id(raw) == expected and type(parse_id(raw)) is type(expected)


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ("²", "not an ASCII digit"),
        ("３００１", "not an ASCII digit"),
        ("١٢", "not an ASCII digit"),
        ("½", "not an ASCII digit"),  # numeric but not a digit: refused all the same
        ("3Ⅻ", "not an ASCII digit"),
        ("", "empty"),
        ("   ", "empty"),
        ("30 01", "space"),
        ("a\x00b", "control"),
        (True, "not bool"),
        (1.5, "not float"),
        (None, "not NoneType"),
    ],
)
def test_parse_id_refuses_what_cannot_be_an_id(raw: object, problem: str) -> None:
    with pytest.raises(InvalidId) as info:
        parse_id(raw)
    assert problem.split()[-1] in str(info.value)
    assert isinstance(info.value, ValueError)


@given(st.text())
def test_parse_id_never_crashes_and_agrees_with_normalise_id(text: str) -> None:
    try:
        value = parse_id(text)
    except InvalidId:
        return
    assert value == normalise_id(text.strip())
    if isinstance(value, int):
        assert text.strip().isascii() and str(value) == text.strip()


@given(st.integers(min_value=0) | st.from_regex(r"[A-Za-z0-9_.\-]{1,20}", fullmatch=True))
def test_path_segment_round_trips(value: int | str) -> None:
    if value in (".", ".."):
        return
    segment = path_segment(value)
    path = render_path(Call("GET", "/ws/v1/student/{id}", path_params={"id": value}))
    assert path.startswith("/ws/v1/student/") and segment in (str(value), str(value).strip())


@pytest.mark.parametrize(("raw", "expected"), [(7, 7), (7.0, 7), (0, 0), ("07", "07"), ("7", 7)])
def test_normalise_id_keeps_whole_numbers_as_ints(raw: object, expected: object) -> None:
    value = normalise_id(raw)
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("raw", [7.5, float("nan"), True, False, None, b"7", [7]])
def test_normalise_id_refuses_what_is_not_an_id(raw: object) -> None:
    with pytest.raises(TypeError, match="expected an id"):
        normalise_id(raw)
