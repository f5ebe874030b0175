"""What the whole corpus shows about each resource: the keys and JSON types real servers send.

One capture is a sample: a real student without a middle name does not prove that students have
none. So the simulator contract allows two things, and only on the corpus's evidence:

- the simulator may OMIT a key when some real record of the same resource lacks it too
  (an optional key), and
- the simulator may SEND a key or type that this capture lacks when another capture of the
  same resource shows it.

Resources are compared across envelopes: `students.student[]`, `students.student` (one record
in a list) and `student` (one record by id) are all the `student` resource; `results.result`
and `results.result[]` are `result`; `record[]` is `record`. Pure: captures in, predicates out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from capture_shape import json_type, parent

__all__ = ["Evidence", "family", "kind"]

PLURALS = {
    "students": "student",
    "staffs": "staff",
    "schools": "school",
    "sections": "section",
    "terms": "term",
    "courses": "course",
    "section_enrollments": "section_enrollment",
}
SINGULARS = frozenset(PLURALS.values()) | {"district"}


def _split(path: str) -> tuple[str, str]:
    head, _, rest = path.partition(".")
    return head, rest


def family(path: str) -> str:
    """`path` with its envelope replaced by the resource's name (see the module docstring)."""
    head, rest = _split(path)
    bare = head.removesuffix("[]")
    if bare in PLURALS:
        singular = PLURALS[bare]
        inner, after = _split(rest)
        if inner.removesuffix("[]") == singular:
            return f"{singular}.{after}" if after else singular
        return f"{singular}.{rest}" if rest else singular
    if bare == "results":
        inner, after = _split(rest)
        if inner.removesuffix("[]") == "result":
            return f"result.{after}" if after else "result"
        return path
    if bare == "record" or bare in SINGULARS:
        return f"{bare}.{rest}" if rest else bare
    return path


def kind(method: str, path: str, status: int) -> str:
    """The kind of answer a request gets; evidence is only shared within one kind."""
    if status >= 400:
        return "error"
    if path.startswith("/oauth/"):
        return "token"
    if path.startswith("/ws/schema/query/"):
        return "count" if path.endswith("/count") else "powerquery"
    if path.startswith("/ws/schema/table/"):
        return "count" if path.endswith("/count") else "schema"
    if path.startswith("/ws/dataversion/"):
        return "dataversion"
    if method == "POST" and path.rstrip("/") == "/ws/v1/student":
        return "write"
    if path.endswith("/count"):
        return "count"
    return "v1"


class Evidence:
    """Keys, types and optional keys per (kind of answer, resource path), over many bodies."""

    def __init__(self) -> None:
        self.types: dict[tuple[str, str], set[str]] = {}
        self.keysets: dict[tuple[str, str], list[frozenset[str]]] = {}

    def add(
        self,
        answer_kind: str,
        body: Any,
        wildcard: Iterable[str] = (),
        elided: Iterable[str] = (),
    ) -> None:
        """Learn from one body; under `elided` paths the source left values out (not evidence)."""
        self._elided = frozenset(elided)
        self._walk(answer_kind, body, "", frozenset(wildcard))

    _elided: frozenset[str] = frozenset()

    def _walk(self, k: str, value: Any, path: str, wildcard: frozenset[str]) -> None:
        fam = (k, family(path))
        self.types.setdefault(fam, set()).add(json_type(value))
        if path in self._elided:
            return
        if isinstance(value, Mapping):
            keys = []
            for key, child in value.items():
                key = str(key)
                if path in wildcard and not key.startswith(("_", "@")):
                    key = "*"
                keys.append(key)
                self._walk(k, child, f"{path}.{key}" if path else key, wildcard)
            self.keysets.setdefault(fam, []).append(frozenset(keys))
        elif isinstance(value, list):
            for child in value:
                self._walk(k, child, f"{path}[]", wildcard)

    def may_lack(self, answer_kind: str, path: str) -> bool:
        """Some real object of the same resource lacks this key."""
        if path.endswith("[]") or not path:
            return False
        key = path.rpartition(".")[2]
        objects = self.keysets.get((answer_kind, family(parent(path))), ())
        return any(key not in keys for keys in objects)

    def may_add(self, answer_kind: str, path: str, json_type_name: str) -> bool:
        """Some real body shows this JSON type at this resource path."""
        return json_type_name in self.types.get((answer_kind, family(path)), ())
