"""Load and validate specs/*.yaml into frozen records. Pure apart from reading the files.

The YAML is structured by a cattrs converter into one attrs record per endpoint kind (unknown
keys, missing keys and wrong types are its errors); what no type can say (path placeholders,
model references, a `max_page_size` that metadata.yaml does not know) is checked afterwards. A
bad spec raises SpecError naming the file, the endpoint (or model) and the key; nothing here
renders or writes code.
"""

from __future__ import annotations

import keyword
import re
import typing
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, NewType, TypeVar

import attrs
import cattrs
import yaml

SCALAR_TYPES = ("id", "str", "int", "bool", "float", "decimal", "date", "any", "map")
QUERY_PARAMS = ("q", "expansions", "extensions", "projection", "order")
COUNT_SHAPES = ("resource", "plain")
RESERVED_FIELD_NAMES = frozenset({"extra"})
METADATA_MODEL = "Metadata"
"""The model of /ws/v1/metadata: a list's `max_page_size` must name one of its fields."""

_IDENT = re.compile(r"^[a-z_][a-z0-9_]*$")
_CLASS = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_LIST = re.compile(r"^list\[(.+)\]$")
_LITERAL = re.compile(r"^literal\[(.+)\]$")
_PLACEHOLDER = re.compile(r"\{([^}]*)\}")
_TARGET = re.compile(r"^[a-z_][a-z0-9_]*\.[a-z_][a-z0-9_]*$")

Kind = Literal["get", "list", "count", "bulk_write", "powerquery"]
KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
SAME_AS = "same_as"

Text = NewType("Text", str)
"""A non-empty string, whitespace folded."""
Description = NewType("Description", str)
"""Text that becomes a docstring: it must not start with a quote."""

T = TypeVar("T")


class SpecError(ValueError):
    """A spec that cannot be generated; the message names file, endpoint or model, and key."""

    def __init__(self, file: str, where: str, key: str, problem: str) -> None:
        self.file = file
        self.where = where
        self.key = key
        self.problem = problem
        parts = [file, where, f"key {key!r}" if key else "", problem]
        super().__init__(": ".join(part for part in parts if part))


# -- the YAML, as records (what cattrs structures) ------------------------------------------


@attrs.frozen(kw_only=True)
class ParamDoc:
    type: Text
    required: bool = True
    description: Description | None = None


@attrs.frozen(kw_only=True)
class FieldDoc:
    type: Text
    key: Text | None = None
    required: bool = False
    description: Description | None = None


@attrs.frozen(kw_only=True)
class ModelDoc:
    description: Description
    fields: dict[str, FieldDoc] = attrs.field(factory=dict)


@attrs.frozen(kw_only=True)
class OneEnvelope:
    singular: Text


@attrs.frozen(kw_only=True)
class ListEnvelope:
    plural: Text
    singular: Text


@attrs.frozen(kw_only=True)
class CountEnvelope:
    shape: Literal["resource", "plain"] = "resource"


@attrs.frozen(kw_only=True)
class CountDoc:
    path: Text
    shape: Literal["resource", "plain"] = "resource"


QueryParam = Literal["q", "expansions", "extensions", "projection", "order"]
Method = Literal["GET", "POST", "PUT", "DELETE"]


@attrs.frozen(kw_only=True)
class _KindDoc:
    """What every endpoint kind has."""

    kind: Kind
    description: Description


@attrs.frozen(kw_only=True)
class CountEndpointDoc(_KindDoc):
    """`kind: count`; its fields are also the start of `get` and `list`."""

    method: Method = "GET"
    path: Text
    path_params: dict[str, ParamDoc] = attrs.field(factory=dict)
    query: tuple[QueryParam, ...] = ()
    envelope: CountEnvelope


@attrs.frozen(kw_only=True)
class GetDoc(CountEndpointDoc):
    envelope: OneEnvelope  # type: ignore[assignment]
    expansions: tuple[Text, ...] = ()
    model: Text


@attrs.frozen(kw_only=True)
class ListDoc(GetDoc):
    envelope: ListEnvelope  # type: ignore[assignment]
    count: CountDoc | None = None
    max_page_size: Text


@attrs.frozen(kw_only=True)
class BulkWriteDoc(_KindDoc):
    method: Method = "POST"
    path: Text
    envelope: ListEnvelope
    model: Text
    item_model: Text | None = None
    action: Literal["INSERT", "UPDATE"]


