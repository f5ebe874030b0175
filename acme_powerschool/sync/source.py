"""`powerschool_source(client, ...)`: a dlt source over our pagers and models.

A thin adapter: every request goes through the client (`ps.students...`, `ps.table(...)`,
`ps.powerquery(...)`, `ps.get(...)`), every value is typed by the client's converter, every
column hint comes from the models (sync/columns.py). dlt does the rest: extract, normalise,
merge on the primary key, resource state, load packages. Nothing here writes a file.
"""

from __future__ import annotations

import datetime
import functools
import weakref
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import dlt

from acme_powerschool.core.errors import NotFound
from acme_powerschool.sync import batches, dataversion
from acme_powerschool.sync.columns import model_columns, text_columns
from acme_powerschool.sync.families import DEFAULT_RESOURCES, FAMILIES
from acme_powerschool.sync.rows import (
    DELETED_AT_COLUMN,
    DELETED_COLUMN,
    SyncReport,
    Tracker,
    flat_row,
)

if TYPE_CHECKING:
    from dlt.extract.source import DltSource

    from acme_powerschool.client import api

__all__ = [
    "DEFAULT_RESOURCES",
    "DEFAULT_STUDENT_EXPANSIONS",
    "FAMILIES",
    "PowerQuerySpec",
    "TableSpec",
    "powerschool_source",
]

DEFAULT_STUDENT_EXPANSIONS = ("demographics", "school_enrollment")

REPORTS: weakref.WeakKeyDictionary[Any, SyncReport] = weakref.WeakKeyDictionary()
"""The report each source fills, so `run_sync` can return its counts without being given it."""

# Every table is merged on its primary key (delete-insert), NOT declared "deduplicated" although
# a run never hands dlt one key twice: a copy into the staging table that a kill interrupts
# after DuckDB committed it runs again on the rerun, and dlt's deduplication drops the second
# copy (the kill test found it when the declaration was tried).

ID_BATCH = 100
"""Changed ids fetched per `q=id==(...)` request (a URL of about 800 characters)."""


@attrs.frozen
class TableSpec:
    """A schema table (`/ws/schema/table/{name}`), core or extension.

    `cursor` names a modification-time column (WHENMODIFIED on most core tables): after the
    first run only rows modified since the last seen value, minus `overlap`, are read. "auto"
    uses WHENMODIFIED when the rows have it; None always reads the whole table.
    """

    name: str
    primary_key: str = "id"
    cursor: str | None = "auto"
    resource: str | None = None
    reconcile: bool | None = None
    """Id reconciliation after an incremental read: None on the source's schedule, True every
    run, False never."""

    @property
    def resource_name(self) -> str:
        return self.resource or f"table_{self.name.lower()}"


@attrs.frozen
class PowerQuerySpec:
    """A PowerQuery by name with its arguments. `primary_key` is a column of its rows
    (`students.dcid`, or `dcid` for a flattened query); by default the first `dcid`, then `id`
    column of the first row. With data versions, the ids listed for the core table that do not
    come back are deleted (assumed: those ids are the key column's values)."""

    name: str
    args: Mapping[str, Any] = attrs.field(factory=dict)
    primary_key: str | None = None
    resource: str | None = None
    core_table: str | None = None
    """The query's core table, whose deleted ids data versions list (default: the table of a
    grouped key column, `students` for `students.dcid`)."""

    @property
    def resource_name(self) -> str:
        return self.resource or "pq_" + self.name.replace(".", "_").replace("-", "_").lower()


@attrs.frozen
class _Options:
    client: Any
    report: SyncReport
    deletes: str
    now: datetime.datetime
    overlap: datetime.timedelta
    reconcile_every: datetime.timedelta | None
    data_version_app: str | None
    prefetch: int | None
    student_expansions: tuple[str, ...]
    answers: dict[tuple[str, str], dataversion.Changes] = attrs.field(factory=dict)

    def changes(self, app: str, version: str) -> dataversion.Changes:
        """`/ws/dataversion/{app}/{version}`, asked once per run for all resources."""
        key = (app, version)
        if key not in self.answers:
            self.answers[key] = dataversion.changes(self.client, app, version)
        return self.answers[key]

    def tracker(self, resource: str, key: str) -> Tracker:
        return Tracker(
            dlt.current.resource_state(),
            resource,
            self.report,
            key=key,
            deletes=self.deletes,
            now=self.now,
        )

    def due_for_reconcile(self, state: Mapping[str, Any]) -> bool:
        if self.reconcile_every is None:
            return False
        last = state.get("reconciled_at")
        if self.reconcile_every <= datetime.timedelta(0):
            return True
        if not last:
            return True
        return self.now - datetime.datetime.fromisoformat(last) >= self.reconcile_every


