"""Fixtures of the sync tests: a simulator, and a harness syncing it into DuckDB under tmp_path."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("dlt")


@pytest.fixture
def sim() -> Iterator[Any]:
    from acme_powerschool.testing import Simulator

    with Simulator(students=40, seed=3) as simulator:
        yield simulator


@pytest.fixture
def harness(sim: Any, tmp_path: Path) -> Any:
    from syncharness import Harness

    return Harness(sim, tmp_path)
