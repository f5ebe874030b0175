"""The options every record-listing command shares, declared once: how records are written
(--format, --limit, --out, --progress) and how pages are read (--pagesize, --prefetch). Bad
numbers are usage errors here, before the library would refuse them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import click

from acme_powerschool.cli.output import FORMATS

Decorator = Callable[[Any], Any]


def format_option(default: str = "json") -> Decorator:
    return click.option(
        "--format",
        "fmt",
        type=click.Choice(FORMATS),
        default=default,
        show_default=True,
        help="Output format.",
    )


def writing_options(default_format: str = "json") -> list[Decorator]:
    """--format, --limit, --out and --progress."""
    return [
        format_option(default_format),
        click.option("--limit", type=click.IntRange(min=1), help="Stop after N records."),
        click.option(
            "--out", metavar="FILE", help="Write to FILE (replaced only when the run succeeds)."
        ),
        click.option(
            "--progress/--no-progress",
            default=None,
            help="Force the progress bar on or off (default: on when stderr is a terminal).",
        ),
    ]


def paging_options(*, prefetch: bool = True) -> list[Decorator]:
    """--pagesize (at least 1) and --prefetch (0 to the library's maximum)."""
    from acme_powerschool.pager import MAX_PREFETCH

    options = [click.option("--pagesize", type=click.IntRange(min=1), help="Records per request.")]
    if prefetch:
        options.append(
            click.option(
                "--prefetch",
                type=click.IntRange(0, MAX_PREFETCH),
                help=f"Pages to fetch ahead on worker threads, 0-{MAX_PREFETCH} (default: the "
                "client's adaptive window; 0 reads one page at a time).",
            )
        )
    return options


def apply(options: Sequence[Decorator], command: Any) -> Any:
    """`command` (a function, or a command already built) with `options`, shown in the order
    given: click puts a decorated function's options in reverse, a command's in order."""
    ordered = options if isinstance(command, click.Command) else list(reversed(options))
    for option in ordered:
        command = option(command)
    return command


def write_listing(
    source: Any,
    options: dict[str, Any],
    *,
    label: str,
    noun: str = "records",
    columns: Sequence[str] = (),
) -> None:
    """Every record of `source` (a Pager) written as the writing options say, with the
    progress bar, then `N records [written to FILE]` on stderr."""
    from acme_powerschool.cli.common import echo_err, state
    from acme_powerschool.cli.output import (
        RecordWriter,
        copy_records,
        output_stream,
        show_progress,
    )

    forced = options["progress"] if options["progress"] is not None else state().progress
    out = options["out"]
    with output_stream(out) as stream:
        writer = RecordWriter(stream, options["fmt"], warn=echo_err, columns=columns)
        progress = show_progress(forced)
        copy_records(source, writer, label=label, progress=progress, limit=options["limit"])
    echo_err(f"{writer.count} {noun}" + (f" written to {out}" if out else ""))
