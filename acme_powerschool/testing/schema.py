"""The simulator's /ws/schema routes: tables (§4) and PowerQueries (§5), grants included.

Handlers are plain functions (Simulator, Request) -> Reply registered with `route`; answer shapes
come from the fact sheet only. Nothing here may import the client side of the package.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from itertools import islice
from typing import Any
from urllib.parse import unquote

from acme_powerschool.testing.district import (
    Json,
    is_digits,
)
from acme_powerschool.testing.qfilter import Clause, QError, is_number, matches, parse_q
from acme_powerschool.testing.queries import PowerQuery, extensions_of, record_of
from acme_powerschool.testing.routing import (
    HttpError,
    Reply,
    Request,
    Write,
    fail,
    route,
)
from acme_powerschool.testing.state import State
from acme_powerschool.testing.tables import (
    REFUSED_TABLES,
    Row,
    Table,
    TableError,
    text,
)

# =====================================================================================
# /ws/schema/table (§4)
# =====================================================================================


def _table(sim: State, req: Request) -> Table:
    name = unquote(req.params["table"]).lower()
    if name in REFUSED_TABLES:
        raise fail(405, REFUSED_TABLES[name])
    table = sim.tables.get(name)
    if table is None:
        raise fail(404, f"Database table specified by the URI not found: {name}")
    return table


def _columns(table: Table, names: Iterable[str]) -> list[str]:
    """Canonical column names; 400 for the first unknown one (checked before permissions)."""
    out: list[str] = []
    for raw in names:
        name = raw.strip()
        if not name:
            continue
        if "." in name:
            prefix, _, name = name.partition(".")
            if prefix.lower() != table.key:
                raise fail(
                    400,
                    f"Invalid field specified: {raw} is not valid column for table: {table.name}",
                )
        if name == "*":
            out.extend(table.columns)
            continue
        canonical = table.column(name)
        if canonical is None:
            raise fail(
                400, f"Invalid field specified: {name} is not valid column for table: {table.name}"
            )
        out.append(canonical)
    return out


def _check_grants(sim: State, table: Table, columns: Iterable[str]) -> None:
    missing = []
    for col in dict.fromkeys(columns):
        if not sim.is_granted(table.key, col):
            missing.append({"code": "NoAccess", "field": col, "resource": table.name})
    if missing:
        raise HttpError(
            403, {"message": "At least one column lacks sufficient permission", "errors": missing}
        )


def _check_numbers(clause: Clause, numeric: bool, field: str) -> None:
    """Fact sheet §3.5: a non-numeric value against a number column is a 400, not no rows."""
    if not numeric:
        return
    for v in clause.values:
        if not is_number(v.replace("*", "0")):
            raise fail(400, f"Invalid number '{v}' passed for comparison to number field {field}")


def _table_clauses(table: Table, req: Request) -> list[Clause]:
    raw = req.query.get("q", "")
    try:
        clauses = parse_q(raw) if raw else []
    except QError as exc:
        raise fail(400, str(exc)) from None
    out = []
    for c in clauses:
        canonical = _columns(table, [c.field])[0]
        _check_numbers(c, canonical.lower() in table.numeric, canonical)
        out.append(Clause(canonical.lower(), c.op, c.values))
    return out


def _sort_key(table: Table, column: str) -> Callable[[Row], Any]:
    if column in table.numeric:
        return lambda row: _order_value(row.get(column, ""))
    return lambda row: row.get(column, "").lower()


def _id_candidates(clauses: list[Clause]) -> list[int] | None:
    """The ids an `id==` clause pins the rows down to (in id order), else None: a lookup
    instead of building every row. Every clause is still applied to what it finds."""
    for c in clauses:
        if c.field == "id" and c.op == "==" and all(is_digits(v) for v in c.values):
            return sorted({int(v) for v in c.values})
    return None


def _rows_for(sim: State, table: Table, req: Request) -> tuple[list[Row], int]:
    clauses = _table_clauses(table, req)
    sort = req.query.get("sort", "")
    sort_cols = [c.lower() for c in _columns(table, sort.split(","))] if sort else []
    _check_grants(sim, table, [table.column(c.field) or c.field for c in clauses])
    offset, limit = sim.paging(req, "schema_table_query")
    if not clauses and not sort_cols:
        ids = table.page_ids(offset, limit)
        return [r for r in (table.get(i) for i in ids) if r is not None], table.count()
    pinned = _id_candidates(clauses)
    source = table.ids() if pinned is None else iter(pinned)
    rows = [r for r in (table.get(i) for i in source) if r is not None]
    rows = [r for r in rows if all(matches(c, r.get(c.field)) for c in clauses)]
    descending = req.query.get("sortdescending", "").lower() == "true"
    for col in reversed(sort_cols):
        rows.sort(key=_sort_key(table, col), reverse=descending)
    return rows[offset : offset + limit], len(rows)


def _projection(sim: State, table: Table, req: Request) -> list[str]:
    """The projected columns; without a projection, 400 or (require_projection=False) all."""
    columns = _columns(table, req.query.get("projection", "").split(","))
    if not columns:
        if sim.behaviour.require_projection:
            raise fail(400, "The projection parameter is required")
        return list(table.columns)
    return columns


def _project(row: Row, columns: list[str]) -> Row:
    return {c.lower(): row.get(c.lower(), "") for c in dict.fromkeys(columns)}


@route("GET", "/ws/schema/table/{table}")
def _table_list(sim: State, req: Request) -> Reply:
    table = _table(sim, req)
    columns = _projection(sim, table, req)
    _check_grants(sim, table, columns)
    rows, _ = _rows_for(sim, table, req)
    records = [{"id": int(r["id"]), "tables": {table.key: _project(r, columns)}} for r in rows]
    return Reply(200, {"name": table.name, "record": records})


@route("GET", "/ws/schema/table/{table}/count")
def _table_count(sim: State, req: Request) -> Reply:
    table = _table(sim, req)
    if not req.query.get("q"):
        return Reply(200, {"count": table.count()})
    req.query["page"], req.query["pagesize"] = "1", "1"
    return Reply(200, {"count": _rows_for(sim, table, req)[1]})


@route("GET", "/ws/schema/table/{table}/metadata")
def _table_metadata(sim: State, req: Request) -> Reply:
    """Fact sheet §4.6: the table's description, each column with the plugin's access."""
    table = _table(sim, req)
    writable = bool(table.verbs & {"POST", "PUT"})

    def access(column: str) -> str:
        if not sim.is_granted(table.key, column.lower()):
            return "NoAccess"
        return "FullAccess" if writable else "ViewOnly"

    return Reply(
        200,
        {
            "name": table.name,
            "comment": "",
            "primaryKey": "ID",
            "queries": [],
            "schemaType": "Extended" if table.key.startswith("u_") else "Core",
            "coreTable": not table.key.startswith("u_"),
            "collection": table.key,
            "columns": [{"name": column, "access": access(column)} for column in table.columns],
        },
    )


def _row_id(req: Request) -> int:
    try:
        return int(req.params["id"])
    except ValueError:
        raise fail(404, "Record not found") from None


@route("GET", "/ws/schema/table/{table}/{id}")
def _table_row(sim: State, req: Request) -> Reply:
    table = _table(sim, req)
    columns = _projection(sim, table, req)
    _check_grants(sim, table, columns)
    row_id = _row_id(req)
    row = table.get(row_id)
    if row is None:
        raise fail(404, f"Record {row_id} not found in table {table.name}")
    return Reply(
        200, {"id": row_id, "name": table.name, "tables": {table.key: _project(row, columns)}}
    )


def _write_values(sim: State, table: Table, req: Request) -> Row:
    body = req.json_body()
    tables = body.get("tables") if isinstance(body, dict) else None
    if not isinstance(tables, dict):
        raise fail(400, 'The body must be {"tables":{"<table>":{...}}}')
    values = next((v for k, v in tables.items() if k.lower() == table.key), None)
    if not isinstance(values, dict):
        raise fail(400, f'The body has no "tables" entry for {table.key}')
    named: dict[str, Any] = {}
    for key, value in values.items():  # one key, one column: no "*", no empty names
        bare = key.strip().rpartition(".")[2]
        if not bare or bare == "*":
            raise fail(
                400, f"Invalid field specified: '{key}' is not valid column for table: {table.name}"
            )
        named[_columns(table, [key])[0]] = value
    _check_grants(sim, table, named)
    row: Row = {}
    for column, value in named.items():
        if value is not None and not isinstance(value, (str, int, float, bool)):
            raise fail(400, f"Invalid value for field {column}: send a string")
        row[column.lower()] = text(value)
        if column.lower() in table.numeric and row[column.lower()] and not is_number(text(value)):
            raise fail(400, f"Invalid number '{value}' for number field {column}")
    return row


def _write_reply(sim: State, table: Table, action: str, row_id: int) -> Reply:
    result = {
        "status": "SUCCESS",
        "action": action,
        "success_message": {"id": row_id, "ref": sim.ref(f"/ws/schema/table/{table.key}/{row_id}")},
    }
    body: Json = {
        "insert_count": int(action == "INSERT"),
        "update_count": int(action == "UPDATE"),
        "delete_count": 0,
        "result": [result],
    }
    return Reply(200, {"results": body} if sim.behaviour.schema_write_shape == "results" else body)


def _check_verb(table: Table, verb: str) -> None:
    if verb not in table.verbs:
        raise fail(405, f"{verb} is not allowed on table {table.name}")


@route("POST", "/ws/schema/table/{table}")
def _table_insert(sim: State, req: Request) -> Reply:
    table = _table(sim, req)
    _check_verb(table, "POST")
    values = _write_values(sim, table, req)
    try:
        row_id = table.insert(values)
    except TableError as exc:
        raise fail(exc.status, exc.message) from None
    sim.writes.append(Write("POST", req.path, req.json_body(), (str(row_id),)))
    sim.record_change(table.key, row_id)
    return _write_reply(sim, table, "INSERT", row_id)


@route("PUT", "/ws/schema/table/{table}/{id}")
def _table_update(sim: State, req: Request) -> Reply:
    table = _table(sim, req)
    _check_verb(table, "PUT")
    row_id = _row_id(req)
    values = _write_values(sim, table, req)
    try:
        table.update(row_id, values)
    except TableError as exc:
        raise fail(exc.status, exc.message) from None
    sim.writes.append(Write("PUT", req.path, req.json_body(), (str(row_id),)))
    sim.record_change(table.key, row_id)
    return _write_reply(sim, table, "UPDATE", row_id)


@route("DELETE", "/ws/schema/table/{table}/{id}")
def _table_delete(sim: State, req: Request) -> Reply:
    table = _table(sim, req)
    _check_verb(table, "DELETE")
    row_id = _row_id(req)
    if table.get(row_id) is None:
        raise fail(404, f"Record {row_id} not found in table {table.name}")
    _check_grants(sim, table, table.columns)  # delete needs access to every column (§4.10)
    table.delete(row_id)
    sim.writes.append(Write("DELETE", req.path, None, (str(row_id),)))
    sim.record_change(table.key, row_id, deleted=True)
    return Reply(204, b"")


# =====================================================================================
# PowerQueries (§5)
# =====================================================================================


def _query(sim: State, req: Request) -> PowerQuery:
    name = unquote(req.params["name"])
    query = sim.queries.get(name)
    if query is None:
        raise fail(404, f"Query {name} not found")
    return query


def _query_forbidden(sim: State, query: PowerQuery) -> None:
    missing = [
        {"resource": query.name, "field": f"{c.table}.{c.column}", "code": "No access to the field"}
        for c in query.columns
        if not sim.is_granted(c.table, c.column)
    ]
    if missing:
        raise HttpError(403, {"message": "Validation Failed", "errors": missing})


def _bad_arg(query: PowerQuery, field: str, code: str) -> HttpError:
    return HttpError(
        400,
        {
            "message": "Validation Failed",
            "errors": [{"resource": query.name, "field": field, "code": code}],
        },
    )


def _query_filter(sim: State, query: PowerQuery, raw: Any) -> list[Clause]:
    """A `$q` filter over the query's column aliases; 400 for a bad one (§3.5, §5.9)."""
    if not isinstance(raw, str):
        raise _bad_arg(query, "$q", "$q must be a string")
    try:
        clauses = parse_q(raw)
    except QError as exc:
        raise fail(400, str(exc)) from None
    columns = {c.alias: c for c in query.columns}
    for c in clauses:
        column = columns.get(c.field)
        if column is None:
            raise _bad_arg(query, c.field, "Invalid field in $q")
        table = sim.tables.get(column.table)
        _check_numbers(c, table is not None and column.column in table.numeric, c.field)
    return clauses