def _deletion_columns(deletes: str) -> dict[str, Any]:
    """The delete column, and dlt's own columns with the hints dlt gives them (the Arrow tables
    carry them as dict rows get them)."""
    from dlt.common.schema.utils import dlt_id_column, dlt_load_id_column

    own: dict[str, Any] = {
        batches.DLT_ID: dlt_id_column(),
        batches.DLT_LOAD_ID: dlt_load_id_column(),
    }
    if deletes == "mark":
        return {DELETED_AT_COLUMN: {"data_type": "timestamp", "nullable": True}, **own}
    return {DELETED_COLUMN: {"data_type": "bool", "nullable": True, "hard_delete": True}, **own}


def _tombstones(tracker: Tracker, idents: Sequence[str], schema: Any = None) -> Any:
    """An Arrow table deleting (or marking) `idents`, or None for none; the key typed as in
    `schema` (None: text)."""
    if not idents:
        return None
    key_type = schema.field(tracker.key).type if schema is not None else None
    value: Any
    if tracker.deletes == "mark":
        column, value = DELETED_AT_COLUMN, tracker.now
    else:
        column, value = DELETED_COLUMN, True
    return batches.tombstone_table(tracker.key, key_type, idents, column, value)


def _model_pages(tracker: Tracker, page: Sequence[Any]) -> Iterator[Any]:
    """The records of one page as columns with the positions of the new or changed ones; the
    records the Arrow path cannot take exactly (a field the model does not know, a free-form
    value) as changed dict rows. A record goes one way or the other by itself, never by its
    neighbours, so its fingerprint does not change when pages shift."""
    records = list(page)
    if not records:
        return
    columns = batches.model_columns(records)
    if columns is None:
        regular: list[Any] = []
        irregular: list[Any] = []
        for record in records:
            (irregular if batches.model_columns([record]) is None else regular).append(record)
        yield tracker.changed(irregular)
        if not regular:
            return
        records, columns = regular, batches.model_columns(regular)
        if columns is None:  # not for real records (each alone was regular); a test's fake
            yield tracker.changed(records)
            return
    prints = tracker.prints(len(records), lambda: batches.fingerprints(columns))
    yield columns, tracker.keep(columns[tracker.key], prints)


def _text_page(tracker: Tracker, rows: list[dict[str, Any]]) -> Any:
    """Rows of strings (schema tables, PowerQueries) as text columns of the new or changed
    ones."""
    prints = tracker.prints(len(rows), lambda: [batches.row_fingerprint(row) for row in rows])
    keep = tracker.keep([row.get(tracker.key) for row in rows], prints)
    return batches.text_columns([rows[i] for i in keep]), range(len(keep))


def _gathered(pages: Iterable[Any], schema: Any = None) -> Iterator[Any]:
    """Pages of (columns, rows to keep) gathered into Arrow tables of many pages each (dlt's
    cost is per item); dict rows as they are, after what was gathered before them."""
    pending = batches.Pending(schema)
    for page in pages:
        if not page:
            continue
        if isinstance(page, list):
            ready = pending.flush()
            if ready is not None:
                yield ready
            yield page
            continue
        ready = pending.add(*page)
        if ready is not None:
            yield ready
    ready = pending.flush()
    if ready is not None:
        yield ready


