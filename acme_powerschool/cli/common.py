"""What every subcommand shares: connection options, the client factory, KEY=VALUE parsing and
the one-line error contract. It prints no secret and decides no PowerSchool policy.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

import attrs
import click
from click.core import ParameterSource

if TYPE_CHECKING:
    from acme_powerschool.client import api

ENV_SERVER = "ACME_POWERSCHOOL_SERVER"
ENV_PLUGIN = "ACME_POWERSCHOOL_PLUGIN"
ENV_CREDENTIAL_FILE = "ACME_POWERSCHOOL_CREDENTIAL_FILE"
ENV_CLIENT_ID = "ACME_POWERSCHOOL_CLIENT_ID"
ENV_CLIENT_SECRET = "ACME_POWERSCHOOL_CLIENT_SECRET"

EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_HTTP_4XX = 4
EXIT_HTTP_5XX = 5
EXIT_INTERRUPTED = 130

F = TypeVar("F", bound=Callable[..., Any])

if TYPE_CHECKING:
    ParamTypeBase = click.ParamType[Any, Any]
else:  # click before 8.5 is not generic at run time
    ParamTypeBase = click.ParamType


class CommandError(click.ClickException):
    """A failure the user can fix, shown as one `error: ...` line (exit 1 unless told)."""

    def __init__(self, message: str, exit_code: int = EXIT_ERROR) -> None:
        super().__init__(message)
        self.code = exit_code


@attrs.define
class CliState:
    """What the commands reach the outside world through; tests pass their own as `obj`.

    `make_client` builds an `acme_powerschool.api`, `oracle_connect` is `acme_powerschool.odbc`
    (tests inject a fake connection: there is no Oracle here), `stdin_is_tty` decides between a
    hidden prompt and reading piped lines, `progress` forces the progress bar on or off.
    """

    make_client: Callable[..., api] | None = None
    oracle_connect: Callable[..., Any] | None = None
    stdin_is_tty: Callable[[], bool] = attrs.field(factory=lambda: _stdin_is_tty)
    progress: bool | None = None

    def client(self, *args: Any, **kwargs: Any) -> api:
        if self.make_client is not None:
            return self.make_client(*args, **kwargs)
        from acme_powerschool.client import api

        return api(*args, **kwargs)


def _stdin_is_tty() -> bool:
    stream = sys.stdin
    return stream is not None and stream.isatty()


def state() -> CliState:
    """The CliState of the running command (a default one when none was given)."""
    ctx = click.get_current_context()
    root = ctx.find_root()
    if not isinstance(root.obj, CliState):
        root.obj = CliState()
    return root.obj


def one_line(text: object, limit: int = 400) -> str:
    """`text` on one line, shortened: an error message must never spill over."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


# -- KEY=VALUE ------------------------------------------------------------------------------


class KeyValue(ParamTypeBase):
    """`KEY=VALUE` (VALUE as text) or `KEY:=JSON` (VALUE parsed as JSON: numbers, arrays)."""

    name = "KEY=VALUE"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> tuple[str, Any]:
        if isinstance(value, tuple):
            return (str(value[0]), value[1])
        text = str(value)
        key, sep, raw = text.partition("=")
        if not sep or not key.strip(":").strip():
            self.fail(f"expected KEY=VALUE or KEY:=JSON, got {text!r}", param, ctx)
        if key.endswith(":"):
            key = key[:-1]
            try:
                return (key.strip(), json.loads(raw))
            except ValueError as exc:
                self.fail(f"{key.strip()}:= needs a JSON value ({exc.args[0]})", param, ctx)
        return (key.strip(), raw)


