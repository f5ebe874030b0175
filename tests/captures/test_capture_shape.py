"""The shape comparison the contract tests rest on, tested on its own (hypothesis)."""

from __future__ import annotations

import json
import re
from typing import Any

from capture_evidence import Evidence, family
from capture_shape import SNIP, compare, compare_xml, json_type, parent, shape, xml_tags
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

KEYS = st.sampled_from(
    ["id", "name", "local_id", "school_affiliation", "record", "@extensions", "_name"]
)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=5)
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=3),
        st.dictionaries(KEYS, children, max_size=4),
    ),
    max_leaves=12,
)
OBJECTS = st.dictionaries(KEYS, JSON, min_size=1, max_size=4)

# No deadline (the machine is shared: timing must never fail a test), few but varied examples.
LEAN = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def _other_value_same_type(value: Any, salt: int) -> Any:
    """A different value of the same JSON type (values may differ, shapes may not)."""
    if isinstance(value, bool):
        return not value if salt % 2 else value
    if isinstance(value, int | float):
        return value + salt + 1
    if isinstance(value, str):
        return value + "x" * (salt % 3 + 1)
    if isinstance(value, list):
        return [_other_value_same_type(v, salt + i) for i, v in enumerate(value)]
    if isinstance(value, dict):
        return {k: _other_value_same_type(v, salt) for k, v in reversed(list(value.items()))}
    return value


def _leaf_paths(value: Any, path: str = "") -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out.extend(_leaf_paths(v, f"{path}.{k}" if path else k))
        return out
    return [(path, value)]


@LEAN
@given(JSON)
def test_a_value_has_its_own_shape(value: Any) -> None:
    assert compare(value, value) == []
    assert "" in shape(value)


@LEAN
@given(JSON, st.integers(min_value=0, max_value=5))
def test_values_may_differ(value: Any, salt: int) -> None:
    assert compare(value, _other_value_same_type(value, salt)) == []


@LEAN
@given(JSON)
def test_a_json_round_trip_keeps_the_shape(value: Any) -> None:
    assert compare(value, json.loads(json.dumps(value))) == []


@LEAN
@given(JSON, JSON)
def test_comparison_is_symmetric_in_whether_shapes_differ(a: Any, b: Any) -> None:
    there, back = compare(a, b), compare(b, a)
    assert bool(there) == bool(back)
    assert {d.path for d in there} == {d.path for d in back}


@LEAN
@given(OBJECTS, st.data())
def test_a_changed_leaf_type_is_named(value: dict[str, Any], data: st.DataObject) -> None:
    leaves = [(p, v) for p, v in _leaf_paths(value) if not isinstance(v, list | dict)]
    if not leaves:
        return
    path, old = data.draw(st.sampled_from(leaves))
    new: Any = {"null": 1, "boolean": "true", "number": "1", "string": 1}[json_type(old)]
    changed = json.loads(json.dumps(value))
    target = changed
    *ups, last = path.split(".")
    for key in ups:
        target = target[key]
    target[last] = new
    differences = compare(value, changed)
    assert path in {d.path for d in differences}


@LEAN
@given(OBJECTS, st.sampled_from(["extra", "@expansions", "users_dcid"]), SCALARS)
def test_an_added_key_is_named(value: dict[str, Any], key: str, new: Any) -> None:
    if key in value:
        return
    differences = compare(value, {**value, key: new})
    assert [d.path for d in differences] == [key]
    assert "absent" in str(differences[0])


@LEAN
@given(st.dictionaries(st.sampled_from(["school_id", "type", "status"]), st.integers(), min_size=1))
def test_a_list_of_one_is_not_a_bare_object(item: dict[str, int]) -> None:
    single, listed = {"school_affiliation": item}, {"school_affiliation": [item]}
    assert "school_affiliation" in {d.path for d in compare(single, listed)}
    both = {"staff": [{"a": item}, {"a": [item, item]}]}
    assert shape(both)["staff[].a"] == frozenset({"object", "array"})


@LEAN
@given(st.lists(OBJECTS, min_size=1, max_size=4), st.randoms(use_true_random=False))
def test_element_order_does_not_matter(items: list[dict[str, Any]], rnd: Any) -> None:
    shuffled = list(items)
    rnd.shuffle(shuffled)
    assert compare({"record": items}, {"record": shuffled}) == []


@LEAN
@given(
    st.dictionaries(st.text(min_size=1, max_size=6), st.text(max_size=4), min_size=1, max_size=5)
)
def test_wildcard_keys_compare_columns_as_data(columns: dict[str, str]) -> None:
    want = {"record": [{"_name": "users", "dcid": "1"}]}
    got = {"record": [{"_name": "students", **{f"c{k}": v for k, v in columns.items()}}]}
    assert compare(want, got, wildcard=["record[]"]) == []
    without_name = {"record": [{f"c{k}": v for k, v in columns.items()}]}
    assert [d.path for d in compare(want, without_name, wildcard=["record[]"])] == [
        "record[]._name"
    ]