def _query_args(sim: State, query: PowerQuery, req: Request) -> tuple[dict[str, Any], list[Clause]]:
    body = req.json_body() if req.body.strip() else {}
    if body is None:
        body = {}
    if not isinstance(body, dict):
        raise fail(400, "The body must be a JSON object of arguments")
    args: dict[str, Any] = {}
    # `$q` in the JSON payload (the official doc) or the query string (the PHP client): §5.3
    # records both, so both are read, and both apply when both are sent.
    clauses: list[Clause] = []
    if "$q" in req.query:
        clauses += _query_filter(sim, query, req.query["$q"])
    for key, value in body.items():
        if key == "$q":
            clauses += _query_filter(sim, query, value)
            continue
        if key.startswith("$") or key == "projection":
            continue
        arg = query.arg(key)
        if arg is None:
            raise _bad_arg(query, key, "Unknown argument")
        values = value if isinstance(value, list) else [value]
        if not arg.array and isinstance(value, list):
            raise _bad_arg(query, key, "Argument is not an array")
        if arg.integer and not all(_is_integer(v) for v in values):
            raise _bad_arg(query, key, "Invalid number")
        args[key] = values if arg.array else value
    for arg in query.args:
        if arg.required and arg.name not in args:
            raise _bad_arg(query, arg.name, "Missing required argument")
    return args, clauses


