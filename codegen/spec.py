"""Load and validate specs/*.yaml into frozen records. Pure apart from reading the files.

A bad spec raises SpecError naming the file, the endpoint (or model) and the key; nothing here
renders or writes code.
"""

from __future__ import annotations

import keyword
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import attrs
import yaml

SCALAR_TYPES = ("id", "str", "int", "bool", "float", "decimal", "date", "any", "map")
KINDS = ("get", "list", "count", "bulk_write", "powerquery")
QUERY_PARAMS = ("q", "expansions", "extensions", "projection", "order")
COUNT_SHAPES = ("resource", "plain")
RESERVED_FIELD_NAMES = frozenset({"extra"})

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_CLASS = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_LIST = re.compile(r"^list\[(.+)\]$")
_PLACEHOLDER = re.compile(r"\{([^}]*)\}")


class SpecError(ValueError):
    """A spec that cannot be generated; the message names file, endpoint or model, and key."""

    def __init__(self, file: str, where: str, key: str, problem: str) -> None:
        self.file = file
        self.where = where
        self.key = key
        self.problem = problem
        parts = [file, where, f"key {key!r}" if key else "", problem]
        super().__init__(": ".join(part for part in parts if part))


@attrs.frozen
class FieldSpec:
    name: str
    key: str
    type: str
    required: bool
    description: str


@attrs.frozen
class ModelSpec:
    name: str
    description: str
    fields: tuple[FieldSpec, ...]


@attrs.frozen
class ParamSpec:
    name: str
    type: str
    required: bool
    description: str


@attrs.frozen
class CountSpec:
    path: str
    shape: str


@attrs.frozen
class EndpointSpec:
    name: str
    kind: str
    method: str
    path: str
    description: str
    path_params: tuple[ParamSpec, ...] = ()
    query: tuple[str, ...] = ()
    expansions: tuple[str, ...] = ()
    plural: str = ""
    singular: str = ""
    model: str = ""
    count: CountSpec | None = None
    max_page_size: str = ""
    action: str = ""
    item_model: str = ""
    query_name: str = ""
    args: tuple[ParamSpec, ...] = ()


@attrs.frozen
class FamilySpec:
    file: str
    module: str
    class_name: str
    attribute: str
    description: str
    models: tuple[ModelSpec, ...]
    endpoints: tuple[EndpointSpec, ...]

    @property
    def has_endpoints(self) -> bool:
        return bool(self.endpoints)


_TOP_KEYS = {"module", "class", "attribute", "description", "models", "endpoints"}
_MODEL_KEYS = {"description", "fields"}
_FIELD_KEYS = {"type", "key", "required", "description"}
_PARAM_KEYS = {"type", "required", "description"}
_ENDPOINT_KEYS: dict[str, set[str]] = {
    "get": {"kind", "method", "path", "path_params", "query", "expansions", "envelope", "model"},
    "list": {
        "kind",
        "method",
        "path",
        "path_params",
        "query",
        "expansions",
        "envelope",
        "model",
        "count",
        "max_page_size",
    },
    "count": {"kind", "method", "path", "path_params", "query", "envelope"},
    "bulk_write": {"kind", "method", "path", "envelope", "model", "item_model", "action"},
    "powerquery": {"kind", "method", "path", "query_name", "args", "model"},
}
_REQUIRED_ENDPOINT_KEYS: dict[str, set[str]] = {
    "get": {"path", "envelope", "model"},
    "list": {"path", "envelope", "model", "max_page_size"},
    "count": {"path", "envelope"},
    "bulk_write": {"path", "envelope", "model", "action"},
    "powerquery": {"query_name", "model"},
}
_ENVELOPE_KEYS: dict[str, set[str]] = {
    "get": {"singular"},
    "list": {"plural", "singular"},
    "count": {"shape"},
    "bulk_write": {"plural", "singular"},
}


def load_specs(spec_dir: Path) -> tuple[FamilySpec, ...]:
    """Every specs/*.yaml, parsed and cross-checked (model references resolve across files)."""
    families = []
    for path in sorted(spec_dir.glob("*.yaml")):
        name = f"{spec_dir.name}/{path.name}"
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise SpecError(name, "", "", f"not valid YAML: {exc}") from exc
        families.append(parse_family(name, path.stem, raw))
    families = resolve_same_as(families)
    check_references(families)
    return tuple(families)


