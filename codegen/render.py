"""Turn validated specs into the text of every generated file. Pure except for running ruff.

No file is read or written here: `render_all` returns {relative path: text}; `__main__` writes
or compares.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any

import jinja2

from codegen.spec import EndpointSpec, FamilySpec, FieldSpec, ModelSpec, SpecError

TEMPLATES = Path(__file__).parent / "templates"
MODELS_DIR = "acme_powerschool/models"
ENDPOINTS_DIR = "acme_powerschool/endpoints"
DOCS_FILE = "docs/endpoints.md"
LINE = 100

_LIST = re.compile(r"^list\[(.+)\]$")
_LITERAL = re.compile(r"^literal\[(.+)\]$")
_SCALARS = {
    "id": "Id",
    "str": "str",
    "int": "int",
    "bool": "bool",
    "float": "float",
    "decimal": "Decimal",
    "date": "datetime.date",
    "any": "Any",
    "map": "Mapping[str, Any]",
}


def model_type(text: str) -> str:
    """A spec type as a model field annotation (lists become tuples: models are frozen)."""
    inner = _LIST.match(text)
    if inner:
        return f"tuple[{model_type(inner.group(1))}, ...]"
    return _literal(text) or _SCALARS.get(text, text)


def _literal(text: str) -> str:
    """`literal[A, B]` as `Literal["A", "B"]` ("" when it is not a literal)."""
    values = _LITERAL.match(text)
    if not values:
        return ""
    return "Literal[" + ", ".join(_pyrepr(v.strip()) for v in values.group(1).split(",")) + "]"


def param_type(text: str) -> str:
    """A spec type as a parameter annotation (lists are any Sequence)."""
    inner = _LIST.match(text)
    if inner:
        return f"Sequence[{param_type(inner.group(1))}]"
    return _SCALARS.get(text, text)


def docstring(text: str, indent: int) -> str:
    """A triple-quoted docstring that fits in LINE columns at this indent."""
    text = text.strip().replace('"""', "'''")
    if text[:1] in ('"', "'"):
        # `"""\"A"..."""` is what escaping would give: specs say it in words instead.
        raise ValueError(f"a docstring must not start with a quote: {text[:40]!r}")
    if not text.endswith((".", "!", "?", ":")):
        text += "."
    width = LINE - indent
    if len(text) + 6 <= width:
        return f'"""{text}"""'
    lines = textwrap.wrap(text, width=width - 6)
    pad = " " * indent
    body = f"\n{pad}".join(lines)
    return f'"""{body}\n{pad}"""'


def expansion_alias(model: str) -> str:
    return f"{model}Expansion"


