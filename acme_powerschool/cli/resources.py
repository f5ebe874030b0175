"""`students get 2`, `schools list`, `sections count --school 5`...: commands built from the
generated operations table (`acme_powerschool.endpoints.operations`), never written by hand per
resource and never guessed from signatures.

Every family in the table becomes a group; each operation a command whose arguments and options
are its parameters. Operations sharing a command name (`list`, `count`) become one command, each
scoped one as `--<scope> ID`. Bulk writes are left to `acme-powerschool post`; an operation whose
return shape this module does not know is an error when the commands are built, never a command
that silently goes missing. Nothing here knows a PowerSchool URL.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import click

from acme_powerschool.cli.common import (
    EXIT_USAGE,
    CommandError,
    Connection,
    IdType,
    ParamTypeBase,
    connection_options,
    echo_err,
    state,
)
from acme_powerschool.cli.options import format_option, writing_options
from acme_powerschool.cli.output import (
    RecordWriter,
    copy_records,
    model_columns,
    output_stream,
    show_progress,
)

if TYPE_CHECKING:
    from acme_powerschool.runtime import Operation as HelperOperation
    from acme_powerschool.runtime import Parameter

# Help for the query parameters every generated helper shares (by parameter name).
PARAM_HELP = {
    "q": "PowerSchool q filter, like 'name.last_name==Sm*'.",
    "expansions": "Expansions to include (comma-separated or repeated)",
    "extensions": "Extensions to include (comma-separated or repeated).",
    "projection": "Fields to return (comma-separated or repeated).",
    "order": "Sort order, like students.last_name;desc.",
    "pagesize": "Records per request (default: the server's maximum).",
    "prefetch": "Pages to fetch ahead on worker threads (0-16).",
}
LIST, COUNT = "list", "count"
SHOWN = frozenset({"one", "many", "count"})
"""Return shapes the CLI prints."""
NOT_COMMANDS = {"write": "bulk writes are sent with `acme-powerschool post`"}
"""Return shapes deliberately offered as no command, and why."""


# -- describing a helper --------------------------------------------------------------------


@attrs.frozen
class Param:
    """One parameter of a helper, as the command line sees it."""

    name: str
    type: ParamTypeBase
    multiple: bool = False
    required: bool = False
    default: Any = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")


@attrs.frozen
class Operation:
    """One helper method: `positional` become arguments, `keywords` options; `kind` says what it
    returns (one model, a Pager of models, or a count)."""

    family: str
    method: str
    kind: str
    positional: tuple[Param, ...]
    keywords: tuple[Param, ...]
    doc: str
    command: str = ""
    scope: str | None = None

    def call(self, client: Any, positional: Sequence[Any], keywords: dict[str, Any]) -> Any:
        family = getattr(client, self.family)
        return getattr(family, self.method)(*positional, **keywords)


_CLICK_TYPES: dict[str, Callable[[], ParamTypeBase]] = {
    "id": IdType,
    "int": lambda: click.INT,
    "bool": lambda: click.BOOL,
    "float": lambda: click.FLOAT,
    "str": lambda: click.STRING,
}


# Paging numbers the library would refuse later are usage errors here (by parameter name).
NUMBER_TYPES: dict[str, Callable[[], ParamTypeBase]] = {
    "pagesize": lambda: click.IntRange(min=1),
    "prefetch": lambda: click.IntRange(0, _max_prefetch()),
}


def _max_prefetch() -> int:
    from acme_powerschool.pager import MAX_PREFETCH

    return MAX_PREFETCH


def _param(parameter: Parameter) -> Param:
    if parameter.choices:
        kind: ParamTypeBase = click.Choice(parameter.choices, case_sensitive=False)
    elif parameter.name in NUMBER_TYPES:
        kind = NUMBER_TYPES[parameter.name]()
    else:
        kind = _CLICK_TYPES[parameter.type]()
    return Param(parameter.name, kind, parameter.multiple, parameter.required, parameter.default)


def describe(op: HelperOperation) -> Operation | None:
    """The command-line Operation for one row of the operations table; None for the shapes
    deliberately left out (NOT_COMMANDS). LookupError for a shape nobody decided about."""
    if op.returns in NOT_COMMANDS:
        return None
    if op.returns not in SHOWN:
        raise LookupError(
            f"{op.family}.{op.method} returns {op.returns!r}: the CLI shows "
            f"{', '.join(sorted(SHOWN))} and skips {', '.join(NOT_COMMANDS)}; decide in "
            "acme_powerschool/cli/resources.py"
        )
    return Operation(
        family=op.family,
        method=op.method,
        kind=op.returns,
        positional=tuple(_param(p) for p in op.positional),
        keywords=tuple(_param(p) for p in op.keywords),
        doc=op.summary,
        command=op.command,
        scope=op.scope,
    )


def _table() -> tuple[HelperOperation, ...]:
    from acme_powerschool.endpoints.operations import OPERATIONS

    return OPERATIONS


def family_names() -> list[str]:
    """The typed families the client exposes (`students`, `schools`, ...)."""
    return sorted({op.family for op in _table()})


def operations(family: str) -> list[Operation]:
    """The commands' operations of one family, in table order."""
    described = (describe(op) for op in _table() if op.family == family)
    return [op for op in described if op is not None]


