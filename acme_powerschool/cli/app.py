"""The root `acme-powerschool` group: its subcommands and the error contract (one `error: ...`
line on stderr, a non-zero status, never a traceback). It holds no command logic itself.
"""

from __future__ import annotations

import contextlib
import io
import os
import sys
import warnings
from collections.abc import Sequence
from typing import Any

import click

from acme_powerschool import __version__
from acme_powerschool.cli.common import (
    ENV_CA_BUNDLE,
    ENV_CLIENT_ID,
    ENV_CLIENT_SECRET,
    ENV_CREDENTIAL_FILE,
    ENV_DEBUG,
    ENV_PLUGIN,
    ENV_SERVER,
    ENV_TIMEOUT,
    EXIT_BROKEN_PIPE,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    CliState,
    CommandError,
    one_line,
)
from acme_powerschool.cli.errors import error_message, exit_code_for
from acme_powerschool.cli.settings import ENV_CONFIG, ENV_PROFILE

PROG = "acme-powerschool"


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

    def invoke(self, ctx: click.Context) -> Any:
        """Run the command; a library error becomes the one error line, naming the server."""
        from acme_powerschool.core.errors import PowerSchoolError

        try:
            return super().invoke(ctx)
        except BrokenPipeError:
            # The reader went away (`... | head`): stop quietly, as shell tools do.
            _silence_stdout()
            raise click.exceptions.Exit(EXIT_BROKEN_PIPE) from None
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except (
            PowerSchoolError,
            RuntimeError,
            ValueError,
            OSError,
            ImportError,
            LookupError,
        ) as exc:
            server = getattr(ctx.obj, "server", None) or "the server"
            raise CommandError(error_message(exc, server), exit_code_for(exc)) from exc

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
    with warnings.catch_warnings():
        warnings.simplefilter("default")
        warnings.showwarning = _show_warning
        try:
            return _outcome(invoke)
        finally:
            _quiet_exit_if_pipe_closed()


def _outcome(invoke: Any) -> int:
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
        return EXIT_BROKEN_PIPE  # the reader went away (`... | head`): stop quietly
    except (PowerSchoolError, RuntimeError, ValueError, OSError, ImportError, LookupError) as exc:
        return _fail(error_message(exc), exit_code_for(exc))
    return result if isinstance(result, int) else 0


def _quiet_exit_if_pipe_closed() -> None:
    """After `| head` closed the pipe, Python would complain while flushing stdout at exit."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
    except (OSError, ValueError):
        pass


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that nothing more is said into a closed pipe."""
    with contextlib.suppress(OSError, AttributeError, ValueError, io.UnsupportedOperation):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def _show_warning(
    message: Warning | str,
    category: type[Warning],
    filename: str,
    lineno: int,
    file: Any = None,
    line: str | None = None,
) -> None:
    """A warning as one `warning: ...` line on stderr, never Python's file:line and source."""
    with contextlib.suppress(OSError):
        click.echo(f"warning: {one_line(message)}", err=True)


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
        "Talk to a PowerSchool SIS from the shell: raw requests, typed helpers, schema tables, "
        "PowerQueries, Oracle SQL, credentials and a local simulator.\n\n"
        "The connection options go before the command (or after it), or come from "
        f"{ENV_SERVER}, {ENV_PLUGIN}, {ENV_CREDENTIAL_FILE}, {ENV_CA_BUNDLE} and {ENV_TIMEOUT}, "
        f"or from a profile of the config file ({ENV_CONFIG} names another file); client "
        f"credentials come from {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}.\n\n"
        "Exit status: 0 success, 1 error, 2 usage, 4 refused by the server, 5 try again "
        "later.\n\n"
        "\b\nExamples:\n"
        "  acme-powerschool students get 2 --expansions contact_info\n"
        "  acme-powerschool --timeout 60 get ws/v1/district/school\n"
        "  acme-powerschool query com.acme.sdk.students.flat --format csv --out students.csv"
    ),
)
@click.version_option(__version__, "--version", prog_name=PROG)
@click.option(
    "--profile", metavar="NAME", help=f"A profile of the config file [env {ENV_PROFILE}]."
)
@click.option("--server", metavar="HOST", help=f"PowerSchool server [env {ENV_SERVER}].")
@click.option(
    "--plugin", metavar="NAME", help=f"Credentials from the OS keyring [env {ENV_PLUGIN}]."
)
@click.option(
    "--credential-file", metavar="FILE", help=f"A JSON credential file [env {ENV_CREDENTIAL_FILE}]."
)
@click.option(
    "--ca-bundle", metavar="FILE", help=f"CA certificates for a private CA [env {ENV_CA_BUNDLE}]."
)
@click.option("--timeout", metavar="SECONDS", help=f"Connect and read timeout [env {ENV_TIMEOUT}].")
@click.option(
    "-v", "--verbose", count=True, help="Log retries and token refreshes (twice: --debug)."
)
@click.option(
    "--debug",
    is_flag=True,
    envvar=ENV_DEBUG,
    help=f"Log every request, secrets redacted [env {ENV_DEBUG}].",
)
@click.pass_context
def cli(
    ctx: click.Context, /, profile: str | None, verbose: int, debug: bool, **options: Any
) -> None:
    if not isinstance(ctx.obj, CliState):
        ctx.obj = CliState()
    ctx.obj.profile = profile
    ctx.obj.options = {name: value for name, value in options.items() if value is not None}
    from acme_powerschool.cli.logs import configure, unconfigure

    handler = configure(2 if debug else verbose, ctx.obj.tokens)
    ctx.call_on_close(lambda: unconfigure(handler))


def _register() -> None:
    from acme_powerschool.cli.auth import login, logout, token
    from acme_powerschool.cli.query import access_requests_command, query_command
    from acme_powerschool.cli.raw import RAW_COMMANDS
    from acme_powerschool.cli.simulate import simulate
    from acme_powerschool.cli.sql import sql
    from acme_powerschool.cli.sync import sync
    from acme_powerschool.cli.tables import table

    for command in (*RAW_COMMANDS, query_command, access_requests_command):
        cli.add_command(command)
    for command in (login, logout, token, sql, simulate, sync, table):
        cli.add_command(command)


_register()


def run(argv: Sequence[str] | None = None) -> int:
    """The console script: run `cli` and exit with its status."""
    code = cli.main(args=list(argv) if argv is not None else None, standalone_mode=False)
    sys.exit(code if isinstance(code, int) else 0)
