"""The pytest plugin: fixtures from the entry point, options by marker, cheap import."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests

from acme_powerschool.testing import Simulator


def test_function_fixture_is_running_and_fresh(powerschool_sim: Simulator) -> None:
    assert powerschool_sim.base_url.startswith("http://127.0.0.1:")
    assert powerschool_sim.writes == []
    assert requests.get(powerschool_sim.base_url + "/ws/v1/time", timeout=10).ok


@pytest.mark.powerschool_sim(students=42, seed=9)
def test_marker_sets_options(powerschool_sim: Simulator) -> None:
    assert powerschool_sim.district.student_count == 42
    assert powerschool_sim.seed == 9


def test_shared_fixture(powerschool_sim_shared: Simulator) -> None:
    assert powerschool_sim_shared.district.student_count == 500


def test_plugin_import_does_not_load_the_server() -> None:
    code = (
        "import sys, acme_powerschool.testing.pytest_plugin\n"
        "assert 'acme_powerschool.testing.server' not in sys.modules\n"
        "assert 'http.server' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_simulator_walls() -> None:
    code = (
        "import sys, acme_powerschool.testing as t\n"
        "t.Simulator\n"
        "bad = [m for m in sys.modules if m.startswith(('acme_powerschool.core',"
        " 'acme_powerschool.client', 'acme_powerschool.shell', 'acme_powerschool.endpoints',"
        " 'acme_powerschool.models', 'acme_powerschool.convert', 'acme_powerschool.pager'))]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_base_url_needs_a_running_simulator() -> None:
    sim = Simulator(students=1)
    with pytest.raises(RuntimeError):
        _ = sim.base_url
    sim.start()
    sim.close()
    sim.close()  # idempotent