# -- building commands ----------------------------------------------------------------------


def _split_values(param: Param) -> Callable[[click.Context, click.Parameter, Any], Any]:
    """Comma-separated and repeated values in one list, each converted to the item type."""

    def callback(ctx: click.Context, option: click.Parameter, values: Any) -> Any:
        if not param.multiple:
            return values
        items = [part.strip() for value in values for part in str(value).split(",")]
        return [param.type.convert(item, option, ctx) for item in items if item]

    return callback


def _help(param: Param) -> str:
    text = PARAM_HELP.get(param.name)
    if text is None:
        text = param.name.replace("_", " ").capitalize()
        text += " (comma-separated or repeated)." if param.multiple else "."
    if isinstance(param.type, click.Choice):
        text = text.rstrip(".") + "; one of: " + ", ".join(map(str, param.type.choices)) + "."
    return text


def _option(param: Param) -> Callable[[Any], Any]:
    if param.multiple:
        return click.option(
            param.flag,
            param.name,
            multiple=True,
            required=param.required,
            callback=_split_values(param),
            metavar=f"{param.type.name.upper()}[,...]",
            help=_help(param),
        )
    if param.type is click.BOOL:
        flags = f"{param.flag}/--no-{param.flag[2:]}"
        return click.option(flags, param.name, default=param.default, help=_help(param))
    return click.option(
        param.flag,
        param.name,
        type=param.type,
        required=param.required,
        default=param.default,
        help=_help(param),
    )


def _given(ctx: click.Context, name: str) -> bool:
    source = ctx.get_parameter_source(name)
    return source is not None and source is not click.core.ParameterSource.DEFAULT


def _output_options(kind: str) -> list[Callable[[Any], Any]]:
    if kind == "count":
        return []
    return writing_options() if kind == "many" else [format_option()]


def _pop_output(values: dict[str, Any]) -> dict[str, Any]:
    """The output options (format, limit, out, progress), taken out of a command's values."""
    defaults = {"fmt": "json", "limit": None, "out": None, "progress": None}
    return {key: values.pop(key, default) for key, default in defaults.items()}


def _record_columns(client: Any, op: Operation) -> list[str]:
    """The csv columns of the records `op` returns (so that an empty result has a header):
    the fields of the model its helper is annotated to return."""
    import typing

    try:
        method = getattr(type(getattr(client, op.family)), op.method)
        returns = typing.get_type_hints(method).get("return")
    except Exception:  # a stand-in client, unresolvable annotations: the records' own columns
        return []
    args = typing.get_args(returns)
    model = args[0] if args else returns
    return model_columns(model) if isinstance(model, type) else []


