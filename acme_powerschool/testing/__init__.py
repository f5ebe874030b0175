"""A local PowerSchool SIS simulator for tests, demos and benchmarks, written from the fact sheet.

It must never import the client side of this package (core, client, shell, endpoints, models,
convert, pager): a simulator that shared the client's understanding of PowerSchool would prove
nothing. `Simulator` loads lazily, so the pytest plugin and this import stay cheap.

    with Simulator(students=5000, seed=1) as sim:
        sim.base_url, sim.client_id, sim.client_secret
        sim.stats.requests, sim.stats.token_requests, sim.stats.by_route  # per route name
        sim.inject("/ws/v1/student", "503", times=2)     # scripted faults (see FAULT_KINDS)
        sim.fault_rate(0.1, kinds=["500", "reset"])      # seeded random faults on /ws/
        sim.expire_tokens(); sim.revoke_tokens(); sim.token_lifetime = 0
        sim.latency_ms = 5; sim.throttle_ms = 1000; sim.xml_quirks = True
        sim.grant("attendance", "studentid"); sim.deny("students", "dob"); sim.set_grants([...])
        sim.writes, sim.applied_client_uids()
        sim.mutate("students", "update", 5, {"last_name": "Quartz"}); sim.data_version
        # GET /ws/dataversion/acme_sync/{version}; {"$dataversion": ...} in PowerQuery bodies

Options come in records (options.py: Paging, Timing, Access, Behaviour; dataversion.py:
DataVersionOptions); every field is also a flat keyword. The parts: state.py (what handlers
see), pipeline.py (the steps of a request), faults.py (one record per fault kind), v1.py and
schema.py (the routes), district.py, tables.py and queries.py (the data), server.py (HTTP).

Run one by hand with `python -m acme_powerschool.testing --port 8080 --students 5000 --seed 1`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = ["FAULT_KINDS", "Simulator", "Stats", "Write"]

_LAZY = {
    "Simulator": "acme_powerschool.testing.server",
    "Stats": "acme_powerschool.testing.server",
    "Write": "acme_powerschool.testing.routing",
    "FAULT_KINDS": "acme_powerschool.testing.faults",
}

if TYPE_CHECKING:
    from acme_powerschool.testing.faults import FAULT_KINDS
    from acme_powerschool.testing.routing import Write
    from acme_powerschool.testing.server import Simulator, Stats


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
