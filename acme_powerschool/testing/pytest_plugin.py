"""pytest plugin (entry point `acme_powerschool`): the `powerschool_sim` fixtures.

It imports nothing heavy at load time, because pytest loads it in every session of every project
that has this package installed; the simulator itself is imported only when a fixture is used.

Fixtures:
- `powerschool_sim`: a fresh Simulator per test (state never leaks between tests). Options come
  from `@pytest.mark.powerschool_sim(students=..., seed=..., ...)` (any Simulator keyword).
- `powerschool_sim_shared`: one Simulator for the whole session (500 students, seed 1). Tests
  that use it must not rely on state other tests could change (writes, grants, faults, tokens).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from acme_powerschool.testing.server import Simulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "powerschool_sim(**kwargs): keyword arguments for the powerschool_sim fixture's Simulator",
    )


@pytest.fixture
def powerschool_sim(request: pytest.FixtureRequest) -> Iterator[Simulator]:
    """A running simulator of its own for one test; closed afterwards."""
    from acme_powerschool.testing.server import Simulator

    kwargs: dict[str, Any] = {}
    marker = request.node.get_closest_marker("powerschool_sim")
    if marker is not None:
        kwargs.update(marker.kwargs)
    with Simulator(**kwargs) as sim:
        yield sim


@pytest.fixture(scope="session")
def powerschool_sim_shared() -> Iterator[Simulator]:
    """One running simulator shared by the whole session: read-only use, please."""
    from acme_powerschool.testing.server import Simulator

    with Simulator(students=500, seed=1) as sim:
        yield sim