def resolve_same_as(families: Sequence[FamilySpec]) -> list[FamilySpec]:
    """Replace each `same_as: attribute.endpoint` by a copy of that endpoint under its own
    name and description, so one endpoint is described in one place."""
    by_name = {
        f"{family.attribute}.{ep.name}": ep
        for family in families
        for ep in family.endpoints
        if family.attribute and ep.kind != SAME_AS
    }
    resolved = []
    for family in families:
        endpoints = []
        for ep in family.endpoints:
            if ep.kind == SAME_AS:
                target = by_name.get(ep.path)
                if target is None:
                    raise SpecError(
                        family.file, f"endpoint {ep.name!r}", SAME_AS, f"no endpoint {ep.path!r}"
                    )
                ep = attrs.evolve(target, name=ep.name, description=ep.description)
            endpoints.append(ep)
        resolved.append(attrs.evolve(family, endpoints=tuple(endpoints)))
    return resolved


def parse_family(file: str, stem: str, raw: Any) -> FamilySpec:
    """One spec file's content (already YAML-parsed) as a FamilySpec."""
    if not isinstance(raw, Mapping):
        raise SpecError(file, "", "", "the file must hold a mapping")
    _no_unknown(file, "", raw, _TOP_KEYS)
    module = _text(file, "", raw, "module", default=stem.lstrip("_"))
    if not _IDENT.match(module):
        raise SpecError(file, "", "module", f"{module!r} is not a module name")
    models = tuple(
        _model(file, name, body) for name, body in _mapping(file, "", raw, "models").items()
    )
    endpoints = tuple(
        _endpoint(file, name, body) for name, body in _mapping(file, "", raw, "endpoints").items()
    )
    class_name = _text(file, "", raw, "class", default="")
    attribute = _text(file, "", raw, "attribute", default="")
    if endpoints:
        if not _CLASS.match(class_name):
            raise SpecError(file, "", "class", "a family with endpoints needs a class name")
        if not _IDENT.match(attribute) or keyword.iskeyword(attribute):
            raise SpecError(file, "", "attribute", "a family with endpoints needs an attribute")
    return FamilySpec(
        file=file,
        module=module,
        class_name=class_name,
        attribute=attribute,
        description=_text(file, "", raw, "description"),
        models=models,
        endpoints=endpoints,
    )


def check_references(families: Sequence[FamilySpec]) -> None:
    """Model names are unique and every type a field or endpoint names exists."""
    owner: dict[str, str] = {}
    for family in families:
        for model in family.models:
            if model.name in owner:
                raise SpecError(
                    family.file, f"model {model.name!r}", "models", f"also in {owner[model.name]}"
                )
            owner[model.name] = family.file
    attributes: dict[str, str] = {}
    for family in families:
        if family.attribute:
            if family.attribute in attributes:
                raise SpecError(
                    family.file, "", "attribute", f"also used by {attributes[family.attribute]}"
                )
            attributes[family.attribute] = family.file
        for model in family.models:
            for field in model.fields:
                where = f"model {model.name!r} field {field.name!r}"
                _check_type(family.file, where, "type", field.type, owner)
        for ep in family.endpoints:
            where = f"endpoint {ep.name!r}"
            for key in ("model", "item_model"):
                value = getattr(ep, key)
                if value and value not in owner:
                    raise SpecError(family.file, where, key, f"unknown model {value!r}")
            for param in (*ep.path_params, *ep.args):
                _check_type(family.file, where, f"{param.name}.type", param.type, owner)


def referenced_models(type_text: str) -> tuple[str, ...]:
    """The model names a spec type mentions (`list[Alert]` -> ("Alert",))."""
    inner = _LIST.match(type_text)
    if inner:
        return referenced_models(inner.group(1))
    return () if type_text in SCALAR_TYPES else (type_text,)


def _check_type(file: str, where: str, key: str, text: str, models: Mapping[str, str]) -> None:
    for name in referenced_models(text):
        if not _CLASS.match(name):
            raise SpecError(file, where, key, f"{text!r} is not a type")
        if name not in models:
            raise SpecError(file, where, key, f"unknown model {name!r}")