class Renderer:
    """Renders every family with one Jinja2 environment and one model-owner table."""

    def __init__(self, families: Sequence[FamilySpec]) -> None:
        self.families = tuple(families)
        self.owner = {m.name: f.module for f in families for m in f.models}
        self.expansions = self._collect_expansions()
        self.env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(TEMPLATES),
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            trim_blocks=True,
            lstrip_blocks=True,
            autoescape=False,
        )
        self.env.filters["doc"] = docstring
        self.env.filters["model_type"] = model_type
        self.env.filters["param_type"] = param_type
        self.env.filters["pyrepr"] = _pyrepr

    def _collect_expansions(self) -> dict[str, tuple[str, tuple[str, ...]]]:
        """model name -> (module of the model, expansions), one list per model."""
        found: dict[str, tuple[str, tuple[str, ...]]] = {}
        for family in self.families:
            for ep in family.endpoints:
                if not ep.expansions:
                    continue
                seen = found.get(ep.model)
                if seen is not None and seen[1] != ep.expansions:
                    raise SpecError(
                        family.file,
                        f"endpoint {ep.name!r}",
                        "expansions",
                        f"differs from another endpoint returning {ep.model}",
                    )
                found[ep.model] = (self.owner[ep.model], ep.expansions)
        return found

    def render_all(self) -> dict[str, str]:
        files: dict[str, str] = {}
        for family in self.families:
            if family.models:
                files[f"{MODELS_DIR}/{family.module}.py"] = self.models_module(family)
            if family.endpoints:
                files[f"{ENDPOINTS_DIR}/{family.module}.py"] = self.endpoints_module(family)
        files[f"{MODELS_DIR}/__init__.py"] = self.models_init()
        files[f"{ENDPOINTS_DIR}/__init__.py"] = self.endpoints_init()
        files[f"{ENDPOINTS_DIR}/operations.py"] = self.operations_module()
        files = {path: format_python(path, text) for path, text in files.items()}
        files[DOCS_FILE] = self.docs()
        return files

    # -- models ---------------------------------------------------------------------------

    def models_module(self, family: FamilySpec) -> str:
        used = " ".join(model_type(f.type) for m in family.models for f in m.fields)
        imports = _typing_imports(used + " Mapping[str, Any] Callable[")
        local = {m.name for m in family.models}
        foreign: dict[str, set[str]] = {}
        for model in family.models:
            for field in model.fields:
                for name in re.findall(r"[A-Z][A-Za-z0-9]*", model_type(field.type)):
                    owner = self.owner.get(name)
                    if owner and name not in local:
                        foreign.setdefault(owner, set()).add(name)
                if field.type in self.owner and field.type not in local:
                    # a nested model's generated function, called directly (see _fast_value)
                    foreign[self.owner[field.type]].add(structure_function(field.type))
        aliases = [
            (expansion_alias(name), values)
            for name, (module, values) in sorted(self.expansions.items())
            if module == family.module
        ]
        if aliases:
            imports.add("from typing import Literal, TypeAlias")
        if any(self.narrowable(m) for m in family.models):
            imports.update({"from typing import Literal, overload", "from typing import Any"})
        exports = sorted([m.name for m in family.models] + [a for a, _ in aliases])
        return self.env.get_template("models.py.j2").render(
            family=family,
            imports=sorted(imports),
            foreign=sorted((mod, sorted(names)) for mod, names in foreign.items()),
            aliases=aliases,
            exports=exports,
            fields=_field_views,
            narrowable=self.narrowable,
            structure=lambda model: _structure_views(model, self.owner),
            offered=self.offered,
        )

    def narrowable(self, model: ModelSpec) -> list[tuple[str, str]]:
        """(field, type) of each field `require(name)` narrows: the model's expansions and its
        optional nested blocks, which are None when PowerSchool did not send them."""
        expansions = self.expansions.get(model.name, ("", ()))[1]
        return [
            (f.name, model_type(f.type))
            for f in model.fields
            if not f.required
            and not _LIST.match(f.type)
            and (f.name in expansions or f.type in self.owner)
        ]

    def offered(self, model: ModelSpec) -> str:
        """The model's expansion alias, or "None" when it has no expansions."""
        return expansion_alias(model.name) if model.name in self.expansions else "None"

    # -- endpoints ------------------------------------------------------------------------

    def endpoints_module(self, family: FamilySpec) -> str:
        methods = [self._method(family, ep) for ep in family.endpoints]
        text = " ".join(" ".join(m["annotations"]) for m in methods)
        imports = _typing_imports(text)
        models: dict[str, set[str]] = {}
        for ep in family.endpoints:
            for name in filter(None, (ep.model, ep.item_model)):
                models.setdefault(self.owner[name], set()).add(name)
            for param in (*ep.path_params, *ep.args):
                for name in re.findall(r"[A-Z][A-Za-z0-9]*", param_type(param.type)):
                    if name in self.owner:
                        models.setdefault(self.owner[name], set()).add(name)
            if ep.expansions:
                module, _ = self.expansions[ep.model]
                models.setdefault(module, set()).add(expansion_alias(ep.model))
        helpers = sorted({h for m in methods for h in m["helpers"]} | {"Sender"})
        queries = {q for ep in family.endpoints if not ep.same_as for q in ep.query}
        if queries:
            helpers.append("query_params")
        if "extensions" in queries:
            helpers.append("extension_names")
        if any(ep.expansions and not ep.same_as for ep in family.endpoints):
            helpers.append("expansion_names")
        helpers = sorted(set(helpers))
        delegates = sorted({m["delegate"][:2] for m in methods if m["delegate"]})
        return self.env.get_template("endpoints.py.j2").render(
            family=family,
            imports=sorted(imports),
            models=sorted((mod, sorted(names)) for mod, names in models.items()),
            helpers=helpers,
            delegates=delegates,
            pager=any(ep.kind in ("list", "powerquery") for ep in family.endpoints),
            methods=methods,
        )

    def _delegate(self, ep: EndpointSpec) -> tuple[str, str, str] | None:
        """(module, class, method) of the endpoint a `same_as` one calls."""
        if not ep.same_as:
            return None
        attribute, method = ep.same_as.split(".")
        target = next(f for f in self.families if f.attribute == attribute)
        return target.module, target.class_name, method

    def _method(self, family: FamilySpec, ep: EndpointSpec) -> dict[str, Any]:
        positional = [(p.name, param_type(p.type)) for p in ep.path_params]
        keyword: list[tuple[str, str, str]] = []
        for q in ep.query:
            if q in ("expansions",):
                kind = expansion_alias(ep.model) if ep.expansions else "str"
                keyword.append((q, f"Sequence[{kind}]", "()"))
            elif q in ("extensions", "projection"):
                keyword.append((q, "Sequence[str]", "()"))
            else:
                keyword.append((q, "str | None", "None"))
        for arg in ep.args:
            if arg.required:
                keyword.append((arg.name, param_type(arg.type), ""))
            else:
                keyword.append((arg.name, f"{param_type(arg.type)} | None", "None"))
        if ep.kind == "powerquery":
            keyword.append(("order", "str | None", "None"))
        if ep.kind in ("list", "powerquery"):
            keyword.append(("pagesize", "int | None", "None"))
            keyword.append(("prefetch", "int | None", "None"))
        keyword.sort(key=lambda k: k[2] != "")  # required keyword arguments first
        returns, helper = self._returns(ep)
        if ep.kind == "bulk_write":
            positional = [("items", f"Iterable[{ep.item_model or 'Any'} | Mapping[str, Any]]")]
        annotations = [t for _, t in positional] + [t for _, t, _ in keyword] + [returns]
        delegate = self._delegate(ep)
        return {
            "ep": ep,
            "positional": positional,
            "keyword": keyword,
            "returns": returns,
            "helper": helper,
            "helpers": set() if delegate else {helper, *_COMPANIONS.get(helper, ())},
            "delegate": delegate,
            "annotations": annotations,
            "query_args": [(q, self._query_value(ep, q)) for q in ep.query],
            "count_path": ep.count.path if ep.count else "",
            "count_shape": ep.count.shape if ep.count else "resource",
            "arg_names": [(a.name, a.name) for a in ep.args],
            "path_param_names": [p.name for p in ep.path_params],
        }

    @staticmethod
    def _query_value(ep: EndpointSpec, name: str) -> str:
        """The expression a query parameter is sent as: expansions and extensions checked."""
        if name == "expansions" and ep.expansions:
            return f"expansion_names(expansions, {expansion_alias(ep.model)})"
        if name == "extensions":
            return "extension_names(extensions)"
        return name

    @staticmethod
    def _returns(ep: EndpointSpec) -> tuple[str, str]:
        """The helper's return annotation and the runtime function it calls."""
        if ep.kind == "get":
            returns, helper = ep.model, "fetch_one"
        elif ep.kind == "list":
            returns, helper = f"Pager[{ep.model}]", "fetch_list"
        elif ep.kind == "count":
            returns, helper = "int", "fetch_count"
        elif ep.kind == "bulk_write":
            returns, helper = ep.model, "send_bulk"
        else:
            returns, helper = f"Pager[{ep.model}]", "fetch_powerquery"
        return returns, helper

    # -- package faces and docs -----------------------------------------------------------

    def models_init(self) -> str:
        names: list[tuple[str, str]] = []
        for family in self.families:
            names.extend((m.name, family.module) for m in family.models)
        for model, (module, _) in self.expansions.items():
            names.append((expansion_alias(model), module))
        names.sort()
        return self.env.get_template("models_init.py.j2").render(
            names=names,
            modules=sorted({module for _, module in names}),
            by_module=[
                (module, sorted(n for n, m in names if m == module))
                for module in sorted({module for _, module in names})
            ],
        )

    def endpoints_init(self) -> str:
        families = [f for f in self.families if f.endpoints]
        families.sort(key=lambda f: f.attribute)
        return self.env.get_template("endpoints_init.py.j2").render(families=families)

    def operations_module(self) -> str:
        """The operations table: every helper as an `Operation` record, for the CLI."""
        families = sorted((f for f in self.families if f.endpoints), key=lambda f: f.attribute)
        entries = [_operation(f, ep) for f in families for ep in f.endpoints]
        choices = "".join(
            f"{_choices_name(model)} = {values!r}\n"
            for model, (_, values) in sorted(self.expansions.items())
        )
        return (
            "# generated by codegen from specs/*.yaml, do not edit\n"
            '"""Every generated helper as data: its kind, parameters, scope and return shape.\n\n'
            "The CLI builds its resource commands from this table (never by looking at signatures);"
            '\nimporting it imports no family module.\n"""\n\n'
            "from __future__ import annotations\n\n"
            "from acme_powerschool.runtime import Operation, Parameter\n\n"
            '__all__ = ["OPERATIONS"]\n\n'
            f"{choices}\n"
            f"OPERATIONS: tuple[Operation, ...] = ({''.join(e + ', ' for e in entries)})\n"
        )

    def docs(self) -> str:
        families = [f for f in self.families if f.endpoints]
        families.sort(key=lambda f: f.attribute)
        models = sorted(
            ((m, f) for f in self.families for m in f.models), key=lambda mf: mf[0].name
        )
        return self.env.get_template("endpoints.md.j2").render(
            families=families, models=models, methods=self._method, model_type=model_type
        )


