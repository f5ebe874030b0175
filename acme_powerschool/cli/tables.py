"""`table list|count|get|insert|update|delete NAME`: schema tables (`ps.table(NAME)`), core or
extension, from the shell. Rows print as `{"id": ..., "column": value, ...}`; every request
goes through the library's SchemaTable, so paging, retries and typed errors are its own.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping, Sequence
from typing import Any

import click

from acme_powerschool.cli.common import (
    EXIT_REFUSED,
    CommandError,
    Connection,
    IdType,
    KeyValue,
    connection_options,
    echo_err,
    pairs_to_dict,
    read_text_argument,
)
from acme_powerschool.cli.options import (
    apply,
    format_option,
    paging_options,
    write_listing,
    writing_options,
)
from acme_powerschool.cli.output import RecordWriter, dumps, to_plain


def _row(record: Any) -> dict[str, Any]:
    """A TableRecord as one flat row: its id, then its columns."""
    return {"id": record.id, **{k: v for k, v in record.values.items() if k != "id"}}


def _split(values: Sequence[str]) -> list[str]:
    return [part.strip() for value in values for part in value.split(",") if part.strip()]


def _values(sets: Sequence[tuple[str, Any]], data: str | None) -> dict[str, Any]:
    """Column values from `--set COL=VALUE` and/or `--data JSON`; bad input is a usage error."""
    values: dict[str, Any] = {}
    if data is not None:
        try:
            parsed = json.loads(read_text_argument(data, "--data"))
        except CommandError as exc:
            raise click.BadParameter(exc.format_message(), param_hint="--data") from None
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--data") from None
        if not isinstance(parsed, Mapping):
            raise click.BadParameter("must be a JSON object of column values", param_hint="--data")
        values.update(parsed)
    values.update(pairs_to_dict(sets))
    if not values:
        raise click.UsageError("give the column values: --set COLUMN=VALUE or --data JSON")
    return values


def _print_write(result: Any) -> None:
    plain = to_plain(result)
    click.echo(dumps(plain, pretty=True))
    items = plain.get("result", ()) if isinstance(plain, Mapping) else ()
    if any(isinstance(item, Mapping) and item.get("status") == "ERROR" for item in items):
        click.get_current_context().exit(EXIT_REFUSED)


@click.group(
    help=(
        "Schema tables (/ws/schema/table/NAME), core or extension: list, count, get, insert, "
        "update and delete rows.\n\n"
        "\b\nExamples:\n"
        "  acme-powerschool table list u_studentsuserfields --projection studentsdcid,"
        "favorite_color --format csv\n"
        "  acme-powerschool table get u_studentsuserfields 1\n"
        "  acme-powerschool table update u_studentsuserfields 1 --set favorite_color=green"
    ),
    short_help="Schema tables: list, get, insert, update, delete rows.",
)
def table() -> None:
    pass


def row_arguments(command: Any) -> Any:
    """NAME and ID (by the library's id rule) of a command on one row."""
    return click.argument("name")(click.argument("id", type=IdType())(command))


def _table(conn: Connection, name: str) -> Any:
    return conn.client().table(name)


@click.command(
    name="list",
    help=(
        "Rows of table NAME (all, or those matching --q), page by page.\n\n"
        "\b\nExample:\n"
        "  acme-powerschool table list u_studentsuserfields --q 'favorite_color==red' "
        "--format csv"
    ),
)
@click.argument("name")
@click.option("--q", help="PowerSchool q filter, like 'favorite_color==red'.")
@click.option("--projection", multiple=True, metavar="COLUMN[,...]", help="Columns to return.")
@click.option("--sort", metavar="COLUMN", help="Sort by this column.")
@click.option("--desc", is_flag=True, help="Sort descending.")
@connection_options
def list_rows(conn: Connection, name: str, **options: Any) -> None:
    projection = _split(options["projection"]) or ["*"]
    pager = _table(conn, name).query(
        q=options["q"],
        projection=projection,
        sort=options["sort"],
        sortdescending=options["desc"],
        pagesize=options["pagesize"],
        prefetch=options["prefetch"],
    )
    columns = ["id", *projection] if "*" not in projection else []
    write_listing(pager.map(_row), options, label=name, noun="rows", columns=columns)


table.add_command(apply([*writing_options(), *paging_options()], list_rows))


@table.command(
    name="count",
    help="How many rows of NAME match --q (all without it).\n\n\b\nExample:\n"
    "  acme-powerschool table count u_studentsuserfields",
)
@click.argument("name")
@click.option("--q", help="PowerSchool q filter.")
@connection_options
def count_rows(conn: Connection, name: str, q: str | None) -> None:
    click.echo(str(_table(conn, name).count(q=q)))


@table.command(
    name="get",
    help="One row of NAME by id.\n\n\b\nExample:\n"
    "  acme-powerschool table get u_studentsuserfields 1",
)
@row_arguments
@click.option("--projection", multiple=True, metavar="COLUMN[,...]", help="Columns to return.")
@format_option()
@connection_options
def get_row(
    conn: Connection, name: str, id: int | str, projection: Sequence[str], fmt: str
) -> None:
    record = _table(conn, name).get(id, projection=_split(projection) or ["*"])
    writer = RecordWriter(sys.stdout, fmt, single=True, warn=echo_err)
    writer.write(_row(record))
    writer.close()


SET_HELP = "Column value COLUMN=VALUE (or COLUMN:=JSON), repeatable."
DATA_HELP = "Column values as a JSON object: text, @FILE, or @- for stdin."


@table.command(
    name="insert",
    help=(
        "Insert one row into NAME and print PowerSchool's answer (with the new id).\n\n"
        "Exit status 4 when PowerSchool reports the row as an ERROR.\n\n\b\nExample:\n"
        "  acme-powerschool table insert u_studentsuserfields --set studentsdcid=4 "
        "--set favorite_color=blue"
    ),
)
@click.argument("name")
@click.option("--set", "sets", multiple=True, type=KeyValue(), help=SET_HELP)
@click.option("--data", metavar="JSON|@FILE", help=DATA_HELP)
@connection_options
def insert_row(
    conn: Connection, name: str, sets: tuple[tuple[str, Any], ...], data: str | None
) -> None:
    _print_write(_table(conn, name).insert(_values(sets, data)))


@table.command(
    name="update",
    help=(
        "Update the given columns of one row of NAME.\n\n\b\nExample:\n"
        "  acme-powerschool table update u_studentsuserfields 1 --set favorite_color=green"
    ),
)
@row_arguments
@click.option("--set", "sets", multiple=True, type=KeyValue(), help=SET_HELP)
@click.option("--data", metavar="JSON|@FILE", help=DATA_HELP)
@connection_options
def update_row(
    conn: Connection, name: str, id: int | str, sets: tuple[tuple[str, Any], ...], data: str | None
) -> None:
    _print_write(_table(conn, name).update(id, _values(sets, data)))


@table.command(
    name="delete",
    help="Delete one row of NAME (exit 4 when there is no such row).\n\n\b\nExample:\n"
    "  acme-powerschool table delete u_studentsuserfields 3",
)
@row_arguments
@connection_options
def delete_row(conn: Connection, name: str, id: int | str) -> None:
    _table(conn, name).delete(id)
    echo_err(f"deleted row {id} of {name}")
