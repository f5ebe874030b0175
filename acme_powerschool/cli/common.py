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

if TYPE_CHECKING:
    from acme_powerschool.cli.settings import Value
    from acme_powerschool.client import api

ENV_SERVER = "ACME_POWERSCHOOL_SERVER"
ENV_PLUGIN = "ACME_POWERSCHOOL_PLUGIN"
ENV_CREDENTIAL_FILE = "ACME_POWERSCHOOL_CREDENTIAL_FILE"
ENV_CLIENT_ID = "ACME_POWERSCHOOL_CLIENT_ID"
ENV_CLIENT_SECRET = "ACME_POWERSCHOOL_CLIENT_SECRET"
ENV_CA_BUNDLE = "ACME_POWERSCHOOL_CA_BUNDLE"
ENV_TIMEOUT = "ACME_POWERSCHOOL_TIMEOUT"
ENV_DEBUG = "ACME_POWERSCHOOL_DEBUG"

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_REFUSED = 4
EXIT_TRY_LATER = 5
EXIT_INTERRUPTED = 130
EXIT_BROKEN_PIPE = 141

EXIT_CODES: dict[int, str] = {
    EXIT_OK: "success",
    EXIT_ERROR: "any other error: credentials or settings missing, a file, a malformed answer, "
    "TLS verification (`token`: no valid token cached)",
    EXIT_USAGE: "a usage error: unknown command or option, a bad number, malformed `--arg`/"
    "`--data`, an unusable setting in a variable or the config file",
    EXIT_REFUSED: "the server refused the request as sent (400, 401 bad credentials, 403, 404, "
    "409...): fix the request",
    EXIT_TRY_LATER: "try again later: 5xx, a maintenance page, throttling (429) that outlasted "
    "the retries, no answer or a broken-off answer (refused, timeout, reset, truncated body), "
    "on the token request as on any other",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
    EXIT_BROKEN_PIPE: "the reader of stdout went away (`| head`); nothing is printed",
}
"""The one exit-status table (docs/cli.md shows it; a test keeps the two equal)."""

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
    options: dict[str, Any] = attrs.field(factory=dict)
    """Connection options given before the command (`acme-powerschool --server X get ...`)."""
    profile: str | None = None
    server: str | None = None
    """The server of the running command, once known (error lines name it)."""

    clients: list[Any] = attrs.field(factory=list)
    """The clients this run built (their tokens are redacted from --debug lines)."""

    def client(self, *args: Any, **kwargs: Any) -> api:
        if self.make_client is not None:
            made = self.make_client(*args, **kwargs)
        else:
            from acme_powerschool.client import api

            made = api(*args, **kwargs)
        self.clients.append(made)
        return made

    def tokens(self) -> list[str]:
        """Every access token the clients of this run hold now."""
        states = (getattr(client, "token_state", None) for client in self.clients)
        return [state.access_token for state in states if state is not None]


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
    """`text` on one line, shortened, with control characters escaped: an error message must
    never spill over, nor carry a terminal escape a server sent."""
    from acme_powerschool.cli.output import terminal_safe

    flat = terminal_safe(" ".join(str(text).split()), keep_newlines=False)
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


