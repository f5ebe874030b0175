"""Type names the generated models and helpers share, and the schema-table row record.
Declarations only: no I/O, no logic, no import of the package's other modules.

The JSON quirks these names stand for are handled in one place, `acme_powerschool.convert`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import attrs

__all__ = ["Id", "JsonValue", "TableRecord"]

Id: TypeAlias = int | str
"""An id or code PowerSchool may send as a number or a string (`3001` or `"3001"`).

The converter normalises it: a string holding a plain decimal integer (no sign, no leading zero)
becomes an int, so `"3001"` and `3001` give equal models; `"04100000"` and `"TestID"` stay strings.
"""

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
"""Any value `json.loads` can return."""


@attrs.frozen
class TableRecord:
    """One row of a schema table: its `id` and its column values (strings; `""` read as None)."""

    id: Id
    table: str
    values: Mapping[str, str | None]

    def __getitem__(self, column: str) -> str | None:
        return self.values[column.lower()] if column.lower() in self.values else self.values[column]
