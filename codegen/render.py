"""Turn validated specs into the text of every generated file. Pure except for running ruff.

No file is read or written here: `render_all` returns {relative path: text}; `__main__` writes
or compares.
"""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import jinja2

from codegen.spec import EndpointSpec, FamilySpec, ModelSpec, SpecError

TEMPLATES = Path(__file__).parent / "templates"
MODELS_DIR = "acme_powerschool/models"
ENDPOINTS_DIR = "acme_powerschool/endpoints"
DOCS_FILE = "docs/endpoints.md"
LINE = 100

_LIST = re.compile(r"^list\[(.+)\]$")
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
    return _SCALARS.get(text, text)


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
        files = {path: format_python(path, text) for path, text in files.items()}
        files[DOCS_FILE] = self.docs()
        return files

    # -- models ---------------------------------------------------------------------------

    def models_module(self, family: FamilySpec) -> str:
        used = " ".join(model_type(f.type) for m in family.models for f in m.fields)
        imports = _typing_imports(used + " Mapping[str, Any]")
        local = {m.name for m in family.models}
        foreign: dict[str, set[str]] = {}
        for model in family.models:
            for field in model.fields:
                for name in re.findall(r"[A-Z][A-Za-z0-9]*", model_type(field.type)):
                    owner = self.owner.get(name)
                    if owner and name not in local:
                        foreign.setdefault(owner, set()).add(name)
        aliases = [
            (expansion_alias(name), values)
            for name, (module, values) in sorted(self.expansions.items())
            if module == family.module
        ]
        if aliases:
            imports.add("from typing import Literal, TypeAlias")
        exports = sorted([m.name for m in family.models] + [a for a, _ in aliases])
        return self.env.get_template("models.py.j2").render(
            family=family,
            imports=sorted(imports),
            foreign=sorted((mod, sorted(names)) for mod, names in foreign.items()),
            aliases=aliases,
            exports=exports,
            fields=_field_views,
        )

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
        if any(ep.query for ep in family.endpoints):
            helpers = sorted({*helpers, "query_params"})
        return self.env.get_template("endpoints.py.j2").render(
            family=family,
            imports=sorted(imports),
            models=sorted((mod, sorted(names)) for mod, names in models.items()),
            helpers=helpers,
            pager=any(ep.kind in ("list", "powerquery") for ep in family.endpoints),
            methods=methods,
        )

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
        if ep.kind == "get":
            returns, helper = ep.model, "fetch_one"
        elif ep.kind == "list":
            returns, helper = f"Pager[{ep.model}]", "fetch_list"
        elif ep.kind == "count":
            returns, helper = "int", "fetch_count"
        elif ep.kind == "bulk_write":
            item = ep.item_model or "Any"
            positional = [("items", f"Iterable[{item} | Mapping[str, Any]]")]
            returns, helper = ep.model, "send_bulk"
        else:
            returns, helper = f"Pager[{ep.model}]", "fetch_powerquery"
        annotations = [t for _, t in positional] + [t for _, t, _ in keyword] + [returns]
        return {
            "ep": ep,
            "positional": positional,
            "keyword": keyword,
            "returns": returns,
            "helper": helper,
            "helpers": {helper, *_COMPANIONS.get(helper, ())},
            "annotations": annotations,
            "query_args": [q for q in ep.query],
            "count_path": ep.count.path if ep.count else "",
            "count_shape": ep.count.shape if ep.count else "resource",
            "arg_names": [(a.name, a.name) for a in ep.args],
            "path_param_names": [p.name for p in ep.path_params],
        }

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

    def docs(self) -> str:
        families = [f for f in self.families if f.endpoints]
        families.sort(key=lambda f: f.attribute)
        models = sorted(
            ((m, f) for f in self.families for m in f.models), key=lambda mf: mf[0].name
        )
        return self.env.get_template("endpoints.md.j2").render(
            families=families, models=models, methods=self._method, model_type=model_type
        )


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


def _typing_imports(text: str) -> set[str]:
    imports = set()
    if "datetime." in text:
        imports.add("import datetime")
    if "Decimal" in text:
        imports.add("from decimal import Decimal")
    abc = sorted(n for n in ("Iterable", "Mapping", "Sequence") if re.search(rf"\b{n}\[", text))
    if abc:
        imports.add(f"from collections.abc import {', '.join(abc)}")
    if re.search(r"\bAny\b", text):
        imports.add("from typing import Any")
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