def powerschool_source(
    client: api,
    resources: Sequence[str] | None = None,
    *,
    tables: Sequence[str | TableSpec] = (),
    powerqueries: Sequence[str | PowerQuerySpec] = (),
    student_expansions: Sequence[str] = DEFAULT_STUDENT_EXPANSIONS,
    data_version_app: str | None = None,
    deletes: str = "delete",
    reconcile_every: datetime.timedelta | None = datetime.timedelta(days=7),
    overlap: datetime.timedelta = datetime.timedelta(days=1),
    now: datetime.datetime | None = None,
    report: SyncReport | None = None,
    prefetch: int | None = None,
) -> DltSource:
    """A dlt source reading PowerSchool through `client` (an `acme_powerschool.api`).

    `resources` picks /ws/v1 families (FAMILIES; DEFAULT_RESOURCES when None and no table or
    PowerQuery is given), `tables` schema tables and `powerqueries` PowerQueries. Every table
    is merged on its primary key. `deletes`: "delete" removes a row deleted in PowerSchool,
    "mark" keeps its key with `_ps_deleted_at`. `data_version_app` names the plugin's
    data-version application: PowerQueries then read only what changed, and families learn
    their changed ids from `/ws/dataversion`. Resources read incrementally reconcile their ids
    (an id-only read) when `reconcile_every` has passed since the last time (None: never).
    `prefetch` is the pagers' (None: the client's adaptive window; 0: one request at a time).
    """
    if deletes not in ("delete", "mark"):
        raise ValueError(f'deletes must be "delete" or "mark", not {deletes!r}')
    if resources is None:
        resources = () if (tables or powerqueries) else DEFAULT_RESOURCES
    unknown = [name for name in resources if name not in FAMILIES]
    if unknown:
        raise ValueError(f"unknown resources {unknown}: choose from {list(FAMILIES)}")
    options = _Options(
        client=client,
        report=report if report is not None else SyncReport(),
        deletes=deletes,
        now=now or datetime.datetime.now(datetime.timezone.utc),
        overlap=overlap,
        reconcile_every=reconcile_every,
        data_version_app=data_version_app,
        prefetch=prefetch,
        student_expansions=tuple(student_expansions),
    )
    table_specs = [t if isinstance(t, TableSpec) else TableSpec(t) for t in tables]
    query_specs = [q if isinstance(q, PowerQuerySpec) else PowerQuerySpec(q) for q in powerqueries]
    names = [
        *resources,
        *(spec.resource_name for spec in table_specs),
        *(spec.resource_name for spec in query_specs),
    ]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"two resources would load into the same table: {duplicates}")

    school_ids = functools.cache(lambda: [school.id for school in client.schools.list()])
    built = [
        *(_family_resource(options, name, school_ids) for name in resources),
        *(_table_resource(options, spec) for spec in table_specs),
        *(_powerquery_resource(options, spec) for spec in query_specs),
    ]

    @dlt.source(name="powerschool", max_table_nesting=0, root_key=False)
    def powerschool() -> Any:
        return built

    source = powerschool()
    REPORTS[source] = options.report  # run_sync finds the counts of the source it ran
    # PowerSchool's strings stay strings: a date-looking text column must not become a timestamp.
    source.schema.remove_type_detection("iso_timestamp")
    return source


# -- /ws/v1 families ------------------------------------------------------------------------


@attrs.frozen
class _Family:
    model: str  # "module:Class" under acme_powerschool.models
    table: str  # the PowerSchool table data versions report its changes under
    pages: Callable[[_Options, Callable[[], list[Any]]], Iterator[Sequence[Any]]]
    fetch_ids: Callable[[_Options, list[str]], Iterator[Sequence[Any]]]
    key: str = "id"  # the district has no id on real servers (captures): its uuid is the key


def _per_school(method: str, **kwargs: Any) -> Callable[..., Iterator[Sequence[Any]]]:
    family, _, call = method.partition(".")

    def pages(options: _Options, school_ids: Callable[[], list[Any]]) -> Iterator[Sequence[Any]]:
        accessor = getattr(options.client, family)
        for school_id in school_ids():
            pager = getattr(accessor, call)(school_id, prefetch=options.prefetch, **kwargs)
            yield from pager.iter_pages()

    return pages


def _one_by_one(family: str) -> Callable[[_Options, list[str]], Iterator[Sequence[Any]]]:
    def fetch(options: _Options, ids: list[str]) -> Iterator[Sequence[Any]]:
        getter = getattr(options.client, family).get
        for ident in ids:
            try:
                yield [getter(ident)]
            except NotFound:
                continue

    return fetch


def _students_pages(options: _Options, school_ids: Callable[[], list[Any]]) -> Iterator[Any]:
    for school_id in school_ids():
        pager = options.client.schools.students(
            school_id, expansions=options.student_expansions, prefetch=options.prefetch
        )
        yield from pager.iter_pages()


def _students_by_id(options: _Options, ids: list[str]) -> Iterator[Sequence[Any]]:
    for start in range(0, len(ids), ID_BATCH):
        batch = ids[start : start + ID_BATCH]
        pager = options.client.students.list(
            q=f"id==({','.join(batch)})", expansions=options.student_expansions
        )
        yield from pager.iter_pages()


