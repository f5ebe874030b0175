"""Type names the generated models and helpers share. Declarations only: no I/O, no logic.

The JSON quirks these names stand for are handled in one place, `acme_powerschool.convert`.
"""

from __future__ import annotations

from typing import TypeAlias

__all__ = ["Id", "JsonValue"]

Id: TypeAlias = int | str
"""An id or code PowerSchool may send as a number or a string (`3001` or `"3001"`).

The converter normalises it: a string holding a plain decimal integer (no sign, no leading zero)
becomes an int, so `"3001"` and `3001` give equal models; `"04100000"` and `"TestID"` stay strings.
"""

JsonValue: TypeAlias = "bool | int | float | str | list[JsonValue] | dict[str, JsonValue] | None"
"""Any value `json.loads` can return."""