_RETURNS = {"get": "one", "list": "many", "count": "count", "bulk_write": "write"}
_CLI_SCALARS = {"id": "id", "int": "int", "bool": "bool", "float": "float"}


def _parameter(name: str, spec_type: str, **options: Any) -> str:
    """`Parameter(...)` source for one helper parameter (`list[T]` becomes multiple T)."""
    inner = _LIST.match(spec_type)
    if inner:
        options["multiple"] = True
        spec_type = inner.group(1)
    values = [repr(name), repr(_CLI_SCALARS.get(spec_type, "str"))]
    values += [f"{key}={value!r}" for key, value in options.items() if value]
    return f"Parameter({', '.join(values)})"


class _Source(str):
    """Python source that `_parameter` writes as it is (its repr is itself)."""

    def __repr__(self) -> str:
        return str(self)


def _choices_name(model: str) -> str:
    return "_" + _snake(model).upper() + "_EXPANSIONS"


def _keywords(ep: EndpointSpec) -> list[str]:
    keywords = [
        _parameter(arg.name, arg.type, required=arg.required) for arg in ep.args if arg.required
    ]
    for name in ep.query:
        if name == "expansions":
            keywords.append(_parameter(name, "list[str]", choices=_Source(_choices_name(ep.model))))
        elif name in ("extensions", "projection"):
            keywords.append(_parameter(name, "list[str]"))
        else:
            keywords.append(_parameter(name, "str"))
    keywords += [_parameter(arg.name, arg.type) for arg in ep.args if not arg.required]
    if ep.kind == "powerquery":
        keywords.append(_parameter("order", "str"))
    if ep.kind in ("list", "powerquery"):
        keywords += [_parameter("pagesize", "int"), _parameter("prefetch", "int", default=0)]
    return keywords