def _district_pages(options: _Options, school_ids: Callable[[], list[Any]]) -> Iterator[Any]:
    yield [options.client.schools.district()]


def _schools_pages(options: _Options, school_ids: Callable[[], list[Any]]) -> Iterator[Any]:
    yield from options.client.schools.list(prefetch=options.prefetch).iter_pages()


def _enrollment_pages(options: _Options, school_ids: Callable[[], list[Any]]) -> Iterator[Any]:
    for section_pages in _per_school("sections.for_school")(options, school_ids):
        for section in section_pages:
            yield from options.client.sections.enrollments(section.id).iter_pages()


def _enrollments_by_id(options: _Options, ids: list[str]) -> Iterator[Sequence[Any]]:
    for ident in ids:
        try:
            yield [options.client.sections.enrollment(ident)]
        except NotFound:
            continue


_FAMILIES: dict[str, _Family] = {
    "district": _Family(
        "schools:District", "district", _district_pages, _one_by_one("schools"), key="uuid"
    ),
    "schools": _Family("schools:School", "schools", _schools_pages, _one_by_one("schools")),
    "students": _Family("students:Student", "students", _students_pages, _students_by_id),
    "staff": _Family(
        "staff:StaffMember", "users", _per_school("staff.for_school"), _one_by_one("staff")
    ),
    "sections": _Family(
        "sections:Section", "sections", _per_school("sections.for_school"), _one_by_one("sections")
    ),
    "section_enrollments": _Family(
        "sections:SectionEnrollment", "cc", _enrollment_pages, _enrollments_by_id
    ),
    "terms": _Family("terms:Term", "terms", _per_school("terms.for_school"), _one_by_one("terms")),
    "courses": _Family(
        "courses:Course", "courses", _per_school("courses.for_school"), _one_by_one("courses")
    ),
}


def _model(path: str) -> type[Any]:
    import importlib

    module, _, name = path.partition(":")
    model: type[Any] = getattr(importlib.import_module(f"acme_powerschool.models.{module}"), name)
    return model


def _family_resource(options: _Options, name: str, school_ids: Callable[[], list[Any]]) -> Any:
    family = _FAMILIES[name]
    key = family.key
    model = _model(family.model)
    columns = {**model_columns(model, key), **_deletion_columns(options.deletes)}

    def read() -> Iterator[Any]:
        tracker = options.tracker(name, key)
        app = options.data_version_app
        state = tracker.state
        version = state.get("dataversion")
        schema = batches.model_schema(model, key)
        if app and version is not None and name != "district":
            yield from _family_changes(options, family, tracker, app, version, schema)
            return
        options.report.counts(name).method = "full read"
        if app and name != "district":  # learn the version before reading, so nothing slips
            state["dataversion"] = options.changes(app, "0").version
            tracker.fingerprinted = False  # later runs read what the server lists as changed
        yield from _gathered(
            (
                part
                for page in family.pages(options, school_ids)
                for part in _model_pages(tracker, page)
            ),
            schema,
        )
        tombs = _tombstones(tracker, tracker.finish_full(), schema)
        if tombs is not None:
            yield tombs
        state["reconciled_at"] = options.now.isoformat()

    return dlt.resource(
        read,
        name=name,
        primary_key=key,
        write_disposition="merge",
        columns=columns,
    )()


def _family_changes(
    options: _Options, family: _Family, tracker: Tracker, app: str, version: str, schema: Any
) -> Iterator[Any]:
    """The rows of the ids changed since `version`; a changed id that no longer reads is gone.
    The new cursor is the version the server answered before the rows were read."""
    counts = options.report.counts(tracker.resource)
    counts.method = "data version"
    changes = options.changes(app, version)
    ids = [str(i) for i in changes.tables.get(family.table, ())]
    pages = family.fetch_ids(options, list(dict.fromkeys(ids)))
    yield from _gathered((part for page in pages for part in _model_pages(tracker, page)), schema)
    gone = tracker.gone(ident for ident in ids if ident not in tracker.seen)
    if options.due_for_reconcile(tracker.state):
        counts.method += " + id reconciliation"
        gone += tracker.reconcile(_family_ids(options, family, tracker.resource))
        tracker.state["reconciled_at"] = options.now.isoformat()
    tombs = _tombstones(tracker, gone, schema)
    if tombs is not None:
        yield tombs
    tracker.finish_incremental()
    tracker.state["dataversion"] = changes.version