def _model(file: str, name: Any, body: Any) -> ModelSpec:
    where = f"model {name!r}"
    if not isinstance(name, str) or not _CLASS.match(name):
        raise SpecError(file, where, "models", "model names are CamelCase")
    if not isinstance(body, Mapping):
        raise SpecError(file, where, "fields", "a model is a mapping with fields")
    _no_unknown(file, where, body, _MODEL_KEYS)
    fields = []
    for field_name, field_body in _mapping(file, where, body, "fields").items():
        fields.append(_field(file, f"{where} field {field_name!r}", field_name, field_body))
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        raise SpecError(file, where, "key", "two fields share one JSON key")
    return ModelSpec(
        name=name, description=_text(file, where, body, "description"), fields=tuple(fields)
    )


def _field(file: str, where: str, name: Any, body: Any) -> FieldSpec:
    if not isinstance(name, str) or not _IDENT.match(name) or keyword.iskeyword(name):
        raise SpecError(file, where, "fields", "field names are lower_snake_case identifiers")
    if name in RESERVED_FIELD_NAMES:
        raise SpecError(file, where, "fields", f"{name!r} is reserved for unknown fields")
    if isinstance(body, str):
        body = {"type": body}
    if not isinstance(body, Mapping):
        raise SpecError(file, where, "type", "a field is a type or a mapping with a type")
    _no_unknown(file, where, body, _FIELD_KEYS)
    return FieldSpec(
        name=name,
        key=_text(file, where, body, "key", default=name),
        type=_text(file, where, body, "type"),
        required=_flag(file, where, body, "required"),
        description=_text(file, where, body, "description", default=""),
    )


def _param(file: str, where: str, name: Any, body: Any) -> ParamSpec:
    if not isinstance(name, str) or not _IDENT.match(name) or keyword.iskeyword(name):
        raise SpecError(file, where, str(name), "parameter names are identifiers")
    if isinstance(body, str):
        body = {"type": body}
    if not isinstance(body, Mapping):
        raise SpecError(file, where, name, "a parameter is a type or a mapping with a type")
    _no_unknown(file, f"{where} parameter {name!r}", body, _PARAM_KEYS)
    return ParamSpec(
        name=name,
        type=_text(file, where, body, "type"),
        required=_flag(file, where, body, "required", default=True),
        description=_text(file, where, body, "description", default=""),
    )


SAME_AS = "same_as"


