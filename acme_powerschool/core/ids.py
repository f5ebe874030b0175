"""The one id rule: what an id a user typed or PowerSchool sent means, and what may go into a
URL path. Pure; the converter, the helpers and the CLI all use it.

An id is `int | str`: a plain decimal string ("3001") is the number 3001; one with a leading
zero ("03001") or letters ("TestID") stays text, exactly as given. Digits that are not ASCII
("²", "３") are never an id: they are refused with InvalidId, never turned into a number.
"""

from __future__ import annotations

from typing import Any


class InvalidId(ValueError):
    """A value that cannot be a PowerSchool id or path segment; the message names why."""


def normalise_id(value: Any) -> int | str:
    """`Id` as PowerSchool sends it: ints stay ints; a plain decimal string ("3001", not
    "03001") becomes an int; other text stays as it is."""
    if isinstance(value, str):
        plain = value.isascii() and value.isdigit() and (value == "0" or value[0] != "0")
        return int(value) if plain else value
    whole = isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    if isinstance(value, bool) or not whole:
        raise TypeError(f"expected an id, got {value!r}")
    return int(value)


def _problem(text: str) -> str | None:
    if not text:
        return "it is empty"
    for ch in text:
        if ch.isspace() or not ch.isprintable():
            return f"it contains the control or space character U+{ord(ch):04X}"
        if not ch.isascii() and (ch.isdigit() or ch.isnumeric()):
            return f"{ch!r} is not an ASCII digit"
    return None


def parse_id(value: Any) -> int | str:
    """An id as a user gave it (argument, option, helper parameter): the id rule above, and
    InvalidId naming the problem for anything that cannot be an id."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidId(f"an id is a number or text, not {type(value).__name__}")
    if isinstance(value, int):
        return value
    text = value.strip()
    problem = _problem(text)
    if problem is not None:
        raise InvalidId(f"{value!r} is not a valid id: {problem}")
    return normalise_id(text)


def path_segment(value: Any) -> str:
    """The text of one path parameter (an id, a table or PowerQuery name), unencoded."""
    return str(parse_id(value))


__all__ = ["InvalidId", "normalise_id", "parse_id", "path_segment"]