def _family_ids(options: _Options, family: _Family, resource: str) -> Iterator[Any]:
    """Every id of a family, as cheaply as the server allows."""
    if resource == "students":  # an id-only schema-table read
        for record in options.client.table("students").query(
            projection=("dcid",), prefetch=options.prefetch
        ):
            yield record["dcid"]
        return
    for page in family.pages(options, functools.cache(lambda: list(_school_ids(options)))):
        for record in page:
            yield record.id


def _school_ids(options: _Options) -> Iterator[Any]:
    for school in options.client.schools.list():
        yield school.id


# -- schema tables --------------------------------------------------------------------------


def _cursor_start(cursor: str, overlap: datetime.timedelta) -> str | None:
    """The q value to read from: the last cursor's date minus the overlap (ISO dates only)."""
    try:
        day = datetime.date.fromisoformat(cursor[:10])
    except ValueError:
        return None
    start = datetime.datetime.combine(day, datetime.time()) - overlap
    return start.date().isoformat()


def _table_resource(options: _Options, spec: TableSpec) -> Any:
    name = spec.resource_name
    key = spec.primary_key.lower()

    def read() -> Iterator[Any]:
        tracker = options.tracker(name, key)
        state = tracker.state
        table = options.client.table(spec.name)
        counts = options.report.counts(name)
        cursor_column = state.get("cursor_column")
        cursor = state.get("cursor")
        start = _cursor_start(cursor, options.overlap) if cursor_column and cursor else None
        if start is None:
            counts.method = "full read"
            pager = table.query(prefetch=options.prefetch)
        else:
            counts.method = f"{cursor_column} since {start}"
            pager = table.query(q=f"{cursor_column}=ge={start}", prefetch=options.prefetch)
        newest = cursor
        wanted = spec.cursor if spec.cursor not in (None, "auto") else "whenmodified"

        def pages() -> Iterator[Any]:
            nonlocal newest, cursor_column
            for page in pager.iter_pages():
                rows = [_table_row(record, key) for record in page]
                if spec.cursor is not None:
                    for row in rows:
                        value = row.get(wanted.lower())
                        if value and (newest is None or str(value) > newest):
                            newest, cursor_column = str(value), wanted.lower()
                yield _text_page(tracker, rows)

        yield from (batches.key_not_null(t, key) for t in _gathered(pages()))
        if start is None:
            gone = tracker.finish_full()
            state["reconciled_at"] = options.now.isoformat()
        else:
            gone = []
            due = options.due_for_reconcile(state) if spec.reconcile is None else spec.reconcile
            if due:
                counts.method += " + id reconciliation"
                present = (
                    record.values.get(key, record.id) if key != "id" else record.id
                    for record in table.query(projection=(spec.primary_key,))
                )
                gone = tracker.reconcile(present)
                state["reconciled_at"] = options.now.isoformat()
            tracker.finish_incremental()
        tombs = _tombstones(tracker, gone)
        if tombs is not None:
            yield tombs
        if cursor_column and newest:
            state["cursor_column"], state["cursor"] = cursor_column, newest

    columns = {**text_columns([key]), **_deletion_columns(options.deletes)}
    columns[key] = {**columns[key], "nullable": False}
    return dlt.resource(
        read, name=name, primary_key=key, write_disposition="merge", columns=columns
    )()


def _keyed(item: Any, key: str) -> Any:
    """`item` with hints naming `key` the primary key (a PowerQuery's key is known only from
    its first row); its columns are text already."""
    columns = {key: {"data_type": "text", "nullable": False}}
    return dlt.mark.with_hints(item, dlt.mark.make_hints(primary_key=key, columns=columns))


def _table_row(record: Any, key: str) -> dict[str, Any]:
    row = {column.lower(): value for column, value in record.values.items()}
    if key == "id":
        row["id"] = str(record.id)
    return row


# -- PowerQueries ---------------------------------------------------------------------------


def _guess_key(row: Mapping[str, Any]) -> str | None:
    for suffix in ("dcid", "id"):
        for column in row:
            if column == suffix or column.endswith(f"__{suffix}"):
                return column
    return None