def _emit(op: Operation, client: Any, result: Any, output: dict[str, Any]) -> None:
    if op.kind == "count":
        click.echo(str(result))
        return
    forced = output["progress"] if output["progress"] is not None else state().progress
    with output_stream(output["out"]) as stream:
        writer = RecordWriter(
            stream,
            output["fmt"],
            single=op.kind == "one",
            warn=echo_err,
            columns=_record_columns(client, op),
        )
        if op.kind == "one":
            writer.write(result)
            writer.close()
            return
        label = f"{op.family} {op.command or op.method}"
        copy_records(
            result, writer, label=label, progress=show_progress(forced), limit=output["limit"]
        )


def _run(
    op: Operation,
    conn: Connection,
    positional: list[Any],
    keywords: dict[str, Any],
    output: dict[str, Any],
) -> None:
    client = conn.client()
    _emit(op, client, op.call(client, positional, keywords), output)


# Ids the examples use: ones the simulator has, so that every --help example runs there.
EXAMPLE_IDS = {"school": "100", "section": "1", "enrollment": "101"}


def _example_id(op: Operation, param: Param) -> str:
    if param.name != "id":
        subject = param.name.removesuffix("_id")
    else:
        subject = op.method if op.method != "get" else op.family.removesuffix("s")
    return EXAMPLE_IDS.get(subject, "2")


def _example(family: str, command: str, op: Operation) -> str:
    words = ["acme-powerschool", family.replace("_", "-"), command]
    words += [_example_id(op, p) for p in op.positional]
    words += [f"{p.flag} 100" for p in op.keywords if p.required]
    return " ".join(words)


def operation_command(op: Operation) -> click.Command:
    """One helper method as a command: positional parameters as arguments, keywords as options."""
    command_name = op.command or op.method.replace("_", "-")

    def run(conn: Connection, **values: Any) -> None:
        output = _pop_output(values)
        positional = [values.pop(p.name) for p in op.positional]
        keywords = {k: v for k, v in values.items() if v is not None and v != []}
        _run(op, conn, positional, keywords, output)

    help_text = f"{op.doc}\n\n\b\nExample:\n  {_example(op.family, command_name, op)}"
    decorated: Any = connection_options(run)
    for option in reversed(_output_options(op.kind)):
        decorated = option(decorated)
    for param in reversed(op.keywords):
        decorated = _option(param)(decorated)
    for param in reversed(op.positional):
        decorated = click.argument(param.name, type=param.type, metavar=param.name.upper())(
            decorated
        )
    return click.command(name=command_name, help=help_text, short_help=_first_line(op.doc))(
        decorated
    )


@attrs.frozen
class _Merged:
    """`list` (or `count`): the plain operation and the scoped ones, one command."""

    name: str
    plain: Operation | None
    scoped: dict[str, Operation]

    @property
    def flags(self) -> dict[str, str]:
        return {scope: "--" + scope.replace("_", "-") for scope in self.scoped}

    @property
    def options(self) -> dict[str, Param]:
        every = [op for op in (self.plain, *self.scoped.values()) if op is not None]
        options: dict[str, Param] = {}
        for op in every:
            for param in op.keywords:
                options.setdefault(param.name, attrs.evolve(param, required=False))
        return options

    def choose(self, family: str, values: dict[str, Any]) -> tuple[Operation, list[Any], str]:
        """The operation the options pick, its positional arguments and the scope flag used."""
        chosen = [scope for scope in self.scoped if values.get(f"scope_{scope}") is not None]
        if len(chosen) > 1:
            flags = ", ".join(self.flags[s] for s in chosen)
            raise CommandError(f"give only one of {flags}", EXIT_USAGE)
        if chosen:
            scope = chosen[0]
            return self.scoped[scope], [values[f"scope_{scope}"]], self.flags[scope]
        if self.plain is None:
            flags = " or ".join(f"{flag} ID" for flag in self.flags.values())
            raise CommandError(f"{family} {self.name} needs {flags}", EXIT_USAGE)
        return self.plain, [], ""

    def arguments(self, op: Operation, flag: str, values: dict[str, Any]) -> dict[str, Any]:
        """The keyword arguments `op` takes; an option it does not take is a usage error."""
        ctx = click.get_current_context()
        accepted = {p.name for p in op.keywords}
        arguments: dict[str, Any] = {}
        for key, param in self.options.items():
            value = values.get(key)
            if key in accepted:
                if value is not None and value != []:
                    arguments[key] = value
            elif _given(ctx, key):
                where = f"with {flag}" if flag else "without a scope option"
                raise CommandError(f"{param.flag} is not available {where}", EXIT_USAGE)
        missing = [p.flag for p in op.keywords if p.required and p.name not in arguments]
        if missing:
            raise CommandError(f"missing option {', '.join(missing)}", EXIT_USAGE)
        return arguments

    def help_text(self, family: str) -> str:
        lines = []
        if self.plain is not None:
            lines.append(f"Without a scope option: {_first_line(self.plain.doc)}")
        for scope, op in self.scoped.items():
            lines.append(f"With {self.flags[scope]} ID: {_first_line(op.doc)}")
        example_scope = ""
        if self.scoped:
            scope, flag = next(iter(self.flags.items()))
            example_scope = f" {flag} {EXAMPLE_IDS.get(scope, '100')}"
        example = f"acme-powerschool {family.replace('_', '-')} {self.name}{example_scope}"
        return "\n\n".join(lines) + f"\n\n\b\nExample:\n  {example}"


