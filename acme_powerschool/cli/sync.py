"""`acme-powerschool sync`: PowerSchool into DuckDB (or any dlt destination), incrementally.

Presentation only: the options become a `powerschool_source(...)` and a `run_sync(...)` call
from acme_powerschool.sync; this module prints progress and the summary and imports dlt only
when the command runs.
"""

from __future__ import annotations

import datetime
import json
import os
from typing import Any

import click

from acme_powerschool.cli.common import (
    EXIT_USAGE,
    CommandError,
    Connection,
    connection_options,
    echo_err,
)
from acme_powerschool.sync.families import FAMILIES

PROGRESS_EVERY = 1000
"""Rows between two progress lines of one resource."""


def _powerquery_spec(raw: str, keys: dict[str, str]) -> Any:
    from acme_powerschool.sync import PowerQuerySpec

    name, sep, args_text = raw.partition(":")
    args: Any = {}
    if sep:
        try:
            args = json.loads(args_text)
        except ValueError as exc:
            raise CommandError(
                f"--powerquery {name}: the arguments after ':' must be a JSON object ({exc})",
                EXIT_USAGE,
            ) from None
        if not isinstance(args, dict):
            raise CommandError(
                f"--powerquery {name}: the arguments after ':' must be a JSON object", EXIT_USAGE
            )
    return PowerQuerySpec(name.strip(), args=args, primary_key=keys.get(name.strip()))


def _parse_keys(pairs: tuple[str, ...]) -> dict[str, str]:
    keys = {}
    for pair in pairs:
        name, sep, column = pair.rpartition("=")
        if not sep or not name or not column:
            raise CommandError(f"--key wants NAME=COLUMN, got {pair!r}", EXIT_USAGE)
        keys[name.strip()] = column.strip()
    return keys


def _unwrap(exc: BaseException) -> BaseException:
    """The error a dlt step failed on (a PowerSchoolError, a connection error), if there is
    one in the chain; else the dlt error itself."""
    from acme_powerschool.core.errors import PowerSchoolError

    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, PowerSchoolError) or type(current).__module__.startswith("requests"):
            return current
        current = current.__cause__ or current.__context__
    return exc