def _is_integer(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, (str, int)) and is_digits(str(value).strip().removeprefix("-"))


def _order_keys(query: PowerQuery, req: Request) -> list[tuple[str, bool]]:
    keys = []
    order = req.query.get("order", "")
    if order:
        aliases = {c.alias for c in query.columns}
        for part in order.split(","):
            alias, _, direction = part.partition(";")
            if alias not in aliases:
                raise _bad_arg(query, alias, "Invalid order column")
            keys.append((alias, direction.strip().lower() == "desc"))
    return keys


def _query_rows(
    sim: State, query: PowerQuery, req: Request, start: int, stop: int | None, total: bool
) -> tuple[list[Row], int]:
    """This page's rows and (when `total`) the number of rows of all pages, else -1."""
    _query_forbidden(sim, query)
    args, clauses = _query_args(sim, query, req)
    since = data_version_since(sim, query, req)
    if since is not None and since[0] < sim.changes.options.start and query.core_table in since[1]:
        since = None  # every live row changed after a version older than the seed: read them all
    start = min(start, sys.maxsize)  # islice's bounds; a page that far out is empty anyway
    stop = None if stop is None else min(stop, sys.maxsize)
    keys = _order_keys(query, req)
    if since is not None or clauses or keys:
        if since is not None:
            rows = _changed_rows(sim, query, args, *since)
        else:
            rows = [r for r in (t() for t in query.rows(sim.district, sim.tables, args)) if r]
        rows = [r for r in rows if all(matches(c, r.get(c.field)) for c in clauses)]
        for alias, desc in reversed(keys):
            rows.sort(key=_order_key(alias), reverse=desc)
        return rows[start:stop], len(rows)
    thunks = query.rows(sim.district, sim.tables, args)
    count = -1
    if total:
        if query.count is not None:
            count = query.count(sim.district)
        else:
            listed = list(thunks)
            count, thunks = len(listed), iter(listed)
    if query.sliced is not None:  # the page straight from the index, at any offset
        thunks, start, stop = query.sliced(sim.district, start, stop), 0, None
    page = [r for r in (t() for t in islice(thunks, start, stop)) if r is not None]
    return page, count


