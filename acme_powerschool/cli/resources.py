"""`students get 2`, `schools list`, `sections count --school 5`...: commands built from the
generated typed helpers by looking at them, never written by hand per resource.

Every family the client exposes (`ps.students`, `ps.schools`, ...) becomes a group; each public
method becomes a command whose arguments and options come from its signature. `for_<x>(x_id)`
methods join `list` as `--<x> ID`, `count_for_<x>` ones join `count`. Bulk writes are left to
`acme-powerschool post`. Nothing here knows a PowerSchool URL.
"""

from __future__ import annotations

import collections.abc
import inspect
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, Literal

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
from acme_powerschool.cli.output import (
    FORMATS,
    RecordWriter,
    copy_records,
    model_columns,
    output_stream,
    show_progress,
)

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
FOR_PREFIX, COUNT_FOR_PREFIX = "for_", "count_for_"


# -- describing a helper --------------------------------------------------------------------


# Paging numbers the library would refuse later are usage errors here (by parameter name).
NUMBER_TYPES: dict[str, Callable[[], ParamTypeBase]] = {
    "pagesize": lambda: click.IntRange(min=1),
    "prefetch": lambda: click.IntRange(0, _max_prefetch()),
}


def _max_prefetch() -> int:
    from acme_powerschool.pager import MAX_PREFETCH

    return MAX_PREFETCH


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
    model: type | None = None
    """The record class a `one` or `many` helper returns (its fields are the csv header)."""

    def call(self, client: Any, positional: Sequence[Any], keywords: dict[str, Any]) -> Any:
        family = getattr(client, self.family)
        return getattr(family, self.method)(*positional, **keywords)


def _strip_optional(hint: Any) -> tuple[Any, bool]:
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) < len(typing.get_args(hint)):
            return (args[0] if len(args) == 1 else typing.Union[tuple(args)]), True  # noqa: UP007
    return hint, False


def _scalar_type(hint: Any) -> ParamTypeBase:
    hint, _ = _strip_optional(hint)
    origin = typing.get_origin(hint)
    if origin is Literal:
        return click.Choice([str(v) for v in typing.get_args(hint)], case_sensitive=False)
    if origin in (typing.Union, types.UnionType):
        return IdType()
    if hint is bool:
        return click.BOOL
    if hint is int:
        return click.INT
    if hint is float:
        return click.FLOAT
    return click.STRING


def _is_sequence(hint: Any) -> Any | None:
    """The item type when `hint` is a (non-text) sequence, else None."""
    hint, _ = _strip_optional(hint)
    origin = typing.get_origin(hint)
    if origin in (collections.abc.Sequence, list, tuple, collections.abc.Iterable):
        args = typing.get_args(hint)
        return args[0] if args else str
    return None


def _kind(returns: Any) -> str | None:
    if returns is int:
        return "count"
    origin = typing.get_origin(returns) or returns
    if getattr(origin, "__name__", "") == "Pager":
        return "many"
    if attrs.has(returns) if isinstance(returns, type) else False:
        return "one"
    return None


def _model(returns: Any) -> type | None:
    args = typing.get_args(returns)
    target = args[0] if args else returns
    return target if isinstance(target, type) and attrs.has(target) else None


def describe(family: str, method: str, function: Callable[..., Any]) -> Operation | None:
    """The Operation for one helper method, or None when it is not a read the CLI can offer
    (a bulk write, or a parameter the command line cannot express)."""
    try:
        hints = typing.get_type_hints(function)
    except Exception:  # unresolvable annotations: not a helper we can describe
        return None
    kind = _kind(hints.get("return"))
    if kind is None:
        return None
    positional: list[Param] = []
    keywords: list[Param] = []
    for name, parameter in inspect.signature(function).parameters.items():
        if name == "self":
            continue
        hint = hints.get(name, str)
        if parameter.kind is inspect.Parameter.POSITIONAL_OR_KEYWORD:
            if _is_sequence(hint) is not None or typing.get_origin(hint) is collections.abc.Mapping:
                return None
            positional.append(Param(name, _param_type(name, hint), required=True))
        elif parameter.kind is inspect.Parameter.KEYWORD_ONLY:
            item = _is_sequence(hint)
            required = parameter.default is inspect.Parameter.empty
            default = None if required else parameter.default
            if item is not None:
                keywords.append(Param(name, _scalar_type(item), True, required, default))
            else:
                keywords.append(Param(name, _param_type(name, hint), False, required, default))
        else:
            return None
    doc = inspect.getdoc(function) or f"{family}.{method}"
    model = _model(hints.get("return"))
    return Operation(family, method, kind, tuple(positional), tuple(keywords), doc, model)


