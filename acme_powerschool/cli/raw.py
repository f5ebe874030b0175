"""`get|post|put|delete PATH`: the raw escape hatch over `ps.request`, as a command, and
`get PATH --paginate`, every page of a raw listing as records.

The body goes to stdout (pretty JSON or XML, control characters escaped), the status and
timing to stderr; the exit status follows the one table (4 refused, 5 try again later). It
never prints a request header, so the token stays out of the output.
"""

from __future__ import annotations

import json
import time
import warnings
import xml.dom.minidom
from typing import Any

import click

from acme_powerschool.cli.common import (
    CommandError,
    Connection,
    KeyValue,
    connection_options,
    echo_err,
    one_line,
    pairs_to_dict,
    read_text_argument,
)
from acme_powerschool.cli.errors import exit_code_for_response
from acme_powerschool.cli.options import apply, paging_options, write_listing, writing_options
from acme_powerschool.cli.output import (
    dumps,
    terminal_safe,
)

XML = "application/xml"


def _pretty(body: bytes, content_type: str) -> str:
    """The body as people read it: indented JSON or XML, otherwise the text as sent; control
    characters a server put in it are escaped, never sent to the terminal."""
    text = body.decode("utf-8", "replace")
    stripped = text.strip()
    if not stripped:
        return ""
    if "json" in content_type.lower() or stripped[:1] in "{[":
        try:
            return dumps(json.loads(stripped), pretty=True)
        except ValueError:
            return terminal_safe(text)
    if "xml" in content_type.lower() or stripped.startswith("<?xml"):
        try:
            pretty = xml.dom.minidom.parseString(stripped).toprettyxml(indent="  ")
        except Exception:  # any parse failure: show the body as it came
            return terminal_safe(text)
        return terminal_safe("\n".join(line for line in pretty.splitlines() if line.strip()))
    return terminal_safe(text)


def _body(data: str, as_xml: bool) -> bytes:
    """The --data text (or file), checked to be JSON unless --xml: a usage error otherwise."""
    try:
        body = read_text_argument(data, "--data")
    except CommandError as exc:
        raise click.BadParameter(exc.format_message(), param_hint="--data") from None
    if not as_xml:
        try:
            json.loads(body)
        except ValueError as exc:
            raise click.BadParameter(f"not valid JSON: {exc}", param_hint="--data") from None
    return body.encode("utf-8")


def _request(
    conn: Connection,
    method: str,
    path: str,
    data: str | None,
    params: tuple[tuple[str, Any], ...],
    as_xml: bool,
) -> None:
    kwargs: dict[str, Any] = {}
    if params:
        kwargs["params"] = pairs_to_dict(params)
    headers = {"Accept": XML} if as_xml else {}
    if data is not None:
        kwargs["data"] = _body(data, as_xml)
        if as_xml:
            headers["Content-Type"] = XML
    if headers:
        kwargs["headers"] = headers
    ps = conn.client()
    started = time.perf_counter()
    with warnings.catch_warnings():
        # The 403 warning of the raw verbs is replaced by the note printed below.
        warnings.simplefilter("ignore")
        response = ps.request(method, path, **kwargs)
    elapsed = time.perf_counter() - started
    text = _pretty(response.content, response.headers.get("Content-Type", ""))
    if text:
        click.echo(text)
    status = response.status_code
    reason = one_line(response.reason or "")
    echo_err(f"{status} {reason}  {method} /{one_line(path.lstrip('/'))}  {elapsed:.3f} s")
    access = getattr(response, "access_requests", "")
    if status == 403 and access:
        echo_err(
            "the plugin lacks access to: "
            + ", ".join(one_line(line) for line in access.splitlines())
        )
    code = exit_code_for_response(response)
    if code:
        click.get_current_context().exit(code)


def _paginate(
    conn: Connection,
    path: str,
    params: tuple[tuple[str, Any], ...],
    options: dict[str, Any],
) -> None:
    """Every page of a raw listing (`page`/`pagesize` parameters), written as records."""
    from acme_powerschool.cli.listing import raw_listing

    pager = raw_listing(conn.client(), path, pairs_to_dict(params), options["pagesize"])
    write_listing(pager, options, label=path)


def _paging_options(command: Any) -> Any:
    """`--paginate` and what only it uses (format, page size, limit, out, progress)."""
    paginate = click.option(
        "--paginate",
        is_flag=True,
        help="Read every page of a listing (page=1, 2, ...) and write its records.",
    )
    return apply([paginate, *writing_options(), *paging_options(prefetch=False)], command)


def _verb(method: str, example: str) -> click.Command:
    paging = method == "GET"
    more = (
        " With --paginate, a listing is read page by page and its records written in --format."
        if paging
        else ""
    )

    @click.command(
        name=method.lower(),
        help=(
            f"{method} PATH on the server and print the response body.\n\n"
            "PATH is relative to the server (ws/v1/student/2). The body is printed as indented "
            "JSON (or XML with --xml); the status and time go to stderr. Exit status 4 when the "
            f"server refused the request, 5 to try again later.{more}\n\n"
            f"\b\nExample:\n  {example}"
        ),
    )
    @click.argument("path")
    @click.option(
        "--data",
        metavar="JSON|@FILE",
        help="Request body: JSON text, @FILE to read it from a file, @- from stdin.",
    )
    @click.option(
        "--param",
        "params",
        multiple=True,
        type=KeyValue(),
        help="Query parameter KEY=VALUE (repeatable).",
    )
    @click.option("--xml", "as_xml", is_flag=True, help="Ask for (and send) XML instead of JSON.")
    @connection_options
    def command(
        conn: Connection,
        path: str,
        data: str | None,
        params: tuple[tuple[str, Any], ...],
        as_xml: bool,
        **paging_options: Any,
    ) -> None:
        if paging_options.get("paginate"):
            if as_xml or data is not None:
                raise click.UsageError("--paginate reads JSON listings: no --xml, no --data")
            _paginate(conn, path, params, paging_options)
            return
        _request(conn, method, path, data, params, as_xml)

    return _paging_options(command) if paging else command


RAW_COMMANDS = (
    _verb(
        "GET",
        "acme-powerschool get ws/v1/student/2 --param expansions=contact_info\n"
        "  acme-powerschool get ws/v1/district/school --paginate --format csv",
    ),
    _verb(
        "POST",
        "acme-powerschool post ws/schema/query/com.acme.sdk.students.flat --data '{}' "
        "--param pagesize=10",
    ),
    _verb(
        "PUT",
        "acme-powerschool put ws/schema/table/u_studentsuserfields/1 --data @row.json",
    ),
    _verb("DELETE", "acme-powerschool delete ws/schema/table/u_studentsuserfields/2"),
)
