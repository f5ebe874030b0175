"""`query NAME` (every page of a PowerQuery, streamed, with a progress bar) and
`access-requests` (the plugin.xml block a 403 asks for). No paging or 403 parsing of its own:
the pager and core/access.py do that.
"""

from __future__ import annotations

import warnings
from typing import Any

import click

from acme_powerschool.cli.common import (
    EXIT_USAGE,
    CommandError,
    Connection,
    KeyValue,
    connection_options,
    echo_err,
    pairs_to_dict,
    read_bytes_file,
)
from acme_powerschool.cli.options import apply, paging_options, write_listing, writing_options
from acme_powerschool.cli.output import terminal_safe

ARG_HELP = "PowerQuery argument KEY=VALUE, or KEY:=JSON for numbers and arrays (repeatable)."
QUERY_PATH = "ws/schema/query/{name}"


@click.command(
    name="query",
    help=(
        "Run the PowerQuery NAME through every page, writing rows as they come.\n\n"
        'Rows are `{"table.column": value}` objects. A progress bar (records, the total the first '
        "page reports, rate, time left) is drawn on stderr when it is a terminal.\n\n"
        "\b\nExamples:\n"
        "  acme-powerschool query com.acme.sdk.students.flat --format csv --out students.csv\n"
        "  acme-powerschool query com.acme.sdk.students.by_school --arg schoolid:=100 "
        "--arg 'grade_levels:=[9,10]'"
    ),
    short_help="Run a PowerQuery through every page.",
)
@click.argument("name")
@click.option("--arg", "args", multiple=True, type=KeyValue(), help=ARG_HELP)
@click.option("--order", metavar="COLUMNS", help="Sort order, like students.last_name;desc.")
@connection_options
def query_command(
    conn: Connection,
    name: str,
    args: tuple[tuple[str, Any], ...],
    order: str | None,
    **options: Any,
) -> None:
    pager = conn.client().powerquery(
        name,
        args=pairs_to_dict(args),
        order=order,
        pagesize=options["pagesize"],
        prefetch=options["prefetch"],
    )
    write_listing(pager, options, label=name)


query_command = apply([*writing_options("csv"), *paging_options()], query_command)


@click.command(
    name="access-requests",
    help=(
        "Print the <access_request> block a plugin needs for the PowerQuery NAME.\n\n"
        "Runs NAME once (one row) and turns the fields of its 403 answer into plugin.xml "
        "lines, sorted and de-duplicated. With --from-file, reads a saved 403 response body "
        "instead (JSON or XML; - for stdin) and needs no server.\n\n"
        "\b\nExamples:\n"
        "  acme-powerschool access-requests com.pearson.core.attendance.daily_attendance_template"
        " --arg studentid=2\n"
        "  acme-powerschool access-requests --from-file response.json"
    ),
    short_help="Print the plugin.xml <access_request> block a PowerQuery needs.",
)
@click.argument("name", required=False)
@click.option("--arg", "args", multiple=True, type=KeyValue(), help=ARG_HELP)
@click.option("--from-file", metavar="FILE", help="A saved 403 response body (- for stdin).")
@connection_options
def access_requests_command(
    conn: Connection,
    name: str | None,
    args: tuple[tuple[str, Any], ...],
    from_file: str | None,
) -> None:
    from acme_powerschool.core.access import access_request_block, parse_access_denied

    if (name is None) == (from_file is None):
        raise CommandError("give a PowerQuery NAME or --from-file FILE (one of them)", EXIT_USAGE)
    if from_file is not None:
        fields = parse_access_denied(read_bytes_file(from_file, "response file"))
        if not fields:
            raise CommandError(f"{from_file} names no field the plugin lacks access to")
        click.echo(terminal_safe(access_request_block(fields)))
        return
    assert name is not None
    client = conn.client()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        response = client.post(
            QUERY_PATH.format(name=name), json=pairs_to_dict(args), params={"pagesize": "1"}
        )
    status = response.status_code
    if 200 <= status < 300:
        echo_err(f"the plugin already has access to every field of {name}")
        return
    fields = parse_access_denied(response.content, response.headers.get("Content-Type", ""))
    if status != 403 or not fields:
        client.raise_for_response(response, what=name)
        raise CommandError(f"{name}: the server refused it without naming a field")
    click.echo(terminal_safe(access_request_block(fields)))