def _param_type(name: str, hint: Any) -> ParamTypeBase:
    return NUMBER_TYPES[name]() if name in NUMBER_TYPES else _scalar_type(hint)


def family_names() -> list[str]:
    """The typed families the client exposes (`students`, `schools`, ...)."""
    from acme_powerschool.endpoints import EndpointAccessors

    return sorted(
        name
        for name, value in vars(EndpointAccessors).items()
        if isinstance(value, property) and not name.startswith("_")
    )


class _NoClient:
    """Stands in for a client while a family's class is looked at; it is never sent anything."""


def family_class(name: str) -> type:
    from acme_powerschool.endpoints import EndpointAccessors

    accessor = vars(EndpointAccessors)[name]
    assert isinstance(accessor, property) and accessor.fget is not None
    return type(accessor.fget(_NoClient()))


def operations(family: str) -> list[Operation]:
    cls = family_class(family)
    found = []
    for method, function in inspect.getmembers(cls, inspect.isfunction):
        if method.startswith("_"):
            continue
        operation = describe(family, method, function)
        if operation is not None:
            found.append(operation)
    return found


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
    options = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(FORMATS),
            default="json",
            show_default=True,
            help="Output format.",
        )
    ]
    if kind == "many":
        options.append(
            click.option("--limit", type=click.IntRange(min=1), help="Stop after N records.")
        )
        options.append(
            click.option("--out", metavar="FILE", help="Write to FILE instead of stdout.")
        )
        options.append(
            click.option(
                "--progress/--no-progress",
                default=None,
                help="Force the progress bar on or off (default: on when stderr is a terminal).",
            )
        )
    return options


def _pop_output(values: dict[str, Any]) -> dict[str, Any]:
    """The output options (format, limit, out, progress), taken out of a command's values."""
    defaults = {"fmt": "json", "limit": None, "out": None, "progress": None}
    return {key: values.pop(key, default) for key, default in defaults.items()}


def _emit(op: Operation, result: Any, output: dict[str, Any]) -> None:
    if op.kind == "count":
        click.echo(str(result))
        return
    columns = model_columns(op.model) if op.model is not None else []
    forced = output["progress"] if output["progress"] is not None else state().progress
    with output_stream(output["out"]) as stream:
        writer = RecordWriter(
            stream, output["fmt"], single=op.kind == "one", warn=echo_err, columns=columns
        )
        if op.kind == "one":
            writer.write(result)
            writer.close()
            return
        label = f"{op.family} {op.method}"
        copy_records(
            result, writer, label=label, progress=show_progress(forced), limit=output["limit"]
        )


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
    command_name = op.method.replace("_", "-")

    def run(conn: Connection, **values: Any) -> None:
        output = _pop_output(values)
        positional = [values.pop(p.name) for p in op.positional]
        keywords = {k: v for k, v in values.items() if v is not None and v != []}
        _emit(op, op.call(conn.client(), positional, keywords), output)

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