@click.command(
    name="sync",
    help=(
        "Copy PowerSchool into a warehouse with dlt: DuckDB by default (powerschool.duckdb), "
        "or any dlt destination by name, with dlt's own credential configuration "
        "(.dlt/secrets.toml or environment variables).\n\n"
        "Every table is merged on its key. The first run reads everything; later runs read "
        "what changed: PowerQueries and /ws/v1 families through data versions "
        "(--data-version-app), schema tables through WHENMODIFIED, the rest by a full read "
        "that loads only changed rows. Rows deleted in PowerSchool are deleted (--deletes "
        "mark: kept as a key with _ps_deleted_at). Safe to kill: the next run finishes the "
        "load and then syncs.\n\n"
        "\b\nExamples:\n"
        "  acme-powerschool sync\n"
        "  acme-powerschool sync --resource students --table u_studentsuserfields "
        "--data-version-app acme_sync\n"
        "  acme-powerschool sync --powerquery 'com.acme.sdk.students.by_school:{\"schoolid\":100}'"
        "\n  acme-powerschool sync --destination postgres --dataset powerschool"
    ),
    short_help="Sync PowerSchool into DuckDB or another warehouse (incremental).",
)
@click.option(
    "--destination", default="duckdb", show_default=True, metavar="NAME|FILE.duckdb",
    help="A dlt destination name, or a DuckDB file path ending in .duckdb.",
)  # fmt: skip
@click.option(
    "--dataset", default=None, metavar="NAME",
    help="Dataset (schema) to load into [default: powerschool_data].",
)  # fmt: skip
@click.option(
    "--resource", "resources", multiple=True, type=click.Choice(FAMILIES),
    help="A /ws/v1 family (repeatable; default: all but section_enrollments).",
)  # fmt: skip
@click.option(
    "--table", "tables", multiple=True, metavar="NAME", help="A schema table (repeatable)."
)
@click.option(
    "--powerquery", "powerqueries", multiple=True, metavar="NAME[:JSON]",
    help="A PowerQuery, with its arguments as a JSON object after ':' (repeatable).",
)  # fmt: skip
@click.option(
    "--key", "keys", multiple=True, metavar="NAME=COLUMN",
    help="The column a PowerQuery's rows are merged on (default: its dcid or id column).",
)  # fmt: skip
@click.option(
    "--expansions", default="demographics,school_enrollment", show_default=True,
    metavar="LIST", help="Student expansions to load, comma-separated.",
)  # fmt: skip
@click.option("--full-refresh", is_flag=True, help="Drop the synced tables and state; read all.")
@click.option(
    "--data-version-app", metavar="NAME",
    help="The plugin's data-version application: read only what changed since the last run.",
)  # fmt: skip
@click.option(
    "--deletes", type=click.Choice(["delete", "mark"]), default="delete", show_default=True,
    help="What a row deleted in PowerSchool becomes in the warehouse.",
)  # fmt: skip
@click.option(
    "--reconcile-days", type=click.FloatRange(min=0), default=7.0, show_default=True,
    help="Days between id reconciliations of incremental resources (0: every run).",
)  # fmt: skip
@click.option(
    "--pipelines-dir", metavar="DIR",
    help="Where dlt keeps the pipeline's working state (default: dlt's, ~/.dlt/pipelines).",
)  # fmt: skip
@connection_options
def sync(
    conn: Connection,
    destination: str,
    dataset: str | None,
    resources: tuple[str, ...],
    tables: tuple[str, ...],
    powerqueries: tuple[str, ...],
    keys: tuple[str, ...],
    expansions: str,
    full_refresh: bool,
    data_version_app: str | None,
    deletes: str,
    reconcile_days: float,
    pipelines_dir: str | None,
) -> None:
    # dlt's own log lines (WARNING by default) would interleave with the progress display;
    # only its errors show unless RUNTIME__LOG_LEVEL says otherwise (dlt's own setting).
    os.environ.setdefault("RUNTIME__LOG_LEVEL", "ERROR")
    try:
        from acme_powerschool.sync import (
            DEFAULT_DATASET,
            SyncReport,
            make_pipeline,
            powerschool_source,
            run_sync,
        )
    except ImportError as exc:
        raise CommandError(
            f"sync needs dlt with DuckDB: pip install 'acme-powerschool[sync]' ({exc})"
        ) from None

    key_map = _parse_keys(keys)
    query_specs = [_powerquery_spec(raw, key_map) for raw in powerqueries]
    dataset = dataset or DEFAULT_DATASET
    duckdb_file = None
    if destination.lower().endswith(".duckdb"):
        destination, duckdb_file = "duckdb", destination
    client = conn.client()
    printed: dict[str, int] = {}

    def on_progress(resource: str, rows: int) -> None:
        if rows - printed.get(resource, -PROGRESS_EVERY) >= PROGRESS_EVERY:
            printed[resource] = rows
            echo_err(f"{resource}: {rows} rows read")

    report = SyncReport(on_progress=on_progress)
    try:
        pipeline = make_pipeline(
            destination,
            dataset,
            duckdb_file=duckdb_file,
            pipelines_dir=pipelines_dir,
            progress=None,
        )
        source = powerschool_source(
            client,
            list(resources) if resources else None,
            tables=list(tables),
            powerqueries=query_specs,
            student_expansions=[e.strip() for e in expansions.split(",") if e.strip()],
            data_version_app=data_version_app,
            deletes=deletes,
            reconcile_every=datetime.timedelta(days=reconcile_days),
            report=report,
        )
    except ValueError as exc:
        raise CommandError(str(exc), EXIT_USAGE) from None
    try:
        result = run_sync(pipeline, source, client=client, report=report, full_refresh=full_refresh)
    except Exception as exc:
        cause = _unwrap(exc)
        if cause is exc:
            raise CommandError(f"sync failed: {exc}") from None
        raise cause from None
    if result.finished_pending:
        echo_err("finished loading what an interrupted run had extracted")
    _print_summary(result)


def _print_summary(result: Any) -> None:
    header = ("resource", "method", "read", "inserted", "updated", "deleted")
    rows = [
        (name, c.method, str(c.read), str(c.inserted), str(c.updated), str(c.deleted))
        for name, c in result.resources.items()
    ]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        click.echo(
            "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        )
    click.echo(f"requests: {result.requests}  time: {result.seconds:.1f} s")