def _powerquery_pages(
    options: _Options, spec: PowerQuerySpec, version: str | None, answered: dict[str, str]
) -> tuple[Iterable[Sequence[Any]], dataversion.Changes | None]:
    """The pages to read and, with a data version, the changes asked for before them."""
    app = options.data_version_app
    counts = options.report.counts(spec.resource_name)
    if app and version is not None:
        counts.method = "data version"
        changes = options.changes(app, version)  # before the rows: nothing slips between
        pages = dataversion.powerquery_changes(
            options.client, spec.name, spec.args, app, version, answered,
            prefetch=options.prefetch,
        )  # fmt: skip
        return pages, changes
    counts.method = "full read"
    if app:  # the version before the rows: what changes while paging is read again
        answered["version"] = options.changes(app, "0").version
    pager = options.client.powerquery(spec.name, args=dict(spec.args), prefetch=options.prefetch)
    return pager.iter_pages(), None


def _key_of(spec: PowerQuerySpec, row: Mapping[str, Any]) -> str:
    key = _guess_key(row)
    if key is None:
        raise ValueError(
            f"PowerQuery {spec.name}: no dcid or id column to merge on; name one "
            f"with PowerQuerySpec(primary_key=...) (columns: {sorted(row)})"
        )
    return key


def _powerquery_resource(options: _Options, spec: PowerQuerySpec) -> Any:
    name = spec.resource_name
    configured_key = spec.primary_key.replace(".", "__") if spec.primary_key else None

    def read() -> Iterator[Any]:
        state = dlt.current.resource_state()
        key: str | None = configured_key or state.get("key")
        version = state.get("dataversion") if options.data_version_app else None
        answered: dict[str, str] = {}
        pages, changes = _powerquery_pages(options, spec, version, answered)
        tracker: Tracker | None = None
        # a full read whose later runs read by data version keeps no fingerprints
        fingerprinted = not (changes is None and "version" in answered)

        def tables() -> Iterator[Any]:
            nonlocal key, tracker
            for page in pages:
                records = list(page)
                if not records:
                    continue
                fast = batches.flat_text_columns(records, fingerprinted)
                if fast is not None:  # the common page: no dict per row
                    columns, prints = fast
                    key = key or _key_of(spec, dict.fromkeys(columns))
                    tracker = tracker or options.tracker(name, key)
                    tracker.fingerprinted = fingerprinted
                    idents = columns.get(key) or [None] * len(records)
                    count = len(records)
                    yield columns, tracker.keep(idents, prints or tracker.prints(count, list))
                    continue
                rows = [flat_row(record) for record in records]
                key = key or _key_of(spec, rows[0])
                tracker = tracker or options.tracker(name, key)
                tracker.fingerprinted = fingerprinted
                yield _text_page(tracker, rows)

        hinted = False  # hints once per run: dlt validates them on every marked item
        for table in _gathered(tables()):
            assert key is not None
            table = batches.key_not_null(table, key)
            yield table if hinted else _keyed(table, key)
            hinted = True
        if key is not None:
            state["key"] = key
            yield from _finish_powerquery(
                options, spec, tracker or options.tracker(name, key), changes
            )
        if changes is not None or "version" in answered:
            state["dataversion"] = changes.version if changes is not None else answered["version"]

    keys: dict[str, Any] = {"primary_key": configured_key} if configured_key else {}
    return dlt.resource(
        read,
        name=name,
        write_disposition="merge",
        columns=_deletion_columns(options.deletes),
        **keys,
    )()


def _finish_powerquery(
    options: _Options, spec: PowerQuerySpec, tracker: Tracker, changes: Any
) -> Iterator[Any]:
    state = tracker.state
    if changes is None:  # a full read: what did not come back is gone
        gone = tracker.finish_full()
        state["reconciled_at"] = options.now.isoformat()
    else:  # ids of the core table that changed but did not come back are gone
        core = spec.core_table or _core_table(tracker.key)
        listed = changes.tables.get(core, ()) if core else ()
        gone = tracker.gone(str(i) for i in listed if str(i) not in tracker.seen)
        if options.due_for_reconcile(state):
            options.report.counts(tracker.resource).method += " + id reconciliation"
            present = (
                flat_row(record).get(tracker.key)
                for record in options.client.powerquery(
                    spec.name, args=dict(spec.args), prefetch=options.prefetch
                )
            )
            gone += tracker.reconcile(present)
            state["reconciled_at"] = options.now.isoformat()
        tracker.finish_incremental()
    tombs = _tombstones(tracker, gone)
    if tombs is not None:
        yield tombs


def _core_table(key: str) -> str | None:
    """`students__dcid` -> "students": the table a grouped query's key column belongs to."""
    table, sep, _ = key.rpartition("__")
    return table.lower() if sep else None