class IdType(ParamTypeBase):
    """A PowerSchool id, read by the library's one id rule (core/ids.py: `03001` stays text,
    `2` is 2, `²` is refused): a bad id is a usage error naming the problem."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        from acme_powerschool.core.ids import InvalidId, parse_id

        try:
            return parse_id(value)
        except InvalidId as exc:
            self.fail(str(exc), param, ctx)


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
    ca_bundle: str | None = None
    timeout: float | None = None

    def require_server(self) -> str:
        if not self.server or not self.server.strip():
            raise CommandError(
                f"no server given: pass --server HOST, set {ENV_SERVER} or choose a --profile"
            )
        return self.server.strip()

    def client(self) -> api:
        """An `acme_powerschool.api` for this connection (no request is sent yet)."""
        server = self.require_server()
        cli_state = state()
        transport: dict[str, Any] = {}
        if self.ca_bundle:
            transport["verify"] = self.ca_bundle
        if self.timeout is not None:
            transport["timeout"] = self.timeout
        if self.plugin:
            return cli_state.client(server, plugin=self.plugin, prompt=hidden_prompt, **transport)
        if self.credential_file:
            return cli_state.client(server, credential_file=self.credential_file, **transport)
        client_id, client_secret = client_variables()
        return cli_state.client(
            server, client_id=client_id, client_secret=client_secret, **transport
        )


def client_variables() -> tuple[str, str]:
    """The client id and secret of the two variables, or a CommandError saying what is missing."""
    client_id = os.environ.get(ENV_CLIENT_ID, "").strip()
    client_secret = os.environ.get(ENV_CLIENT_SECRET, "").strip()
    if client_id and client_secret:
        return client_id, client_secret
    if client_id or client_secret:
        missing = ENV_CLIENT_SECRET if client_id else ENV_CLIENT_ID
        raise CommandError(f"{missing} is not set (both client variables are needed)")
    raise CommandError(
        f"no credentials: pass --plugin NAME or --credential-file FILE (or set {ENV_PLUGIN} "
        f"or {ENV_CREDENTIAL_FILE}, or choose a --profile), or set {ENV_CLIENT_ID} and "
        f"{ENV_CLIENT_SECRET}; `acme-powerschool login --help` shows how to store them"
    )


def _choose_pattern(values: dict[str, Value]) -> tuple[str | None, str | None]:
    """One credential pattern: the store said most directly wins (the command line beats a
    variable, which beats the profile); both said equally directly is a usage error."""
    plugin, credential_file = values.get("plugin"), values.get("credential_file")
    if plugin is None or credential_file is None:
        return (
            plugin.value if plugin else None,
            credential_file.value if credential_file else None,
        )
    if plugin.rank < credential_file.rank:
        return plugin.value, None
    if credential_file.rank < plugin.rank:
        return None, credential_file.value
    raise CommandError(
        f"give either --plugin or --credential-file, not both ({plugin.source} and "
        f"{credential_file.source})",
        EXIT_USAGE,
    )


def resolve_connection(**command_options: Any) -> Connection:
    """The connection the user meant: options after the command, then those before it, then
    the ACME_POWERSCHOOL_* variables, then the chosen profile of the config file."""
    from acme_powerschool.cli.settings import as_ca_bundle, as_timeout, resolve

    cli_state = state()
    given = {**cli_state.options, **{k: v for k, v in command_options.items() if v}}
    values = resolve(given, os.environ, cli_state.profile)
    plugin, credential_file = _choose_pattern(values)
    server = values.get("server")
    cli_state.server = str(server.value) if server else None
    return Connection(
        server=str(server.value) if server else None,
        plugin=str(plugin) if plugin else None,
        credential_file=os.path.expanduser(str(credential_file)) if credential_file else None,
        ca_bundle=as_ca_bundle(values.get("ca_bundle")),
        timeout=as_timeout(values.get("timeout")),
    )


def connection_options(func: F) -> F:
    """Add --server, --plugin and --credential-file after the command too (they may also come
    before it, from the environment or from a profile) and pass the command one
    `conn: Connection` instead."""

    @functools.wraps(func)
    def wrapper(
        *args: Any,
        server: str | None,
        plugin: str | None,
        credential_file: str | None,
        **kwargs: Any,
    ) -> Any:
        kwargs["conn"] = resolve_connection(
            server=server, plugin=plugin, credential_file=credential_file
        )
        return func(*args, **kwargs)

    options = (
        click.option(
            "--server",
            metavar="HOST",
            help=f"PowerSchool server, like district.powerschool.com [env {ENV_SERVER}].",
        ),
        click.option(
            "--plugin",
            metavar="NAME",
            help=f"Use the credentials the OS keyring holds for this plugin [env {ENV_PLUGIN}].",
        ),
        click.option(
            "--credential-file",
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