def merged_command(
    name: str, plain: Operation | None, scoped: dict[str, Operation]
) -> click.Command:
    """`list` (or `count`) over the plain method and the scoped ones: `--<x> ID` picks one."""
    merged = _Merged(name, plain, scoped)
    first = plain or next(iter(scoped.values()))
    kind, family = first.kind, first.family

    def run(conn: Connection, **values: Any) -> None:
        output = _pop_output(values)
        op, positional, flag = merged.choose(family, values)
        _run(op, conn, positional, merged.arguments(op, flag, values), output)

    decorated: Any = connection_options(run)
    for option in reversed(_output_options(kind)):
        decorated = option(decorated)
    for param in reversed(list(merged.options.values())):
        decorated = _option(param)(decorated)
    for scope, op in reversed(list(scoped.items())):
        decorated = click.option(
            merged.flags[scope],
            f"scope_{scope}",
            type=op.positional[0].type,
            metavar="ID",
            help=f"Only those of one {scope.replace('_', ' ')} ({op.positional[0].name}).",
        )(decorated)
    short = f"{'List' if name == LIST else 'Count'} {family.replace('_', ' ')}."
    return click.command(name=name, help=merged.help_text(family), short_help=short)(decorated)


def _first_line(doc: str) -> str:
    return " ".join(doc.split("\n\n")[0].split())


def family_commands(family: str) -> dict[str, click.Command]:
    """Every command of one family, by name: operations sharing a name are one command."""
    by_name: dict[str, list[Operation]] = {}
    for op in operations(family):
        by_name.setdefault(op.command, []).append(op)
    commands: dict[str, click.Command] = {}
    for name, ops in by_name.items():
        scoped = {op.scope: op for op in ops if op.scope is not None}
        plain = [op for op in ops if op.scope is None]
        if scoped or name in (LIST, COUNT):
            commands[name] = merged_command(name, plain[0] if plain else None, scoped)
        else:
            commands[name] = operation_command(plain[0])
    return commands


class FamilyGroup(click.Group):
    """A resource family's commands, built when the family is first used (or listed)."""

    def __init__(self, family: str, **kwargs: Any) -> None:
        super().__init__(name=family.replace("_", "-"), **kwargs)
        self.family = family
        self._built = False

    def _build(self) -> None:
        if not self._built:
            self._built = True
            for name, command in family_commands(self.family).items():
                self.add_command(command, name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self._build()
        return super().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self._build()
        return super().get_command(ctx, cmd_name)


def family_group(family: str) -> click.Group:
    title = family.replace("_", " ")
    example_id = EXAMPLE_IDS.get(family.removesuffix("s"), "2")
    first = f"get {example_id}" if family != "powerqueries" else "students-flat --format csv"
    return FamilyGroup(
        family,
        help=(
            f"Typed {title} helpers (generated from the specs).\n\n"
            f"\b\nExample:\n  acme-powerschool {family.replace('_', '-')} {first}"
        ),
        short_help=f"Typed {title} helpers.",
    )