def test_elided_paths_compare_only_their_own_type() -> None:
    want = {"record": [{"id": 1}]}
    got = {"record": [{"id": 1, "tables": {"students": {"dcid": "1"}}}]}
    assert compare(want, got, elided=["record[]"]) == []
    assert compare(want, {"record": {"id": 1}}, elided=["record[]"]) != []


def test_evidence_excuses_only_what_another_capture_shows() -> None:
    evidence = Evidence()
    evidence.add("v1", {"students": {"student": [{"id": 1, "name": {"first_name": "A"}}]}})
    evidence.add("v1", {"student": {"id": 2, "name": {"first_name": "B", "middle_name": "C"}}})
    capture = {"student": {"id": 3, "name": {"first_name": "D", "middle_name": "E"}}}
    lacking = {"student": {"id": 3, "name": {"first_name": "D"}}}
    inventing = {"student": {"id": 3, "name": {"first_name": "D", "middle_name": "E", "nick": "F"}}}

    def judge(actual: Any) -> list[str]:
        return [
            d.path
            for d in compare(
                capture,
                actual,
                may_lack=lambda p: evidence.may_lack("v1", p),
                may_add=lambda p, t: evidence.may_add("v1", p, t),
            )
        ]

    assert judge(lacking) == []  # some real student has no middle name
    assert judge(inventing) == ["student.name.nick"]  # no real student has a nick
    assert not evidence.may_add("error", "student.name.first_name", "string")  # kinds apart


@LEAN
@given(
    st.sampled_from(["student", "students.student", "students.student[]"]),
    st.sampled_from(["", ".name", ".name.first_name", ".@expansions"]),
)
def test_family_forgets_the_envelope(envelope: str, rest: str) -> None:
    if rest == ".@expansions" and envelope != "student":
        path = "students" + rest
    else:
        path = envelope + rest
    assert family(path) == "student" + rest


@LEAN
@given(st.lists(st.sampled_from(["a", "b", "c"]), min_size=1, max_size=4), st.booleans())
def test_parent_undoes_one_step(keys: list[str], listed: bool) -> None:
    path = ".".join(keys)
    child = path + "[]" if listed else path + ".z"
    assert parent(child) == path


NAMES = st.sampled_from(["schools", "school", "name", "middle_name", "email", "principal"])


@st.composite
def xml_documents(draw: st.DrawFn) -> str:
    """A small well-formed XML document with attributes and text."""

    def element(depth: int) -> str:
        name = draw(NAMES)
        attrs = "".join(
            f' {a}="{draw(st.text("abc, _", max_size=6))}"'
            for a in draw(st.sets(st.sampled_from(["expansions", "extensions"])))
        )
        if depth >= 3 or draw(st.booleans()):
            return f"<{name}{attrs}>{draw(st.text('abcXYZ 1', max_size=5))}</{name}>"
        children = "".join(element(depth + 1) for _ in range(draw(st.integers(1, 3))))
        return f"<{name}{attrs}>{children}</{name}>"

    return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>' + element(0)


def _revalue(doc: str, salt: str) -> str:
    """Other text and attribute values, same elements."""
    doc = re.sub(r'="[^"]*"', f'="{salt}"', doc)
    return re.sub(r">([^<]+)<", f">{salt}<", doc)


@LEAN
@given(xml_documents(), st.text("xyz", min_size=1, max_size=4))
def test_xml_values_may_differ(doc: str, salt: str) -> None:
    assert compare_xml(doc, doc) == []
    assert compare_xml(doc, _revalue(doc, salt)) == []


@LEAN
@given(
    xml_documents(), st.integers(min_value=1, max_value=60), st.integers(min_value=1, max_value=60)
)
def test_a_snipped_capture_checks_its_head_and_tail(doc: str, head: int, tail: int) -> None:
    snipped = doc[: min(head, len(doc))] + SNIP + doc[max(len(doc) - tail, 0) :]
    assert compare_xml(snipped, doc) == []
    assert (
        compare_xml(snipped, doc.replace("</", "</x_")) != []
        or "</" not in doc[max(len(doc) - tail, 0) :]
    )


@LEAN
@given(xml_documents())
def test_a_renamed_element_is_found(doc: str) -> None:
    renamed = re.sub(r"<(/?)school\b", r"<\1campus", doc)
    assert (compare_xml(doc, renamed) == []) == (re.search(r"</?school\b", doc) is None)


def test_xml_tags_skip_a_cut_start_and_an_unfinished_attribute() -> None:
    assert xml_tags("le_name>McQuaid</middle_name><email>a</email>") == [
        ("/middle_name", frozenset()),
        ("email", frozenset()),
        ("/email", frozenset()),
    ]
    assert xml_tags('<schools expansions="a, b" extensions="x') == [
        ("schools", frozenset({"expansions"}))
    ]
