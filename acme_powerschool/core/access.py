"""Turning PowerSchool's 403 bodies into the plugin.xml `<field>` lines that fix them.

Understands the PowerQuery body (`Validation Failed` / `No access to the field`, field =
`table.column`), the schema-table body (`NoAccess`, resource = table, field = column) and the
XML form. Never raises, whatever the bytes.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

import attrs

ACCESS_LEVELS = ("ViewOnly", "FullAccess")
# plugin.xml limits table and field names to 30 characters of SQL identifier.
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$#]{0,29}$")
_TAG = re.compile(
    r'<field\s+table="(?P<table>[^"]*)"\s+field="(?P<field>[^"]*)"\s+access="(?P<access>[^"]*)"\s*/>'
)


def _lower(value: str) -> str:
    return str(value).lower()


def _name(_inst: object, attribute: attrs.Attribute[str], value: str) -> None:
    if not _NAME.match(value):
        raise ValueError(f"{attribute.name} is not a valid table or column name: {value!r}")


@attrs.frozen(order=True)
class FieldAccess:
    """One grant a plugin needs: `<field table=".." field=".." access=".." />`."""

    table: str = attrs.field(converter=_lower, validator=_name)
    field: str = attrs.field(converter=_lower, validator=_name)
    access: str = attrs.field(default="ViewOnly", validator=attrs.validators.in_(ACCESS_LEVELS))

    def render(self) -> str:
        from xml.sax.saxutils import quoteattr  # loaded only for a 403 (import stays small)

        return (
            f"<field table={quoteattr(self.table)} field={quoteattr(self.field)} "
            f"access={quoteattr(self.access)} />"
        )


def _from_dotted(text: str) -> FieldAccess | None:
    table, dot, column = text.strip().partition(".")
    if not dot:
        return None
    try:
        return FieldAccess(table, column)
    except (ValueError, TypeError):
        return None


def _from_pair(table: Any, column: Any) -> FieldAccess | None:
    if not isinstance(table, str) or not isinstance(column, str):
        return None
    try:
        return FieldAccess(table.strip(), column.strip())
    except (ValueError, TypeError):
        return None


def _from_entry(entry: Any) -> FieldAccess | None:
    """One error entry: PowerQuery (field=table.column) or schema table (resource+field)."""
    if not isinstance(entry, dict):
        return None
    field = entry.get("field")
    if not isinstance(field, str):
        return None
    if "." in field:
        return _from_dotted(field)
    if entry.get("code") == "NoAccess" or "resource" in entry:
        return _from_pair(entry.get("resource"), field)
    return None


def _json_entries(payload: Any) -> Iterator[FieldAccess | None]:
    if not isinstance(payload, dict):
        return
    errors = payload.get("errors")
    if isinstance(errors, dict):  # the single-object quirk
        errors = [errors]
    if isinstance(errors, list):
        for entry in errors:
            yield _from_entry(entry)


def _local(tag: object) -> str:
    return tag.rsplit("}", 1)[-1].lower() if isinstance(tag, str) else ""


def _xml_entries(text: str) -> Iterator[FieldAccess | None]:
    """`<error>` entries, and `<field>` elements that hold an entry (the schema-table form:
    `<field><code>NoAccess</code><field>col</field><resource>table</resource></field>`) or a
    dotted `table.column` (the PowerQuery form)."""
    import xml.etree.ElementTree as ET  # loaded only for a 403 (import stays small)

    try:
        root = ET.fromstring(text)
    except (ET.ParseError, ValueError):
        return
    for element in root.iter():
        tag = _local(element.tag)
        children = [child for child in element if isinstance(child.tag, str)]
        if tag in ("error", "field") and children:
            yield _from_entry({_local(c.tag): (c.text or "").strip() for c in children})
        elif tag == "field":  # an entry's own <field>col</field> has no dot: it yields None
            yield _from_dotted(element.text or "")


def parse_access_denied(body: bytes | str, content_type: str = "") -> tuple[FieldAccess, ...]:
    """The missing fields named in a 403 body, de-duplicated, in the order first named."""
    try:
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        stripped = text.lstrip()
        found: Iterable[FieldAccess | None]
        if stripped.startswith("<") or "xml" in content_type.lower():
            found = _xml_entries(stripped)
        else:
            try:
                found = _json_entries(json.loads(stripped))
            except (ValueError, RecursionError):
                found = ()
        seen: dict[FieldAccess, None] = {}
        for item in found:
            if item is not None:
                seen.setdefault(item, None)
        return tuple(seen)
    except RecursionError:
        return ()


def render_access_requests(fields: Iterable[FieldAccess]) -> str:
    """The `<field .../>` lines, one per field, ready to paste into `<access_request>`."""
    unique = dict.fromkeys(fields)
    return "\n".join(field.render() for field in unique)


def parse_access_requests(text: str) -> tuple[FieldAccess, ...]:
    """Read rendered `<field .../>` lines back (the inverse of render_access_requests)."""
    return tuple(FieldAccess(m["table"], m["field"], m["access"]) for m in _TAG.finditer(text))


def access_request_block(fields: Iterable[FieldAccess]) -> str:
    """A whole `<access_request>` element, fields sorted and de-duplicated."""
    lines = "\n".join("    " + f.render() for f in sorted(set(fields)))
    return f"<access_request>\n{lines}\n</access_request>"
