"""Fixtures of the sync tests: a simulator, and a harness syncing it into DuckDB under tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dlt")


@pytest.fixture
def sim_clock() -> list[float]:
    """The simulator's clock (seconds since the epoch): WHENMODIFIED of a write. Tests move it."""
    return [1_767_600_000.0]  # 2026-01-05 08:00 UTC


@pytest.fixture
def sim(sim_clock: list[float]) -> Iterator[Any]:
    from acme_powerschool.testing import Simulator

    with Simulator(students=40, seed=3, clock=lambda: sim_clock[0]) as simulator:
        yield simulator


@pytest.fixture
def harness(sim: Any, tmp_path: Path) -> Any:
    from syncharness import Harness

    return Harness(sim, tmp_path)
