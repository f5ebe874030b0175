"""`acme_powerschool.sync`: PowerSchool into a warehouse with dlt (extra `sync`: dlt + DuckDB).

    from acme_powerschool.sync import make_pipeline, powerschool_source, run_sync
    pipeline = make_pipeline()                      # powerschool.duckdb, dataset powerschool_data
    result = run_sync(pipeline, powerschool_source(ps), client=ps)

Loads lazily: importing this package imports no dlt until a name that needs it is used, and
`import acme_powerschool` never imports this package.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "DEFAULT_DATASET",
    "DEFAULT_DUCKDB_FILE",
    "DEFAULT_RESOURCES",
    "FAMILIES",
    "PowerQuerySpec",
    "ResourceCounts",
    "SyncReport",
    "SyncResult",
    "TableSpec",
    "make_pipeline",
    "powerschool_source",
    "run_sync",
]

_LAZY = {
    "DEFAULT_RESOURCES": "acme_powerschool.sync.source",
    "FAMILIES": "acme_powerschool.sync.source",
    "PowerQuerySpec": "acme_powerschool.sync.source",
    "TableSpec": "acme_powerschool.sync.source",
    "powerschool_source": "acme_powerschool.sync.source",
    "ResourceCounts": "acme_powerschool.sync.rows",
    "SyncReport": "acme_powerschool.sync.rows",
    "DEFAULT_DATASET": "acme_powerschool.sync.run",
    "DEFAULT_DUCKDB_FILE": "acme_powerschool.sync.run",
    "SyncResult": "acme_powerschool.sync.run",
    "make_pipeline": "acme_powerschool.sync.run",
    "run_sync": "acme_powerschool.sync.run",
}

if TYPE_CHECKING:
    from acme_powerschool.sync.rows import ResourceCounts, SyncReport
    from acme_powerschool.sync.run import (
        DEFAULT_DATASET,
        DEFAULT_DUCKDB_FILE,
        SyncResult,
        make_pipeline,
        run_sync,
    )
    from acme_powerschool.sync.source import (
        DEFAULT_RESOURCES,
        FAMILIES,
        PowerQuerySpec,
        TableSpec,
        powerschool_source,
    )


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