# ----- data versions (PowerSchool 10.0+) -----


def _version_number(value: Any) -> int | None:
    """A data version: a whole number >= 0, sent as a string (the doc's example) or a number."""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        return None
    raw = str(value).strip()
    return int(raw) if is_digits(raw) else None


def data_version_since(
    sim: State, query: PowerQuery, req: Request
) -> tuple[int, tuple[str, ...]] | None:
    """(version, subscribed tables) when the body carries `$dataversion` and
    `$dataversion_applicationname` (both or neither, DEV "PowerQueries"), else None."""
    body = req.json_body() if req.body.strip() else None
    if not isinstance(body, dict):
        return None
    has_version = "$dataversion" in body
    has_app = "$dataversion_applicationname" in body
    if not has_version and not has_app:
        return None
    if has_version != has_app:
        missing = "$dataversion_applicationname" if has_version else "$dataversion"
        raise _bad_arg(query, missing, "$dataversion and $dataversion_applicationname go together")
    version = _version_number(body["$dataversion"])
    if version is None:
        raise _bad_arg(query, "$dataversion", "The data version must be a whole number >= 0")
    tables = sim.changes.subscription(str(body["$dataversion_applicationname"]))
    if tables is None:
        raise _bad_arg(
            query, "$dataversion_applicationname", "No data version subscription by that name"
        )
    return version, tables