@attrs.frozen(kw_only=True)
class PowerQueryDoc(_KindDoc):
    method: Method = "POST"
    path: Text = Text("/ws/schema/query/{query_name}")
    query_name: Text
    args: dict[str, ParamDoc] = attrs.field(factory=dict)
    model: Text


@attrs.frozen(kw_only=True)
class SameAsDoc:
    same_as: Text
    description: Description


ENDPOINT_DOCS: dict[str, type] = {
    "get": GetDoc,
    "list": ListDoc,
    "count": CountEndpointDoc,
    "bulk_write": BulkWriteDoc,
    "powerquery": PowerQueryDoc,
}


@attrs.frozen(kw_only=True)
class FamilyDoc:
    module: Text | None = None
    class_name: Text | None = None
    attribute: Text | None = None
    description: Description
    models: dict[str, Any] = attrs.field(factory=dict)
    endpoints: dict[str, Any] = attrs.field(factory=dict)


# -- what the renderer reads ----------------------------------------------------------------


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
    """One endpoint; `same_as` ("students.for_school") when it delegates to another family's
    endpoint, whose definition it then carries (for its signature)."""

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
    same_as: str = ""


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


# -- the converter --------------------------------------------------------------------------


def _text(value: Any, _: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError("must be a non-empty string")
    return " ".join(value.split())


def _description(value: Any, _: Any) -> str:
    text = _text(value, None)
    if text[0] in "\"'":
        raise ValueError("must not start with a quote (it opens a docstring): start with a word")
    return text


def _strict_bool(value: Any, _: Any) -> bool:
    if not isinstance(value, bool):
        raise ValueError("must be true or false")
    return value


def _short_form(converter: cattrs.Converter, cls: type[T]) -> Callable[[Any, Any], T]:
    """`gender: str` means `gender: {type: str}`."""
    structure = cattrs.gen.make_dict_structure_fn(cls, converter, _cattrs_forbid_extra_keys=True)

    def hook(value: Any, _: Any) -> T:
        return structure({"type": value} if isinstance(value, str) else value, cls)

    return hook


def make_spec_converter() -> cattrs.Converter:
    converter = cattrs.Converter(forbid_extra_keys=True)
    converter.register_structure_hook(Text, _text)
    converter.register_structure_hook(Description, _description)
    converter.register_structure_hook(bool, _strict_bool)
    converter.register_structure_hook(ParamDoc, _short_form(converter, ParamDoc))
    converter.register_structure_hook(FieldDoc, _short_form(converter, FieldDoc))
    return converter


_CONVERTER = make_spec_converter()


def _load(file: str, where: str, body: Any, cls: type[T]) -> T:
    """`body` as `cls`, or SpecError naming every problem with its key."""
    if not isinstance(body, Mapping):
        raise SpecError(file, where, "", "must be a mapping")
    try:
        return _CONVERTER.structure(body, cls)
    except cattrs.BaseValidationError as exc:
        lines = cattrs.transform_error(exc, path="$", format_exception=_message)
        problems = [_problem(line) for line in lines]
    except (ValueError, TypeError) as exc:
        problems = [("", "", str(exc))]
    inner, key, first = problems[0]
    rest = "".join(f"; key {k!r}: {p}" for _, k, p in problems[1:])
    raise SpecError(file, where + inner, key, first + rest) from None


def _message(exc: BaseException, type_: Any) -> str:
    if isinstance(exc, ValueError) and type(exc) is ValueError and str(exc):
        return str(exc)  # our own hooks' words
    if typing.get_origin(type_) is Literal:
        return f"must be one of {', '.join(map(str, typing.get_args(type_)))}"
    return cattrs.v.format_exception(exc, type_)


def _problem(line: str) -> tuple[str, str, str]:
    """cattrs' `"... @ $.fields['name'].type"` as (" field 'name'", "type", message)."""
    message, _, path = line.rpartition(" @ ")
    inner = ""
    named = re.match(r"^\$\.fields\['([^']*)'\](.*)$", path)
    if named:
        inner, path = f" field {named.group(1)!r}", "$" + named.group(2)
    extra = re.match(r"extra fields found \((.*)\)", message)
    if extra:
        return inner, extra.group(1), "unknown key"
    key = re.sub(r"\[[^\]]*\]", "", path).removeprefix("$").lstrip(".")
    key = key.replace("class_name", "class")
    if message.startswith("required field missing"):
        return inner, key, "missing"
    return inner, key, message


# -- loading --------------------------------------------------------------------------------


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
    check_page_size_keys(families)
    return tuple(families)


def parse_family(file: str, stem: str, raw: Any) -> FamilySpec:
    """One spec file's content (already YAML-parsed) as a FamilySpec."""
    if isinstance(raw, Mapping) and "class" in raw:
        raw = {("class_name" if k == "class" else k): v for k, v in raw.items()}
    doc = _load(file, "", raw, FamilyDoc)
    module = doc.module or stem.lstrip("_")
    if not _IDENT.match(module):
        raise SpecError(file, "", "module", f"{module!r} is not a module name")
    endpoints = tuple(_endpoint(file, name, body) for name, body in doc.endpoints.items())
    if endpoints:
        if not _CLASS.match(doc.class_name or ""):
            raise SpecError(file, "", "class", "a family with endpoints needs a class name")
        if not _identifier(doc.attribute or ""):
            raise SpecError(file, "", "attribute", "a family with endpoints needs an attribute")
    return FamilySpec(
        file=file,
        module=module,
        class_name=doc.class_name or "",
        attribute=doc.attribute or "",
        description=doc.description,
        models=tuple(_model(file, name, body) for name, body in doc.models.items()),
        endpoints=endpoints,
    )


def _identifier(name: Any) -> bool:
    return isinstance(name, str) and bool(_IDENT.match(name)) and not keyword.iskeyword(name)


def _model(file: str, name: Any, body: Any) -> ModelSpec:
    where = f"model {name!r}"
    if not isinstance(name, str) or not _CLASS.match(name):
        raise SpecError(file, where, "models", "model names are CamelCase")
    doc = _load(file, where, body, ModelDoc)
    fields = []
    for field_name, field in doc.fields.items():
        here = f"{where} field {field_name!r}"
        if not _identifier(field_name):
            raise SpecError(file, here, "fields", "field names are lower_snake_case identifiers")
        if field_name in RESERVED_FIELD_NAMES:
            raise SpecError(file, here, "fields", f"{field_name!r} is reserved for unknown fields")
        key = field.key or field_name
        fields.append(
            FieldSpec(field_name, key, field.type, field.required, field.description or "")
        )
    keys = [f.key for f in fields]
    if len(set(keys)) != len(keys):
        raise SpecError(file, where, "key", "two fields share one JSON key")
    return ModelSpec(name=name, description=doc.description, fields=tuple(fields))


def _params(
    file: str, where: str, key: str, params: Mapping[str, ParamDoc]
) -> tuple[ParamSpec, ...]:
    for name in params:
        if not _identifier(name):
            raise SpecError(file, where, key, f"{name!r} is not an identifier")
    return tuple(ParamSpec(n, p.type, p.required, p.description or "") for n, p in params.items())


def _endpoint(file: str, name: Any, body: Any) -> EndpointSpec:
    where = f"endpoint {name!r}"
    if not _identifier(name):
        raise SpecError(file, where, "endpoints", "endpoint names are lower_snake_case")
    if isinstance(body, Mapping) and SAME_AS in body:
        alias = _load(file, where, body, SameAsDoc)
        if not _TARGET.match(alias.same_as):
            raise SpecError(file, where, SAME_AS, "must name an endpoint as attribute.endpoint")
        return EndpointSpec(name, SAME_AS, "", "", alias.description, same_as=alias.same_as)
    kind = body.get("kind") if isinstance(body, Mapping) else None
    if kind not in ENDPOINT_DOCS:
        raise SpecError(file, where, "kind", f"{kind!r} is not one of {', '.join(KINDS)}")
    doc: Any = _load(file, where, body, ENDPOINT_DOCS[kind])
    spec = _endpoint_spec(file, where, name, doc)
    _check_paths(file, where, spec)
    if spec.expansions and "expansions" not in spec.query:
        raise SpecError(file, where, "expansions", "listed but 'expansions' is not in query")
    return spec


def _endpoint_spec(file: str, where: str, name: str, doc: Any) -> EndpointSpec:
    """The kind's record as the one EndpointSpec the renderer reads."""
    envelope = getattr(doc, "envelope", None)
    count = getattr(doc, "count", None)
    if isinstance(envelope, CountEnvelope):
        count = CountSpec(doc.path, envelope.shape)
    return EndpointSpec(
        name=name,
        kind=doc.kind,
        method=doc.method,
        path=doc.path,
        description=doc.description,
        path_params=_params(file, where, "path_params", getattr(doc, "path_params", {})),
        query=tuple(getattr(doc, "query", ())),
        expansions=tuple(getattr(doc, "expansions", ())),
        plural=getattr(envelope, "plural", ""),
        singular=getattr(envelope, "singular", ""),
        model=getattr(doc, "model", ""),
        count=CountSpec(count.path, count.shape) if count is not None else None,
        max_page_size=getattr(doc, "max_page_size", ""),
        action=getattr(doc, "action", ""),
        item_model=getattr(doc, "item_model", None) or "",
        query_name=getattr(doc, "query_name", ""),
        args=_params(file, where, "args", getattr(doc, "args", {})),
    )


def _check_paths(file: str, where: str, ep: EndpointSpec) -> None:
    if not ep.path.startswith("/"):
        raise SpecError(file, where, "path", "paths start with '/'")
    wanted = set(_PLACEHOLDER.findall(ep.path)) - {"query_name"}
    declared = {p.name for p in ep.path_params}
    if wanted != declared:
        missing = sorted(wanted - declared) or sorted(declared - wanted)
        raise SpecError(
            file, where, "path_params", f"path placeholders and path_params differ: {missing}"
        )
    if ep.count is not None and set(_PLACEHOLDER.findall(ep.count.path)) != declared:
        raise SpecError(file, where, "count.path", "placeholders differ from the list path")


# -- across files ---------------------------------------------------------------------------


def resolve_same_as(families: Sequence[FamilySpec]) -> list[FamilySpec]:
    """Give each `same_as: attribute.endpoint` the target's definition (for its signature),
    under its own name and description; it stays marked `same_as`, so the renderer emits a
    delegation to the target rather than a second copy of its body."""
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
                target = by_name.get(ep.same_as)
                if target is None:
                    raise SpecError(
                        family.file, f"endpoint {ep.name!r}", SAME_AS, f"no endpoint {ep.same_as!r}"
                    )
                ep = attrs.evolve(
                    target, name=ep.name, description=ep.description, same_as=ep.same_as
                )
            endpoints.append(ep)
        resolved.append(attrs.evolve(family, endpoints=tuple(endpoints)))
    return resolved


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
            _check_endpoint_types(family.file, ep, owner)


def _check_endpoint_types(file: str, ep: EndpointSpec, owner: Mapping[str, str]) -> None:
    where = f"endpoint {ep.name!r}"
    for key in ("model", "item_model"):
        value = getattr(ep, key)
        if value and value not in owner:
            raise SpecError(file, where, key, f"unknown model {value!r}")
    for param in (*ep.path_params, *ep.args):
        _check_type(file, where, f"{param.name}.type", param.type, owner)


def check_page_size_keys(families: Sequence[FamilySpec]) -> None:
    """Every list's `max_page_size` is a field of the metadata model (a typo would otherwise
    silently fall back to 100 rows a page)."""
    metadata = next((m for f in families for m in f.models if m.name == METADATA_MODEL), None)
    known = {field.key for field in metadata.fields} if metadata is not None else set()
    for family in families:
        for ep in family.endpoints:
            if ep.kind == "list" and not ep.same_as and ep.max_page_size not in known:
                raise SpecError(
                    family.file,
                    f"endpoint {ep.name!r}",
                    "max_page_size",
                    f"{ep.max_page_size!r} is not a field of {METADATA_MODEL} in metadata.yaml",
                )


def referenced_models(type_text: str) -> tuple[str, ...]:
    """The model names a spec type mentions (`list[Alert]` -> ("Alert",))."""
    inner = _LIST.match(type_text)
    if inner:
        return referenced_models(inner.group(1))
    if _LITERAL.match(type_text):
        return ()
    return () if type_text in SCALAR_TYPES else (type_text,)


def _check_type(file: str, where: str, key: str, text: str, models: Mapping[str, str]) -> None:
    for name in referenced_models(text):
        if not _CLASS.match(name):
            raise SpecError(file, where, key, f"{text!r} is not a type")
        if name not in models:
            raise SpecError(file, where, key, f"unknown model {name!r}")
