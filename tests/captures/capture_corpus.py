"""Load the captures corpus (tests/captures/*.json): real PowerSchool responses with their source."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import attrs

HERE = Path(__file__).resolve().parent

__all__ = ["HERE", "Capture", "load_all", "source_key"]


@attrs.frozen
class Capture:
    """One capture file: where it was published, what was asked, what came back."""

    name: str
    source: Mapping[str, Any]
    kind: str
    notes: str
    request: Mapping[str, Any]
    response: Mapping[str, Any]
    elided: tuple[str, ...] = ()

    @property
    def method(self) -> str:
        return str(self.request["method"])

    @property
    def path(self) -> str:
        return str(self.request["path"])

    @property
    def status(self) -> int:
        return int(self.response["status"])

    @property
    def content_type(self) -> str | None:
        value = self.response.get("content_type")
        return None if value is None else str(value)

    @property
    def body(self) -> Any:
        return self.response.get("body")


def _load(path: Path) -> Capture:
    raw = json.loads(path.read_text(encoding="utf-8"))
    return Capture(
        name=path.stem,
        source=raw["source"],
        kind=raw["kind"],
        notes=raw["notes"],
        request=raw["request"],
        response=raw["response"],
        elided=tuple(raw.get("elided", ())),
    )


def load_all() -> list[Capture]:
    """Every capture, sorted by name."""
    return [_load(p) for p in sorted(HERE.glob("*.json"))]


def source_key(capture: Capture) -> str:
    """The independent source a capture comes from (a repository, a package or a site)."""
    source = capture.source
    for key in ("repository", "package"):
        if key in source:
            return str(source[key])
    url = str(source["url"])
    return url.split("/")[2]
