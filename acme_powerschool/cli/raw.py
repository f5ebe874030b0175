"""`get|post|put|delete PATH`: the raw escape hatch over `ps.request`, as a command.

The body goes to stdout (pretty JSON or XML), the status and timing to stderr; 4xx exits 4 and
5xx exits 5. It never prints a request header, so the token stays out of the output.
"""

from __future__ import annotations

import json
import time
import warnings
import xml.dom.minidom
from typing import Any

import click

from acme_powerschool.cli.common import (
    EXIT_HTTP_4XX,
    EXIT_HTTP_5XX,
    CommandError,
    Connection,
    KeyValue,
    connection_options,
    echo_err,
    one_line,
    pairs_to_dict,
    read_text_argument,
)

XML = "application/xml"


def _pretty(body: bytes, content_type: str) -> str:
    """The body as people read it: indented JSON or XML, otherwise the text as sent."""
    text = body.decode("utf-8", "replace")
    stripped = text.strip()
    if not stripped:
        return ""
    if "json" in content_type.lower() or stripped[:1] in "{[":
        try:
            return json.dumps(json.loads(stripped), indent=2, ensure_ascii=False)
        except ValueError:
            return text
    if "xml" in content_type.lower() or stripped.startswith("<?xml"):
        try:
            pretty = xml.dom.minidom.parseString(stripped).toprettyxml(indent="  ")
        except Exception:  # any parse failure: show the body as it came
            return text
        return "\n".join(line for line in pretty.splitlines() if line.strip())
    return text


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
        body = read_text_argument(data, "--data")
        if as_xml:
            headers["Content-Type"] = XML
        else:
            try:
                json.loads(body)
            except ValueError as exc:
                raise CommandError(f"--data is not valid JSON: {exc}") from None
        kwargs["data"] = body.encode("utf-8")
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
    echo_err(f"{status} {response.reason or ''}  {method} /{path.lstrip('/')}  {elapsed:.3f} s")
    access = getattr(response, "access_requests", "")
    if status == 403 and access:
        echo_err(
            "the plugin lacks access to: "
            + ", ".join(one_line(line) for line in access.splitlines())
        )
    if 400 <= status < 500:
        click.get_current_context().exit(EXIT_HTTP_4XX)
    if status >= 500:
        click.get_current_context().exit(EXIT_HTTP_5XX)


def _verb(method: str, example: str) -> click.Command:
    @click.command(
        name=method.lower(),
        help=(
            f"{method} PATH on the server and print the response body.\n\n"
            "PATH is relative to the server (ws/v1/student/2). The body is printed as indented "
            "JSON (or XML with --xml); the status and time go to stderr. Exit status 4 for a 4xx "
            "answer, 5 for a 5xx or no answer.\n\n"
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
    ) -> None:
        _request(conn, method, path, data, params, as_xml)

    return command


RAW_COMMANDS = (
    _verb("GET", "acme-powerschool get ws/v1/student/2 --param expansions=contact_info"),
    _verb(
        "POST",
        "acme-powerschool post ws/schema/query/com.acme.sdk.students.flat --data '{}' "
        "--param pagesize=10",
    ),
    _verb(
        "PUT",
        "acme-powerschool put ws/schema/table/u_my_table/7 --data @row.json",
    ),
    _verb("DELETE", "acme-powerschool delete ws/schema/table/u_my_table/7"),
)
