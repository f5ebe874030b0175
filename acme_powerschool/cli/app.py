"""The root `acme-powerschool` group: its subcommands and the error contract (one `error: ...`
line on stderr, a non-zero status, never a traceback). It holds no command logic itself.
"""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Sequence
from typing import Any

import click

from acme_powerschool import __version__
from acme_powerschool.cli.common import (
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_CREDENTIAL_FILE,
    ENV_PLUGIN,
    ENV_SERVER,
    EXIT_ERROR,
    EXIT_HTTP_4XX,
    EXIT_HTTP_5XX,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CliState,
    CommandError,
    one_line,
)

PROG = "acme-powerschool"


def _error_message(exc: BaseException) -> str:
    """What to tell the user about an exception, on one line, without secrets."""
    from acme_powerschool.core.errors import AccessDenied, PowerSchoolError

    if isinstance(exc, AccessDenied):
        fields = [line for line in exc.access_requests.splitlines() if line.strip()]
        extra = f"; add to plugin.xml: {' '.join(fields)}" if fields else ""
        return f"access denied: {exc}{extra} (`acme-powerschool access-requests` prints the block)"
    if isinstance(exc, PowerSchoolError):
        details = _error_details(exc.errors, str(exc))
        return f"{exc}: {details}" if details else str(exc)
    try:
        import requests
    except ImportError:  # pragma: no cover - requests is a hard dependency
        requests = None  # type: ignore[assignment]
    if requests is not None:
        if isinstance(exc, requests.exceptions.SSLError):
            return "TLS error talking to the server (certificate not trusted?)"
        if isinstance(exc, requests.exceptions.Timeout):
            return "the server did not answer in time"
        if isinstance(exc, requests.exceptions.ConnectionError):
            return "cannot connect to the server (is the address right and the server up?)"
        if isinstance(exc, requests.exceptions.RequestException):
            return f"request failed: {type(exc).__name__}"
    if isinstance(exc, OSError) and exc.strerror:
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror}{where}"
    if isinstance(exc, ImportError):
        return f"{exc} (is the right extra installed? pip install 'acme-powerschool[cli]')"
    return str(exc) or type(exc).__name__


def _error_details(errors: Sequence[Any], message: str) -> str:
    """PowerSchool's error entries (`{"field": "schoolid", "code": "Invalid number"}`) as
    `schoolid: Invalid number; ...`, leaving out what the message already says."""
    parts: list[str] = []
    for entry in errors:
        if isinstance(entry, dict):
            said = [
                str(entry[key]).strip()
                for key in ("field", "code", "message")
                if isinstance(entry.get(key), str | int) and str(entry[key]).strip()
            ]
            text = ": ".join(dict.fromkeys(said))
        else:
            text = str(entry).strip()
        if text and text not in message and text not in parts:
            parts.append(text)
    return "; ".join(parts)


def _is_transport(exc: BaseException | None) -> bool:
    """A connection failure or timeout, here or anywhere in the chain of causes."""
    try:
        import requests
    except ImportError:  # pragma: no cover - requests is a hard dependency
        return False
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.Timeout):
            return True
        exc = exc.__cause__ or exc.__context__
    return False


def exit_code_for(exc: BaseException) -> int:
    """One rule for every command: 4 for a 4xx answer, 5 for a 5xx answer or a transport
    failure (no answer at all), 1 for anything else (the raw verbs exit the same way)."""
    from acme_powerschool.core.errors import PowerSchoolError, ServerError

    if isinstance(exc, PowerSchoolError) and exc.status:
        if 400 <= exc.status < 500:
            return EXIT_HTTP_4XX
        if exc.status >= 500:
            return EXIT_HTTP_5XX
        return EXIT_ERROR
    if isinstance(exc, ServerError) or _is_transport(exc):
        return EXIT_HTTP_5XX
    return EXIT_ERROR


class RootGroup(click.Group):
    """The top-level group: typed families are added lazily, errors become one line."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_families()})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name.replace("-", "_") in _families():
            from acme_powerschool.cli.resources import family_group

            command = family_group(cmd_name.replace("-", "_"))
            self.add_command(command, cmd_name)
        return command

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        windows_expand_args: bool = True,
        **extra: Any,
    ) -> Any:
        code = _run_safely(
            lambda: super(RootGroup, self).main(
                args, PROG, complete_var, standalone_mode=False, **extra
            )
        )
        if standalone_mode:
            sys.exit(code)
        return code


def _run_safely(invoke: Any) -> int:
    from acme_powerschool.core.errors import PowerSchoolError

    try:
        result = invoke()
    except click.UsageError as exc:
        hint = f" (see `{exc.ctx.command_path} --help`)" if exc.ctx is not None else ""
        return _fail(exc.format_message() + hint, EXIT_USAGE)
    except CommandError as exc:
        return _fail(exc.format_message(), exc.code)
    except click.ClickException as exc:
        return _fail(exc.format_message(), exc.exit_code)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except (click.Abort, KeyboardInterrupt):
        return _fail("interrupted", EXIT_INTERRUPTED)
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, as shell tools do.
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - kept open until exit
        return EXIT_ERROR
    except (PowerSchoolError, RuntimeError, ValueError, OSError, ImportError, LookupError) as exc:
        return _fail(_error_message(exc), exit_code_for(exc))
    return result if isinstance(result, int) else 0


def _fail(message: str, code: int) -> int:
    # stderr itself may be gone (a closed pipe): the exit status still tells.
    with contextlib.suppress(OSError):
        click.echo(f"error: {one_line(message)}", err=True)
    return code


def _families() -> list[str]:
    try:
        from acme_powerschool.cli.resources import family_names

        return family_names()
    except ImportError:  # the typed layer is not there: the other commands still work
        return []


@click.group(
    cls=RootGroup,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    help=(
        "Talk to a PowerSchool SIS from the shell: raw requests, typed helpers, PowerQueries, "
        "Oracle SQL, credentials and a local simulator.\n\n"
        f"Connection options work on every command, or come from the environment: {ENV_SERVER}, "
        f"{ENV_PLUGIN}, {ENV_CREDENTIAL_FILE}, {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}.\n\n"
        "\b\nExamples:\n"
        '  acme-powerschool login --server district.powerschool.com --plugin "My Plugin"\n'
        "  acme-powerschool students get 2 --expansions contact_info\n"
        "  acme-powerschool get ws/v1/district/school\n"
        "  acme-powerschool query com.acme.sdk.students.flat --format csv --out students.csv"
    ),
)
@click.version_option(__version__, "--version", prog_name=PROG)
@click.pass_context
def cli(ctx: click.Context) -> None:
    if not isinstance(ctx.obj, CliState):
        ctx.obj = CliState()


def _register() -> None:
    from acme_powerschool.cli.auth import login, logout, token
    from acme_powerschool.cli.query import access_requests_command, query_command
    from acme_powerschool.cli.raw import RAW_COMMANDS
    from acme_powerschool.cli.simulate import simulate
    from acme_powerschool.cli.sql import sql
    from acme_powerschool.cli.sync import sync

    for command in (*RAW_COMMANDS, query_command, access_requests_command):
        cli.add_command(command)
    for command in (login, logout, token, sql, simulate, sync):
        cli.add_command(command)


_register()


def run(argv: Sequence[str] | None = None) -> int:
    """The console script: run `cli` and exit with its status."""
    code = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    sys.exit(code if isinstance(code, int) else 0)
