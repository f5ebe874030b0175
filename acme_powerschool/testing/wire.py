"""How the simulator writes bodies: PowerSchool's envelopes, XML, and the XML-to-JSON quirks.

Pure functions over plain dicts; no HTTP and no data. The envelope shapes come from the fact
sheet (§3.2, §4.3, §5.4) and must not be imported from, or shared with, the client side.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from typing import Any
from xml.sax.saxutils import escape, quoteattr

Json = dict[str, Any]

_NUMERIC = re.compile(r"-?(0|[1-9][0-9]{0,17})")


def one_or_many(items: Sequence[Any]) -> Any:
    """PowerSchool's XML heritage: one item is a bare object, several are a list."""
    return items[0] if len(items) == 1 else list(items)


def _at_keys(expansions: str | None, extensions: str | None) -> Json:
    """The "@expansions"/"@extensions" keys; a None value leaves its key out."""
    keys: Json = {}
    if expansions is not None:
        keys["@expansions"] = expansions
    if extensions is not None:
        keys["@extensions"] = extensions
    return keys


def v1_list(
    plural: str,
    singular: str,
    items: Sequence[Json],
    expansions: str | None,
    extensions: str | None,
) -> Json:
    """`{"students":{"@expansions":..,"@extensions":..,"student":[..]}}`; no key for zero items."""
    inner = _at_keys(expansions, extensions)
    if items:
        inner[singular] = one_or_many(items)
    return {plural: inner}


def v1_one(singular: str, item: Json, expansions: str | None, extensions: str | None) -> Json:
    return {singular: {**_at_keys(expansions, extensions), **item}}


def v1_count(n: int) -> Json:
    return {"resource": {"count": n}}


_NUMBER_START = frozenset("-0123456789")


def numbers_from_strings(value: Any) -> Any:
    """The XML→JSON typing quirk: numeric-looking strings without a leading zero become numbers."""
    if isinstance(value, str):
        if value[:1] in _NUMBER_START and _NUMERIC.fullmatch(value):
            return int(value)
        return value
    if isinstance(value, dict):
        return {k: (v if k[:1] == "@" else numbers_from_strings(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [numbers_from_strings(v) for v in value]
    return value


# A JSON string that looks like a number without a leading zero, followed by "," "]" "}" or the
# end (so not a key, which is followed by ":"). `_to_number` also requires ":" "[" "," or the
# start before it (a value, not the end of a longer string: an escaped quote is preceded by a
# backslash). A whole body that is one such string is converted too, as the tree walk does.
_NUMERIC_STRING = re.compile(rb'"(-?(?:0|[1-9][0-9]{0,17}))"(?=[,\]}]|\Z)')


def _to_number(match: re.Match[bytes]) -> bytes:
    start = match.start()
    if start == 0 or match.string[start - 1 : start] in (b":", b"[", b","):
        return str(int(match.group(1))).encode()  # "-0" is 0, as int() makes it
    return match.group(0)


def json_with_numbers(payload: bytes) -> bytes:
    """`numbers_from_strings` on encoded JSON: one regex pass, several times faster."""
    return _NUMERIC_STRING.sub(_to_number, payload)


def dump_json(body: Any) -> bytes:
    return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _xml_scalar(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return escape(str(value))


def _xml_element(name: str, value: Any, out: list[str]) -> None:
    if isinstance(value, list):
        for item in value:
            _xml_element(name, item, out)
        return
    if isinstance(value, dict):
        attrs = "".join(
            f" {k[1:]}={quoteattr(str(v))}" for k, v in value.items() if k.startswith("@")
        )
        out.append(f"<{name}{attrs}>")
        for k, v in value.items():
            if not k.startswith("@"):
                _xml_element(k, v, out)
        out.append(f"</{name}>")
        return
    out.append(f"<{name}>{_xml_scalar(value)}</{name}>")


def dump_xml(body: Any) -> bytes:
    """The same tree as XML: `@key` becomes an attribute, a list repeats its element."""
    out = ['<?xml version="1.0" encoding="UTF-8" standalone="yes"?>']
    if isinstance(body, dict) and len(body) == 1:
        ((name, value),) = body.items()
        _xml_element(name, value, out)
    else:
        _xml_element("response", body, out)
    return "".join(out).encode("utf-8")


def errors_as_xml_tree(body: Json) -> Json:
    """A JSON error body reshaped for XML: `<errors><message/><field>..</field>..</errors>`."""
    tree: Json = {}
    if "message" in body:
        tree["message"] = body["message"]
    errors = body.get("errors")
    if isinstance(errors, list):
        tree["field"] = errors
    for k, v in body.items():
        if k not in ("message", "errors"):
            tree[k] = v
    return {"errors": tree}


MAINTENANCE_HTML = (
    b"<!DOCTYPE html>\n<html><head><title>PowerSchool page unavailable</title></head>"
    b"<body><h1>PowerSchool page unavailable</h1><p>PowerSchool is currently unavailable "
    b"while maintenance is performed. Please try again later.</p></body></html>\n"
)

BAD_GATEWAY_HTML = (
    b"<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway"
    b"</h1></center></body></html>\n"
)
