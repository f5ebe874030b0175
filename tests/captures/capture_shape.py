"""The shape of a JSON value, and the differences between two shapes. Pure: JSON in, data out.

A shape maps every path in a JSON document to the set of JSON types seen there. Paths name
object keys with dots and array elements with `[]`, so `staffs.staff[].school_affiliations.
school_affiliation` is one path whatever the index, and every element of an array adds to the
same paths. Values never matter; keys, JSON types and the single-versus-list form do:

- `{"a": 1}` and `{"a": 2}` have the same shape; `{"a": "1"}` does not (string, not number);
- `{"x": {"k": 1}}` (a bare object) and `{"x": [{"k": 1}]}` (a list of one) differ at `x`;
- two documents whose arrays hold elements of different forms have the union of those forms.

`compare(expected, actual)` lists every path where the two shapes differ. `elided` names paths
whose insides the source left out (compare the path's own types, not what is under it);
`may_lack` and `may_add` say what other evidence allows (an optional key, another real form);
`wildcard` names objects whose keys are data (column names of a table or a query): their keys
all become `*`, except keys starting with `_` or `@`, which are PowerSchool's own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

__all__ = [
    "SNIP",
    "Difference",
    "compare",
    "compare_xml",
    "json_type",
    "parent",
    "shape",
    "xml_tags",
]

Shape = dict[str, frozenset[str]]


def json_type(value: Any) -> str:
    """The JSON type name of a decoded JSON value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    raise TypeError(f"not a JSON value: {type(value).__name__}")


def shape(value: Any, wildcard: Iterable[str] = ()) -> Shape:
    """Every path of `value` (the root is "") mapped to the JSON types found there."""
    found: dict[str, set[str]] = {}
    _walk(value, "", found, frozenset(wildcard))
    return {path: frozenset(types) for path, types in found.items()}


def _walk(value: Any, path: str, found: dict[str, set[str]], wildcard: frozenset[str]) -> None:
    found.setdefault(path, set()).add(json_type(value))
    if isinstance(value, Mapping):
        for key, child in value.items():
            key = str(key)
            if path in wildcard and not key.startswith(("_", "@")):
                key = "*"
            _walk(child, f"{path}.{key}" if path else key, found, wildcard)
    elif isinstance(value, list):
        for child in value:
            _walk(child, f"{path}[]", found, wildcard)


class Difference(tuple[str, frozenset[str], frozenset[str]]):
    """(path, types in expected, types in actual); an empty set means the path is absent."""

    __slots__ = ()

    def __new__(cls, path: str, expected: frozenset[str], actual: frozenset[str]) -> Difference:
        return super().__new__(cls, (path, expected, actual))

    @property
    def path(self) -> str:
        return self[0]

    def __str__(self) -> str:
        expected, actual = (sorted(t) or ["absent"] for t in (self[1], self[2]))
        return f"{self[0] or '<root>'}: capture {'|'.join(expected)}, got {'|'.join(actual)}"


def _under(path: str, prefixes: Iterable[str]) -> bool:
    return any(path.startswith(p) and path != p for p in prefixes)


def _never(*_: Any) -> bool:
    return False


def parent(path: str) -> str:
    """The path one level up: `a.b[]` -> `a.b`, `a.b` -> `a`, `a` -> `` (the root)."""
    if path.endswith("[]"):
        return path[:-2]
    return path.rpartition(".")[0]


def _absent_root(path: str, got: Shape) -> str:
    """The highest ancestor of `path` (or `path` itself) that `got` lacks."""
    while path and parent(path) and parent(path) not in got:
        path = parent(path)
    return path


def compare(
    expected: Any,
    actual: Any,
    *,
    elided: Iterable[str] = (),
    wildcard: Iterable[str] = (),
    may_lack: Callable[[str], bool] = _never,
    may_add: Callable[[str, str], bool] = _never,
    one_form: bool = False,
) -> list[Difference]:
    """Every path where the shapes of `expected` and `actual` differ, sorted by path.

    `may_lack(path)`: `actual` may omit this path altogether (an optional key).
    `may_add(path, type)`: `actual` may carry this JSON type at this path although `expected`
    does not (another real capture shows it). Everything else must match exactly.
    `one_form`: `actual` is one record, not a sample of many, so at a path where the capture
    shows one form (say `""`) `actual` may show another real form (an object), and the keys
    under a form it does not show may be missing.
    """
    elided = tuple(elided)
    wildcard = tuple(wildcard)
    want, got = shape(expected, wildcard), shape(actual, wildcard)
    differences = []
    for path in sorted(set(want) | set(got)):
        if _under(path, elided):
            continue
        a, b = want.get(path, frozenset()), got.get(path, frozenset())
        if a == b:
            continue
        if not b:
            root = _absent_root(path, got)
            if may_lack(root):
                continue
            up = parent(root) if root else None
            if one_form and up is not None and up in got and got[up] != want.get(up):
                continue  # a key under a form the one record does not show
        elif (one_form or not a - b) and all(may_add(path, t) for t in b - a):
            continue
        differences.append(Difference(path, a, b))
    return differences


# ---------------------------------------------------------------------------------------------
# XML: the same idea on the element sequence. Published XML is usually snipped, so a capture may
# hold a head and a tail joined by SNIP; element and attribute names must match, values may not.

SNIP = "…snipped…"
_TAG = re.compile(r"<(/?)([A-Za-z_?][\w:.?-]*)([^<>]*)(?:>|$)")
_ATTR = re.compile(r'([\w:.-]+)="[^"]*"')

Tag = tuple[str, frozenset[str]]


def xml_tags(fragment: str) -> list[Tag]:
    """The tags of an XML fragment in order: ("name" or "/name", attribute names). Text before
    the first `<` (a fragment cut mid-tag) is skipped; a tag cut inside its name is skipped; an
    attribute cut short is not named."""
    start = fragment.find("<")
    if start < 0:
        return []
    tags = []
    for m in _TAG.finditer(fragment, start):
        slash, name, rest = m.groups()
        if not m.group(0).endswith(">") and not rest:
            continue  # cut inside the tag's name: the name is not known
        tags.append((slash + name, frozenset(_ATTR.findall(rest))))
    return tags


def _same_tags(want: list[Tag], got: list[Tag], where: str) -> list[str]:
    if [n for n, _ in want] != [n for n, _ in got]:
        return [f"xml {where}: capture {[n for n, _ in want]}, got {[n for n, _ in got]}"]
    return [
        f"xml {where}: <{n}> lacks attributes {sorted(a - b)}"
        for (n, a), (_, b) in zip(want, got, strict=True)
        if not a <= b
    ]


def compare_xml(expected: str, actual: str) -> list[str]:
    """How `actual` differs from `expected` in element order and attribute names.

    With SNIP in `expected`, only the published head and tail are compared (at the start and at
    the end of `actual`)."""
    got = xml_tags(actual)
    if SNIP not in expected:
        return _same_tags(xml_tags(expected), got, "document")
    head, _, tail = expected.partition(SNIP)
    want_head, want_tail = xml_tags(head), xml_tags(tail)
    found = _same_tags(want_head, got[: len(want_head)], "head")
    found += _same_tags(want_tail, got[len(got) - len(want_tail) :], "tail")
    return found