def _endpoint(file: str, name: Any, body: Any) -> EndpointSpec:
    where = f"endpoint {name!r}"
    if not isinstance(name, str) or not _IDENT.match(name) or keyword.iskeyword(name):
        raise SpecError(file, where, "endpoints", "endpoint names are lower_snake_case")
    if not isinstance(body, Mapping):
        raise SpecError(file, where, "kind", "an endpoint is a mapping")
    if SAME_AS in body:
        # Another family's endpoint under a second name: described once, resolved later.
        _no_unknown(file, where, body, {SAME_AS, "description"})
        target = _text(file, where, body, SAME_AS)
        if not re.fullmatch(r"[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*", target):
            raise SpecError(file, where, SAME_AS, "must name an endpoint as attribute.endpoint")
        return EndpointSpec(
            name=name,
            kind=SAME_AS,
            method="",
            path=target,
            description=_text(file, where, body, "description"),
        )
    kind = _text(file, where, body, "kind")
    if kind not in KINDS:
        raise SpecError(file, where, "kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    allowed = _ENDPOINT_KEYS[kind] | {"description"}
    _no_unknown(file, where, body, allowed)
    for key in sorted(_REQUIRED_ENDPOINT_KEYS[kind]):
        if key not in body:
            raise SpecError(file, where, key, f"required for kind {kind!r}")
    default_method = "POST" if kind in ("bulk_write", "powerquery") else "GET"
    method = _text(file, where, body, "method", default=default_method).upper()
    if method not in ("GET", "POST", "PUT", "DELETE"):
        raise SpecError(file, where, "method", f"{method!r} is not an HTTP method we send")
    path = _text(file, where, body, "path", default="")
    if kind == "powerquery" and not path:
        path = "/ws/schema/query/{query_name}"
    if not path.startswith("/"):
        raise SpecError(file, where, "path", "paths start with '/'")
    path_params = tuple(
        _param(file, where, pname, pbody)
        for pname, pbody in _mapping(file, where, body, "path_params").items()
    )
    wanted = set(_PLACEHOLDER.findall(path)) - ({"query_name"} if kind == "powerquery" else set())
    declared = {p.name for p in path_params}
    if wanted != declared:
        missing = sorted(wanted - declared) or sorted(declared - wanted)
        raise SpecError(
            file, where, "path_params", f"path placeholders and path_params differ: {missing}"
        )
    query = tuple(_strings(file, where, body, "query"))
    for param in query:
        if param not in QUERY_PARAMS:
            raise SpecError(
                file, where, "query", f"{param!r} is not one of {', '.join(QUERY_PARAMS)}"
            )
    expansions = tuple(_strings(file, where, body, "expansions"))
    if expansions and "expansions" not in query:
        raise SpecError(file, where, "expansions", "listed but 'expansions' is not in query")
    envelope = _mapping(file, where, body, "envelope")
    if kind in _ENVELOPE_KEYS:
        _no_unknown(file, f"{where} envelope", envelope, _ENVELOPE_KEYS[kind])
        for key in sorted(_ENVELOPE_KEYS[kind]):
            if key not in envelope:
                raise SpecError(file, where, f"envelope.{key}", f"required for kind {kind!r}")
    count = None
    if "count" in body:
        raw_count = body["count"]
        if not isinstance(raw_count, Mapping) or "path" not in raw_count:
            raise SpecError(file, where, "count", "a mapping with path and shape")
        _no_unknown(file, f"{where} count", raw_count, {"path", "shape"})
        count = CountSpec(
            path=_text(file, where, raw_count, "path"),
            shape=_text(file, where, raw_count, "shape", default="resource"),
        )
        if count.shape not in COUNT_SHAPES:
            raise SpecError(file, where, "count.shape", f"one of {', '.join(COUNT_SHAPES)}")
        if set(_PLACEHOLDER.findall(count.path)) != declared:
            raise SpecError(file, where, "count.path", "placeholders differ from the list path")
    shape = _text(file, where, envelope, "shape", default="resource")
    if kind == "count" and shape not in COUNT_SHAPES:
        raise SpecError(file, where, "envelope.shape", f"one of {', '.join(COUNT_SHAPES)}")
    action = _text(file, where, body, "action", default="")
    if kind == "bulk_write" and action not in ("INSERT", "UPDATE"):
        raise SpecError(file, where, "action", "INSERT or UPDATE")
    args = tuple(
        _param(file, where, aname, abody)
        for aname, abody in _mapping(file, where, body, "args").items()
    )
    return EndpointSpec(
        name=name,
        kind=kind,
        method=method,
        path=path,
        description=_text(file, where, body, "description"),
        path_params=path_params,
        query=query,
        expansions=expansions,
        plural=_text(file, where, envelope, "plural", default=""),
        singular=_text(file, where, envelope, "singular", default=""),
        model=_text(file, where, body, "model", default=""),
        count=count if kind == "list" else (CountSpec(path, shape) if kind == "count" else None),
        max_page_size=_text(file, where, body, "max_page_size", default=""),
        action=action,
        item_model=_text(file, where, body, "item_model", default=""),
        query_name=_text(file, where, body, "query_name", default=""),
        args=args,
    )


_MISSING: Any = object()


def _no_unknown(file: str, where: str, body: Mapping[Any, Any], allowed: set[str]) -> None:
    for key in body:
        if key not in allowed:
            raise SpecError(
                file, where, str(key), f"unknown key (known: {', '.join(sorted(allowed))})"
            )


def _text(file: str, where: str, body: Mapping[Any, Any], key: str, default: Any = _MISSING) -> str:
    if key not in body:
        if default is _MISSING:
            raise SpecError(file, where, key, "missing")
        return str(default)
    value = body[key]
    if not isinstance(value, str) or not value.strip():
        raise SpecError(file, where, key, "must be a non-empty string")
    text = " ".join(value.split())
    if key == "description" and text[0] in "\"'":
        raise SpecError(
            file,
            where,
            key,
            "must not start with a quote (it opens a docstring): start with a word",
        )
    return text


def _flag(file: str, where: str, body: Mapping[Any, Any], key: str, default: bool = False) -> bool:
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise SpecError(file, where, key, "must be true or false")
    return value


def _mapping(file: str, where: str, body: Mapping[Any, Any], key: str) -> Mapping[Any, Any]:
    value = body.get(key, {})
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise SpecError(file, where, key, "must be a mapping")
    return value


def _strings(file: str, where: str, body: Mapping[Any, Any], key: str) -> list[str]:
    value = body.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
        raise SpecError(file, where, key, "must be a list of strings")
    return value