def _command(ep: EndpointSpec) -> tuple[str, str | None]:
    """The command-line name and scope: `list`/`count` gather the plain method and the
    `for_<x>(x_id)` / `count_for_<x>(x_id)` ones (scope x); others keep their name."""
    if ep.kind in ("list", "count"):
        prefix = "for_" if ep.kind == "list" else "count_for_"
        if ep.name == ep.kind and not ep.path_params:
            return ep.kind, None
        if ep.name.startswith(prefix) and len(ep.path_params) == 1:
            return ep.kind, ep.name[len(prefix) :]
    return ep.name.replace("_", "-"), None


def _long_text(text: str) -> str:
    """A string literal that ruff can wrap: implicit concatenation of short pieces."""
    if len(repr(text)) <= LINE - len("        summary=,"):
        return repr(text)
    pieces = textwrap.wrap(text, width=60, break_long_words=False, break_on_hyphens=False)
    return "(" + " ".join(repr(piece + " ") for piece in pieces[:-1]) + f" {pieces[-1]!r})"


def _operation(family: FamilySpec, ep: EndpointSpec) -> str:
    if ep.kind == "bulk_write":
        positional = [_parameter("items", "list[any]", required=True)]
    else:
        positional = [_parameter(p.name, p.type, required=True) for p in ep.path_params]
    command, scope = _command(ep)
    fields = {
        "family": repr(family.attribute),
        "method": repr(ep.name),
        "kind": repr(ep.kind),
        "returns": repr(_RETURNS.get(ep.kind, "many")),
        "summary": _long_text(ep.description),
        "command": repr(command),
        "scope": repr(scope),
        "positional": f"({''.join(p + ', ' for p in positional)})",
        "keywords": f"({''.join(k + ', ' for k in _keywords(ep))})",
    }
    return f"Operation({', '.join(f'{k}={v}' for k, v in fields.items())})"


_COMPANIONS = {"send_bulk": ("bulk_body",), "fetch_powerquery": ("query_args",)}


def _field_views(model: ModelSpec) -> list[dict[str, Any]]:
    """Annotation and default of each field: optional scalars and models default to None,
    lists to () (absent, null, "" and [] all read as an empty tuple)."""
    views = []
    for field in sorted(model.fields, key=lambda f: not f.required):
        annotation = model_type(field.type)
        default = ""
        if not field.required:
            is_list = bool(_LIST.match(field.type))
            default = "()" if is_list else "None"
            if not is_list:
                annotation += " | None"
        if field.key != field.name:
            extras = [f"default={default}"] if default else []
            extras.append(f'metadata={{"key": "{field.key}"}}')
            value = f" = attrs.field({', '.join(extras)})"
        else:
            value = f" = {default}" if default else ""
        views.append({"field": field, "annotation": annotation, "value": value})
    return views


