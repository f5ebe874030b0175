"""Test support for the sync: a pipeline into a DuckDB file under tmp_path, and the comparison
of its tables with what the simulator serves over HTTP (read through the client, fresh)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

import acme_powerschool
from acme_powerschool.sync import SyncReport, make_pipeline, powerschool_source, run_sync
from acme_powerschool.sync.rows import flat_row

DATASET = "ps_test"
INTERNAL = ("_dlt_", "_ps_deleted")


def client_for(sim: Any, **options: Any) -> Any:
    return acme_powerschool.api(
        sim.base_url, client_id=sim.client_id, client_secret=sim.client_secret, **options
    )


class Harness:
    """One destination (a DuckDB file) and the pipeline that syncs `sim` into it."""

    def __init__(
        self,
        sim: Any,
        folder: Path,
        *,
        name: str = "sync",
        progress: Any = None,
        client: Any = None,
    ) -> None:
        self.sim = sim
        self.client = client if client is not None else client_for(sim)
        self.folder = folder
        self.db = folder / f"{name}.duckdb"
        self.pipelines_dir = folder / f"{name}-pipelines"
        self.pipeline = make_pipeline(
            dataset=DATASET,
            duckdb_file=self.db,
            pipelines_dir=self.pipelines_dir,
            pipeline_name=f"test_{name}",
            progress=progress,
        )

    def sync(self, *, on_progress: Any = None, **kwargs: Any) -> Any:
        report = SyncReport(on_progress=on_progress)
        source = powerschool_source(self.client, report=report, **kwargs)
        return run_sync(self.pipeline, source, client=self.client, report=report)

    # -- what the warehouse holds ---------------------------------------------------------

    def rows(self, table: str, key: str = "id") -> dict[str, dict[str, Any]]:
        with duckdb.connect(str(self.db), read_only=True) as db:
            types = {
                name: kind
                for name, kind in db.execute(
                    "select column_name, data_type from information_schema.columns "
                    "where table_schema = ? and table_name = ?",
                    [DATASET, table],
                ).fetchall()
            }
            if not types:
                return {}
            cursor = db.execute(f'select * from {DATASET}."{table}"')
            names = [d[0] for d in cursor.description]
            fetched = cursor.fetchall()
            out: dict[str, dict[str, Any]] = {}
            for values in fetched:
                row = {
                    name: canon(value, types[name] == "JSON")
                    for name, value in zip(names, values, strict=True)
                    if not name.startswith(INTERNAL)
                }
                ident = str(row[key])
                assert ident not in out, f"{table}: {key} {ident} loaded twice"
                out[ident] = row
            return out

    def assert_equal(
        self, table: str, expected: dict[str, dict[str, Any]], key: str = "id"
    ) -> None:
        """The warehouse table holds exactly `expected` (rows by key), column for column."""
        loaded = self.rows(table, key)
        assert sorted(loaded) == sorted(expected), f"{table}: ids differ"
        for ident, want in expected.items():
            got = loaded[ident]
            missing = set(want) - set(got)
            assert not missing, f"{table}: columns never loaded: {sorted(missing)}"
            for column, value in got.items():
                assert value == canon(want.get(column), False), (
                    f"{table} {key}={ident} {column}: {value!r} != {want.get(column)!r}"
                )

    # -- what PowerSchool serves ----------------------------------------------------------

    def students(self, expansions: Iterable[str] = ("demographics", "school_enrollment")) -> Any:
        return by_key(self.client.students.list(expansions=list(expansions)), "id")

    def table(self, name: str) -> dict[str, dict[str, Any]]:
        out = {}
        for record in self.client.table(name).query():
            row = {k.lower(): v for k, v in record.values.items()}
            row["id"] = str(record.id)
            out[str(record.id)] = row
        return out

    def powerquery(self, name: str, key: str, args: dict[str, Any] | None = None) -> Any:
        return by_key(self.client.powerquery(name, args=args or {}), key)


def by_key(records: Iterable[Any], key: str) -> dict[str, dict[str, Any]]:
    out = {}
    for record in records:
        row = flat_row(record)
        out[str(row[key])] = row
    return out


def canon(value: Any, is_json: bool) -> Any:
    """One comparable form for a value from DuckDB or from a flattened record."""
    if value is None:
        return None
    if is_json and isinstance(value, str):
        value = json.loads(value)
    if isinstance(value, bool):
        return value
    if isinstance(value, (datetime.date, datetime.datetime)):
        return value.isoformat()
    if isinstance(value, (int, float, Decimal)):
        number = Decimal(str(value)).normalize()
        return str(number.quantize(Decimal(1)) if number == number.to_integral() else number)
    if isinstance(value, (list, dict, tuple)):
        return json.dumps(value, sort_keys=True, default=str)
    return str(value)


def epoch(text: str) -> float:
    """Seconds since the epoch of a UTC `YYYY-MM-DD HH:MM:SS` (the simulator's clock)."""
    moment = datetime.datetime.fromisoformat(text).replace(tzinfo=datetime.timezone.utc)
    return moment.timestamp()