def _pick_scope(
    name: str, plain: Operation | None, scoped: dict[str, Operation], values: dict[str, Any]
) -> tuple[Operation, list[Any], str | None]:
    """The helper a merged command runs: the one whose `--<scope> ID` was given (at most one),
    else the plain one; with its positional arguments and the scope flag used."""
    flags = {scope: "--" + scope.replace("_", "-") for scope in scoped}
    chosen = [scope for scope in scoped if values.get(f"scope_{scope}") is not None]
    if len(chosen) > 1:
        raise CommandError(f"give only one of {', '.join(flags[s] for s in chosen)}", EXIT_USAGE)
    if chosen:
        return scoped[chosen[0]], [values[f"scope_{chosen[0]}"]], flags[chosen[0]]
    if plain is not None:
        return plain, [], None
    family = next(iter(scoped.values())).family
    needs = " or ".join(f"{flag} ID" for flag in flags.values())
    raise CommandError(f"{family} {name} needs {needs}", EXIT_USAGE)


def _scoped_arguments(
    op: Operation, options: dict[str, Param], values: dict[str, Any], flag: str | None
) -> dict[str, Any]:
    """The keyword arguments `op` accepts; an option it does not take is a usage error."""
    ctx = click.get_current_context()
    accepted = {p.name for p in op.keywords}
    arguments: dict[str, Any] = {}
    for key, param in options.items():
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


def merged_command(
    name: str, plain: Operation | None, scoped: dict[str, Operation]
) -> click.Command:
    """`list` (or `count`) over the plain method and the `for_<x>` ones: `--<x> ID` picks one."""
    every = [op for op in (plain, *scoped.values()) if op is not None]
    kind, family = every[0].kind, every[0].family
    scope_flags = {scope: "--" + scope.replace("_", "-") for scope in scoped}
    options: dict[str, Param] = {}
    for op in every:
        for param in op.keywords:
            options.setdefault(param.name, attrs.evolve(param, required=False))

    def run(conn: Connection, **values: Any) -> None:
        output = _pop_output(values)
        op, positional, flag = _pick_scope(name, plain, scoped, values)
        arguments = _scoped_arguments(op, options, values, flag)
        _emit(op, op.call(conn.client(), positional, arguments), output)

    lines = []
    if plain is not None:
        lines.append(f"Without a scope option: {_first_line(plain.doc)}")
    for scope, op in scoped.items():
        lines.append(f"With {scope_flags[scope]} ID: {_first_line(op.doc)}")
    example_scope = f" {next(iter(scope_flags.values()))} 100" if scoped else ""
    example = f"acme-powerschool {family.replace('_', '-')} {name}{example_scope}"
    help_text = "\n\n".join(lines) + f"\n\n\b\nExample:\n  {example}"
    decorated: Any = connection_options(run)
    for option in reversed(_output_options(kind)):
        decorated = option(decorated)
    for param in reversed(list(options.values())):
        decorated = _option(param)(decorated)
    for scope, op in reversed(list(scoped.items())):
        decorated = click.option(
            scope_flags[scope],
            f"scope_{scope}",
            type=op.positional[0].type,
            metavar="ID",
            help=f"Only those of one {scope.replace('_', ' ')} ({op.positional[0].name}).",
        )(decorated)
    short = f"{'List' if name == LIST else 'Count'} {family.replace('_', ' ')}."
    return click.command(name=name, help=help_text, short_help=short)(decorated)


def _first_line(doc: str) -> str:
    return " ".join(doc.split("\n\n")[0].split())


def family_commands(family: str) -> dict[str, click.Command]:
    """Every command of one family, by name."""
    ops = operations(family)
    commands: dict[str, click.Command] = {}
    for merged, prefix in ((LIST, FOR_PREFIX), (COUNT, COUNT_FOR_PREFIX)):
        plain = next((op for op in ops if op.method == merged and not op.positional), None)
        scoped = {
            op.method[len(prefix) :]: op
            for op in ops
            if op.method.startswith(prefix) and len(op.positional) == 1
        }
        if plain is not None or scoped:
            commands[merged] = merged_command(merged, plain, scoped)
            ops = [op for op in ops if op is not plain and op not in scoped.values()]
    for op in ops:
        commands.setdefault(op.method.replace("_", "-"), operation_command(op))
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