def _changed_rows(
    sim: State, query: PowerQuery, args: dict[str, Any], since: int, tables: tuple[str, ...]
) -> list[Row]:
    """The query's rows whose core-table row changed after `since` (rows of a core table the
    subscription does not follow never count as changed)."""
    core = query.core_table
    if core not in tables:
        return []
    if query.row_of is not None and not args and since >= sim.changes.options.start:
        ids = sorted(sim.changes.changed_since(core, since, lambda: iter(())))
        found = (query.row_of(sim.district, sim.tables, i) for i in ids)
        return [r for r in found if r is not None]
    rows = [r for r in (t() for t in query.rows(sim.district, sim.tables, args)) if r]
    return [r for r in rows if _row_changed(sim, core, r.get(query.id_alias, ""), since)]


def _row_changed(sim: State, table: str, ident: str, since: int) -> bool:
    return is_digits(ident) and sim.changes.changed_after(table, int(ident), since)


@route("GET", "/ws/dataversion/{application}/{version}")
def _dataversion(sim: State, req: Request) -> Reply:
    """The ids that changed per subscribed table since a version (API explorer "dataversion";
    the shape is grantholle/powerschool-api's published response)."""
    tables = sim.changes.subscription(unquote(req.params["application"]))
    if tables is None:
        raise fail(400, "No data version subscription by that application name")
    since = _version_number(unquote(req.params["version"]))
    if since is None:
        raise fail(400, "The data version must be a whole number >= 0")
    current = sim.changes.version
    out: Json = {}
    for table in tables:
        ids = sim.changes.changed_since(table, since, lambda t=table: sim.all_ids(t))  # type: ignore[misc]
        if ids:
            out[table] = ids
    return Reply(200, {"$dataversion": str(current), "tables": out})


