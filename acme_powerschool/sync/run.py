"""Running a sync: a dlt pipeline to a destination, a run that first finishes what a killed run
left, then extracts, and a summary of what moved. Loading, merging and state are dlt's.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import attrs

from acme_powerschool.sync.rows import ResourceCounts, SyncReport

if TYPE_CHECKING:
    import dlt
    from dlt.extract.source import DltSource

__all__ = [
    "DEFAULT_DATASET",
    "DEFAULT_DUCKDB_FILE",
    "SyncResult",
    "make_pipeline",
    "run_sync",
]

DEFAULT_DUCKDB_FILE = "powerschool.duckdb"
DEFAULT_DATASET = "powerschool_data"
"""Not "powerschool": a DuckDB file and a dataset of the same name make table names ambiguous."""
PIPELINE_PREFIX = "acme_powerschool"


@attrs.define
class SyncResult:
    """What one `run_sync` did."""

    resources: dict[str, ResourceCounts]
    requests: int
    seconds: float
    finished_pending: bool
    """True when the run first loaded packages a killed or failed run had left."""
    load_info: Any = None


def make_pipeline(
    destination: str = "duckdb",
    dataset: str = DEFAULT_DATASET,
    *,
    duckdb_file: str | os.PathLike[str] | None = None,
    pipeline_name: str | None = None,
    pipelines_dir: str | os.PathLike[str] | None = None,
    progress: Any = "log",
) -> dlt.Pipeline:
    """A dlt pipeline to `destination` (any dlt destination name; its credentials come from
    dlt's own configuration: `.dlt/secrets.toml` or environment variables). For "duckdb" the
    database is `duckdb_file` (default `powerschool.duckdb` in the working directory)."""
    import dlt

    dest: Any = destination
    fresh_file = False
    if destination == "duckdb":
        path = os.path.abspath(os.fspath(duckdb_file or DEFAULT_DUCKDB_FILE))
        stem = os.path.splitext(os.path.basename(path))[0]
        if stem.lower() == dataset.lower():
            raise ValueError(
                f"the DuckDB file {path} and the dataset {dataset!r} have the same name, which "
                "makes DuckDB's table names ambiguous: choose another --dataset"
            )
        dest = dlt.destinations.duckdb(path)
        fresh_file = not os.path.exists(path)
    where: dict[str, Any] = {}
    if pipelines_dir is not None:
        where["pipelines_dir"] = os.fspath(pipelines_dir)
    pipeline: dlt.Pipeline = dlt.pipeline(
        pipeline_name=pipeline_name or f"{PIPELINE_PREFIX}_{dataset}",
        destination=dest,
        dataset_name=dataset,
        progress=progress,
        **where,
    )
    if fresh_file:
        # A new (or deleted) DuckDB file: state left from an earlier file would claim rows and
        # cursors this file does not have. Start the pipeline's local state afresh.
        pipeline = pipeline.drop()
    return pipeline


def run_sync(
    pipeline: dlt.Pipeline,
    source: DltSource | Callable[[], DltSource],
    *,
    client: Any = None,
    report: SyncReport | None = None,
    full_refresh: bool = False,
    clock: Callable[[], float] = time.monotonic,
) -> SyncResult:
    """Finish any load packages a killed run left (dlt's `run` does only that when some are
    pending), then extract, normalise and load `source`. `client` (the api the source reads
    through) lets the result count the requests sent."""
    started = clock()
    requests = [0]

    def count(response: Any, *args: Any, **kwargs: Any) -> None:
        requests[0] += 1

    hooks: list[Any] | None = None
    if client is not None:
        hooks = client.session.hooks.setdefault("response", [])
        hooks.append(count)
    try:
        finished_pending = False
        if pipeline.has_pending_data:
            pipeline.run()
            finished_pending = True
        built = source() if callable(source) and not hasattr(source, "resources") else source
        if report is None:
            from acme_powerschool.sync.source import REPORTS

            report = REPORTS.get(built)
        options: dict[str, Any] = {"refresh": "drop_sources"} if full_refresh else {}
        file_format = _file_format(pipeline)
        if file_format:
            options["loader_file_format"] = file_format
        info = pipeline.run(built, **options)
    finally:
        if hooks is not None:
            hooks.remove(count)
    return SyncResult(
        resources=dict(report.resources) if report is not None else {},
        requests=requests[0],
        seconds=clock() - started,
        finished_pending=finished_pending,
        load_info=info,
    )


def _file_format(pipeline: dlt.Pipeline) -> str | None:
    """Parquet when the destination loads it: DuckDB loads a parquet file many times faster
    than the INSERT statements dlt writes otherwise. (DuckDB is known to: asking dlt for a
    destination's capabilities resolves its configuration, a fifth of a second per run.)"""
    if pipeline.destination.destination_name == "duckdb":
        return "parquet"
    formats = pipeline.destination.capabilities().supported_loader_file_formats
    return "parquet" if "parquet" in formats else None
