"""`sql "select ..."`: one read-only query against PowerSchool's Oracle database through
`acme_powerschool.odbc()` and the DataFrame helper. It refuses anything but a query and runs it
in a read-only transaction; the password comes from the keyring, never from the command line.
"""

from __future__ import annotations

import re
from typing import Any

import click

from acme_powerschool.cli.common import (
    ENV_SERVER,
    EXIT_USAGE,
    CommandError,
    KeyValue,
    echo_err,
    pairs_to_dict,
    read_text_argument,
    resolve_connection,
    state,
)
from acme_powerschool.cli.output import FORMATS, RecordWriter, output_stream

ENV_ORACLE_USER = "ACME_POWERSCHOOL_ORACLE_USER"
_COMMENTS = re.compile(r"(--[^\n]*(\n|$))|(/\*.*?\*/)", re.DOTALL)
_FIRST_WORD = re.compile(r"^\s*\(*\s*([A-Za-z]+)")


def check_read_only(sql: str) -> str:
    """The statement without a trailing `;`, if it is a query (SELECT or WITH); else an error."""
    text = sql.strip().rstrip(";").strip()
    match = _FIRST_WORD.match(_COMMENTS.sub(" ", text))
    if match is None or match.group(1).lower() not in ("select", "with"):
        raise CommandError(
            "only read-only queries are allowed: the statement must start with SELECT or WITH",
            EXIT_USAGE,
        )
    return text


def _host(server: str) -> str:
    if "://" in server:
        from acme_powerschool.core.config import parse_base_url

        return parse_base_url(server).host
    return server.strip()


@click.command(
    help=(
        "Run one read-only SQL query on PowerSchool's Oracle database.\n\n"
        "SQL is the query text, or @FILE to read it from a file. Only SELECT/WITH statements are "
        "accepted and they run in a read-only transaction. The password is read from the OS "
        "keyring (service = server, name = user) and asked for once on a terminal. Values go in "
        "as named binds: --param school=100 for :school.\n\n"
        "\b\nExample:\n"
        '  acme-powerschool sql "select school_number, name from schools" \\\n'
        "      --server district.powerschool.com --user psnavigator --format csv"
    ),
    short_help="Run a read-only SQL query (Oracle).",
)
@click.argument("sql")
@click.option(
    "--server", metavar="HOST",
    help=f"Database host (the PowerSchool server) [env {ENV_SERVER}, or the profile's].",
)  # fmt: skip
@click.option(
    "--user",
    envvar=ENV_ORACLE_USER,
    metavar="USER",
    help=f"Oracle account [env {ENV_ORACLE_USER}].",
)
@click.option("--port", default=1521, show_default=True, type=click.IntRange(1, 65535))
@click.option("--database", default="psproddb", show_default=True, help="Service name.")
@click.option("--param", "params", multiple=True, type=KeyValue(), help="Bind value KEY=VALUE.")
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="table", show_default=True)
@click.option("--out", metavar="FILE", help="Write to FILE instead of stdout.")
def sql(
    sql: str,
    server: str | None,
    user: str | None,
    port: int,
    database: str,
    params: tuple[tuple[str, Any], ...],
    fmt: str,
    out: str | None,
) -> None:
    server = resolve_connection(server=server).server
    if not server:
        raise CommandError(f"no server given: pass --server HOST or set {ENV_SERVER}")
    if not user:
        raise CommandError(f"no Oracle user given: pass --user USER or set {ENV_ORACLE_USER}")
    statement = check_read_only(read_text_argument(sql, "SQL"))
    connect = state().oracle_connect
    if connect is None:
        from acme_powerschool.shell.oracle import odbc

        connect = odbc
    from acme_powerschool.shell.oracle import read_dataframe

    conn = connect(server=_host(server), user=user, port=port, database=database)
    try:
        cursor = conn.cursor()
        try:
            cursor.execute("set transaction read only")
        finally:
            cursor.close()
        table = read_dataframe(conn, statement, pairs_to_dict(params) or None, to="arrow")
        with output_stream(out) as stream:
            writer = RecordWriter(stream, fmt, warn=echo_err)
            for row in table.to_pylist():
                writer.write(row)
            writer.close()
    finally:
        try:
            conn.rollback()
        finally:
            conn.close()
    echo_err(f"{writer.count} rows")