def _order_key(alias: str) -> Callable[[Row], tuple[int, float, str]]:
    return lambda row: _order_value(row.get(alias, ""))


def _order_value(value: str) -> tuple[int, float, str]:
    return (0, float(value), "") if is_number(value) else (1, 0.0, value.lower())


@route("POST", "/ws/schema/query/{name}")
def _query_run(sim: State, req: Request) -> Reply:
    query = _query(sim, req)
    try:
        page = max(1, int(req.query.get("page", "1") or "1"))
        size = int(req.query.get("pagesize", "100") or "100")
    except ValueError:
        raise fail(400, "page and pagesize must be integers") from None
    want_count = req.query.get("count", "").lower() == "true"
    if size <= 0:  # 0 = every row; page is ignored
        rows, total = _query_rows(sim, query, req, 0, None, want_count)
    else:
        rows, total = _query_rows(sim, query, req, (page - 1) * size, page * size, want_count)
    captured = sim.behaviour.powerquery_envelope == "captured"
    body: Json = {}
    if rows or not captured:  # a real empty answer has neither (capture sm_powerquery_empty)
        body["name"] = query.record_name
    if data_version_since(sim, query, req) is not None:
        body["$dataversion"] = str(sim.changes.version)
    if rows or not captured:
        body["record"] = [record_of(query, r, meta=captured) for r in rows]
    if want_count:
        body["count"] = total
    if captured:
        body["@extensions"] = extensions_of(query)
    return Reply(200, body)


@route("POST", "/ws/schema/query/{name}/count")
def _query_count(sim: State, req: Request) -> Reply:
    query = _query(sim, req)
    return Reply(200, {"count": _query_rows(sim, query, req, 0, 0, True)[1]})


@route("GET", "/ws/schema/query/api")
def _query_api(sim: State, req: Request) -> Reply:
    paths: Json = {}
    definitions: Json = {}
    for q in sim.queries.values():
        paths[f"/ws/schema/query/{q.name}"] = {
            "post": {
                "summary": q.summary,
                "tags": ["powerquery"],
                "parameters": [
                    {
                        "name": "body",
                        "in": "body",
                        "schema": {"$ref": f"#/definitions/powerquery.param.{q.name}"},
                    }
                ],
                "responses": {
                    "200": {"schema": {"$ref": f"#/definitions/powerquery.resp.{q.name}"}}
                },
            }
        }
        definitions[f"powerquery.param.{q.name}"] = {
            "type": "object",
            "properties": {
                a.name: {"type": "array", "items": {"type": "integer" if a.integer else "string"}}
                if a.array
                else {"type": "integer" if a.integer else "string"}
                for a in q.args
            },
            "required": [a.name for a in q.args if a.required],
        }
        definitions[f"powerquery.resp.{q.name}"] = {
            "type": "object",
            "properties": {c.alias: {"type": "string"} for c in q.columns},
        }
    body = {
        "swagger": "2.0",
        "info": {"title": "PowerQuery API", "version": "1.0"},
        "basePath": "/",
        "paths": paths,
        "definitions": definitions,
    }
    return Reply(200, body)


def _access_list(queries: Iterable[PowerQuery]) -> Reply:
    fields = dict.fromkeys((c.table, c.column) for q in queries for c in q.columns)
    lines = [f'<field table="{t}" field="{f}" access="ViewOnly" />' for t, f in fields]
    text_body = "<access_request>\n" + "".join(f"  {x}\n" for x in lines) + "</access_request>\n"
    return Reply(200, text_body.encode("utf-8"), "text/xml")


@route("GET", "/ws/powerqueryaccesslist")
def _access_list_all(sim: State, req: Request) -> Reply:
    return _access_list(sim.queries.values())


@route("GET", "/ws/powerqueryaccesslist/{name}")
def _access_list_one(sim: State, req: Request) -> Reply:
    return _access_list([_query(sim, req)])