def pairs_to_dict(pairs: Sequence[tuple[str, Any]]) -> dict[str, Any]:
    """Repeated keys become a list, in order (`--arg id=1 --arg id=2` -> `{"id": ["1", "2"]}`)."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            previous = out[key]
            out[key] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            out[key] = value
    return out


# -- connection -----------------------------------------------------------------------------


@attrs.frozen
class Connection:
    """Where to connect and which credential pattern to use, as the user gave them."""

    server: str | None
    plugin: str | None = None
    credential_file: str | None = None

    def require_server(self) -> str:
        if not self.server or not self.server.strip():
            raise CommandError(f"no server given: pass --server HOST or set {ENV_SERVER}")
        return self.server.strip()

    def client(self) -> api:
        """An `acme_powerschool.api` for this connection (no request is sent yet)."""
        server = self.require_server()
        cli_state = state()
        if self.plugin:
            return cli_state.client(server, plugin=self.plugin, prompt=hidden_prompt)
        if self.credential_file:
            return cli_state.client(server, credential_file=self.credential_file)
        client_id = os.environ.get(ENV_CLIENT_ID, "").strip()
        client_secret = os.environ.get(ENV_CLIENT_SECRET, "").strip()
        if client_id and client_secret:
            return cli_state.client(server, client_id=client_id, client_secret=client_secret)
        if client_id or client_secret:
            missing = ENV_CLIENT_SECRET if client_id else ENV_CLIENT_ID
            raise CommandError(f"{missing} is not set (both client variables are needed)")
        raise CommandError(
            f"no credentials: pass --plugin NAME or --credential-file FILE (or set {ENV_PLUGIN} "
            f"or {ENV_CREDENTIAL_FILE}), or set {ENV_CLIENT_ID} and {ENV_CLIENT_SECRET}; "
            "`acme-powerschool login --help` shows how to store them"
        )


def _choose_pattern(
    ctx: click.Context, plugin: str | None, credential_file: str | None
) -> Connection:
    """One credential pattern: an option on the command line beats an environment variable."""
    if plugin and credential_file:
        from_cli = {
            name
            for name in ("plugin", "credential_file")
            if ctx.get_parameter_source(name) is ParameterSource.COMMANDLINE
        }
        if from_cli == {"plugin"}:
            credential_file = None
        elif from_cli == {"credential_file"}:
            plugin = None
        else:
            raise CommandError(
                "give either --plugin or --credential-file, not both "
                f"(check {ENV_PLUGIN} and {ENV_CREDENTIAL_FILE})",
                EXIT_USAGE,
            )
    return Connection(server=None, plugin=plugin or None, credential_file=credential_file or None)


def connection_options(func: F) -> F:
    """Add --server, --plugin and --credential-file (with their environment variables) and pass
    the command one `conn: Connection` instead."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        server: str | None,
        plugin: str | None,
        credential_file: str | None,
        **kwargs: Any,
    ) -> Any:
        chosen = _choose_pattern(click.get_current_context(), plugin, credential_file)
        kwargs["conn"] = attrs.evolve(chosen, server=server)
        return func(*args, **kwargs)

    options = (
        click.option(
            "--server",
            envvar=ENV_SERVER,
            metavar="HOST",
            help=f"PowerSchool server, like district.powerschool.com [env {ENV_SERVER}].",
        ),
        click.option(
            "--plugin",
            envvar=ENV_PLUGIN,
            metavar="NAME",
            help=f"Use the credentials the OS keyring holds for this plugin [env {ENV_PLUGIN}].",
        ),
        click.option(
            "--credential-file",
            envvar=ENV_CREDENTIAL_FILE,
            metavar="FILE",
            help=f"Use a JSON credential file [env {ENV_CREDENTIAL_FILE}].",
        ),
    )
    decorated: Any = wrapper
    for option in reversed(options):
        decorated = option(decorated)
    return decorated  # type: ignore[no-any-return]


# -- prompts ----------------------------------------------------------------------------------


def hidden_prompt(label: str) -> str:
    """Ask for a secret: hidden input on a terminal, one line of stdin when it is piped."""
    if state().stdin_is_tty():
        value: str = click.prompt(
            label.rstrip(": "), hide_input=True, err=True, default="", show_default=False
        )
        return value
    line = sys.stdin.readline()
    return line.rstrip("\r\n")


def read_text_argument(value: str, what: str) -> str:
    """`@FILE` (or `@-` for stdin) read as text, anything else taken as is."""
    if not value.startswith("@"):
        return value
    path = value[1:]
    if path == "-":
        return sys.stdin.read()
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"cannot read {what} file {path}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise CommandError(f"{what} file {path} is not UTF-8 text") from None


def read_bytes_file(path: str, what: str) -> bytes:
    """A whole file as bytes (`-` for stdin), or a CommandError naming it."""
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError as exc:
        raise CommandError(f"cannot read {what} {path}: {exc.strerror or exc}") from None


def echo_err(message: str) -> None:
    click.echo(message, err=True)
