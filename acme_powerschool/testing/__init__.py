"""A local PowerSchool SIS simulator for tests, demos and benchmarks, written from the fact sheet.

It must never import the client side of this package (core, client, shell, endpoints, models):
a simulator that shared the client's understanding of PowerSchool would prove nothing.
`Simulator` loads lazily, so the pytest plugin and `import acme_powerschool.testing` stay cheap.
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