_FAST_TYPES = {"str": "str", "int": "int", "id": "int", "bool": "bool"}
"""Spec types whose regular value is exactly one Python type: taken as it is, no hook."""


def _snake(model: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", model).lower()


def structure_function(model: str) -> str:
    """The name of a model's generated structure function."""
    return f"_structure_{_snake(model)}"


def _fast_value(model: str, field: FieldSpec, nested: bool) -> str:
    """The expression for one field in a model's generated structure function: the value as
    it is when it is already regular, a nested model's own generated function called directly
    (`nested`), else the converter's own hook for the field (`_field`)."""
    local = f"x_{field.name}"
    slow = f"_field({model}, {_pyrepr(field.key)}, {local})"
    exact = _FAST_TYPES.get(field.type)
    if exact == "str" and not field.required:
        return f"({local} or None) if type({local}) is str else None if {local} is None else {slow}"
    if exact is not None:
        regular = f"type({local}) is {exact}"
        if not field.required:
            regular += f" or {local} is None"
        return f"{local} if {regular} else {slow}"
    if nested:
        # A model instance is always true: `or` falls back only when the nested function
        # returned None (an irregular nested record) or the value is not an object at all.
        nested_call = f"{structure_function(field.type)}({local}, _field)"
        value = f"(type({local}) is dict and {nested_call}) or {slow}"
    elif field.type == "date":
        value = (
            f"datetime.date.fromisoformat({local}) if type({local}) is str and len({local}) == 10"
            f" else {slow}"
        )
    else:
        value = slow
    if field.required:
        return value
    empty = "()" if _LIST.match(field.type) else "None"
    return f"{empty} if {local} is None else {value}"


def _structure_views(model: ModelSpec, models: Collection[str]) -> dict[str, Any]:
    """What the template needs for one model's structure function; `models` are the names of
    every model (a field of one of those types is structured by its own function)."""
    snake = _snake(model.name)
    return {
        "function": structure_function(model.name),
        "known": f"_{snake.upper()}_KEYS",
        "required": f"_{snake.upper()}_REQUIRED",
        "all_keys": sorted(f.key for f in model.fields),
        "required_keys": sorted(f.key for f in model.fields if f.required),
        "fields": [
            (f, _setter(model.name, f.name), _fast_value(model.name, f, f.type in models))
            for f in model.fields
        ],
        "extra": _setter(model.name, "extra"),
    }


def _setter(model: str, field: str) -> str:
    """The module-level name of a model field's slot setter."""
    return f"_set_{_snake(model)}__{field}"


def _typing_imports(text: str) -> set[str]:
    imports = set()
    if "datetime." in text:
        imports.add("import datetime")
    if "Decimal" in text:
        imports.add("from decimal import Decimal")
    names = ("Callable", "Iterable", "Mapping", "Sequence")
    abc = sorted(n for n in names if re.search(rf"\b{n}\[", text))
    if abc:
        imports.add(f"from collections.abc import {', '.join(abc)}")
    if re.search(r"\bAny\b", text):
        imports.add("from typing import Any")
    if "Literal[" in text:
        imports.add("from typing import Literal")
    if re.search(r"\bId\b", text):
        imports.add("from acme_powerschool.types import Id")
    return imports


def _pyrepr(value: object) -> str:
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def ruff_command() -> list[str]:
    """The pinned ruff beside this interpreter, else `python -m ruff`."""
    sibling = Path(sys.executable).with_name("ruff")
    return [str(sibling)] if sibling.exists() else [sys.executable, "-m", "ruff"]


def format_python(path: str, text: str) -> str:
    """Sort imports, drop unused ones and format, exactly as `ruff` would in the repository."""
    root = Path(__file__).resolve().parent.parent
    ruff = ruff_command()
    fixed = _run(
        [*ruff, "check", "--fix-only", "--select", "I,F401", "--stdin-filename", path, "-"],
        text,
        root,
    )
    return _run([*ruff, "format", "--stdin-filename", path, "-"], fixed, root)


def _run(command: list[str], text: str, cwd: Path) -> str:
    done = subprocess.run(command, input=text, capture_output=True, text=True, cwd=cwd, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command[1:3])} failed on generated code:\n{done.stderr}")
    return done.stdout


def render_all(families: Sequence[FamilySpec]) -> dict[str, str]:
    """{path relative to the repository root: text} for every generated file."""
    return Renderer(families).render_all()
