"""The architecture's walls, checked on the source: what must never import what."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "acme_powerschool"


def all_imports(path: Path) -> set[str]:
    """Every import, relative ones written with their leading dots."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add("." * node.level + (node.module or ""))
    return found


def imports_of(path: Path) -> set[str]:
    """Absolute imports only (the package's own modules import each other absolutely)."""
    return {name for name in all_imports(path) if not name.startswith(".")}


def modules(folder: str) -> list[Path]:
    return sorted((PACKAGE / folder).rglob("*.py"))


# The functional core may import only these: pure computation, parsing and records.
CORE_ALLOWED = {
    "__future__", "attrs", "base64", "collections.abc", "dataclasses", "email.utils", "enum",
    "functools", "ipaddress", "itertools", "json", "math", "re", "shlex", "typing",
    "urllib.parse", "xml.etree.ElementTree", "xml.sax.saxutils",
}  # fmt: skip


@pytest.mark.parametrize("path", modules("core"), ids=lambda p: p.name)
def test_core_imports_only_pure_modules(path: Path) -> None:
    for name in all_imports(path):
        if name.startswith("acme_powerschool."):
            assert name.startswith("acme_powerschool.core."), f"{path.name} imports {name}"
        else:
            assert name in CORE_ALLOWED, f"{path.name} imports {name}"


@pytest.mark.parametrize("path", modules("testing"), ids=lambda p: p.name)
def test_simulator_shares_nothing_with_the_client(path: Path) -> None:
    for name in imports_of(path):
        if name.startswith("acme_powerschool."):
            assert name.startswith("acme_powerschool.testing"), f"{path.name} imports {name}"


@pytest.mark.parametrize("path", modules("shell"), ids=lambda p: p.name)
def test_shell_knows_no_caller(path: Path) -> None:
    for name in imports_of(path):
        for forbidden in ("client", "endpoints", "models", "typed", "pager", "testing"):
            assert not name.startswith(f"acme_powerschool.{forbidden}"), (
                f"{path.name} imports {name}"
            )


def library_files() -> list[Path]:
    skip = {"testing", "cli", "cli.py", "demo.py", "__main__.py"}
    return [
        p
        for p in sorted(PACKAGE.rglob("*.py"))
        if not any(part in skip for part in p.relative_to(PACKAGE).parts)
    ]


@pytest.mark.parametrize("path", library_files(), ids=lambda p: str(p.relative_to(PACKAGE)))
def test_library_never_imports_simulator_or_codegen(path: Path) -> None:
    for name in imports_of(path):
        assert not name.startswith("acme_powerschool.testing"), f"{path} imports {name}"
        assert name.split(".")[0] != "codegen", f"{path} imports {name}"


def loaded(statements: str, names: tuple[str, ...]) -> str:
    """Which of `names` are in sys.modules after running `statements` in a fresh interpreter."""
    code = f"import sys; {statements}; print(','.join(m for m in {names!r} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_import_is_light() -> None:
    """`import acme_powerschool` loads none of the heavy dependencies."""
    heavy = ("requests", "keyring", "oracledb", "pandas", "polars", "cattrs")
    assert loaded("import acme_powerschool", heavy) == ""


def test_the_xml_parser_loads_only_for_a_403() -> None:
    """Real typed use (the client, a family, its models) imports no XML parser."""
    typed_use = (
        "import acme_powerschool; acme_powerschool.api; "
        "import acme_powerschool.endpoints.students, acme_powerschool.models.students"
    )
    assert loaded(typed_use, ("xml.etree.ElementTree", "xml.sax")) == ""


def test_every_public_name_resolves() -> None:
    import acme_powerschool

    for name in acme_powerschool.__all__:
        assert getattr(acme_powerschool, name) is not None, name


@pytest.mark.parametrize(
    "path", sorted(PACKAGE.rglob("*.py")), ids=lambda p: str(p.relative_to(PACKAGE))
)
def test_no_relative_imports(path: Path) -> None:
    """The walls read absolute names; a relative import would slip past them."""
    assert [name for name in all_imports(path) if name.startswith(".")] == []


# -- the import graph -----------------------------------------------------------------------


def module_name(path: Path, package: Path = PACKAGE) -> str:
    parts = list(path.relative_to(package.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_only(node: ast.AST) -> bool:
    return isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test)


def runtime_imports(path: Path, known: set[str], own: str = "") -> set[str]:
    """The package modules `path` imports when it runs: module-level and lazy (in functions)
    imports count, `if TYPE_CHECKING:` blocks do not (they never run). `from a import b`
    counts `a.b` when that is a module."""
    found: set[str] = set()
    pending: list[ast.AST] = [ast.parse(path.read_text(encoding="utf-8"))]
    while pending:
        node = pending.pop()
        if _type_checking_only(node):
            assert isinstance(node, ast.If)
            pending.extend(node.orelse)
            continue
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        pending.extend(ast.iter_child_nodes(node))
    return {name for name in found if name in known and name != own}


def import_graph(package: Path = PACKAGE) -> dict[str, set[str]]:
    """module -> the package modules it imports at run time."""
    paths = {module_name(p, package): p for p in sorted(package.rglob("*.py"))}
    known = set(paths)
    return {name: runtime_imports(path, known, name) for name, path in paths.items()}


def find_cycle(graph: dict[str, set[str]]) -> list[str]:
    """One import cycle as [a, b, ..., a], or [] when the graph has none (depth-first)."""
    state: dict[str, str] = {}  # "open" while on the path, "done" after

    def visit(node: str, path: list[str]) -> list[str]:
        state[node] = "open"
        for target in sorted(graph.get(node, ())):
            if state.get(target) == "open":
                trail = [*path, node]
                return [*trail[trail.index(target) :], target]
            if target not in state:
                cycle = visit(target, [*path, node])
                if cycle:
                    return cycle
        state[node] = "done"
        return []

    for start in sorted(graph):
        if start not in state:
            cycle = visit(start, [])
            if cycle:
                return cycle
    return []


def test_the_cycle_finder_finds_a_cycle_and_accepts_a_tree() -> None:
    assert find_cycle({"a": {"b"}, "b": {"c"}, "c": set()}) == []
    cycle = find_cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}})
    assert cycle[0] == cycle[-1] and set(cycle) == {"a", "b", "c"}


def test_runtime_imports_skip_type_checking_blocks(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text(
        "from typing import TYPE_CHECKING\n"
        "import x.a\n"
        "if TYPE_CHECKING:\n    import x.b\n"
        "def f():\n    from x import c\n"
    )
    assert runtime_imports(module, {"x.a", "x.b", "x.c"}) == {"x.a", "x.c"}


def test_no_import_cycle_anywhere_in_the_package() -> None:
    assert find_cycle(import_graph()) == []


GENERATED = ("acme_powerschool.endpoints", "acme_powerschool.models")


def test_runtime_imports_nothing_generated() -> None:
    """Generated code imports the runtime; the runtime (and what it imports) never imports
    generated code back, lazily or not."""
    graph = import_graph()
    reached, pending = set(), ["acme_powerschool.runtime"]
    while pending:
        for target in graph[pending.pop()] - reached:
            reached.add(target)
            pending.append(target)
    assert not [name for name in reached if name.startswith(GENERATED)]


def test_generated_code_imports_no_hand_written_family() -> None:
    for name, deps in import_graph().items():
        if name.startswith(GENERATED):
            assert "acme_powerschool.typed" not in deps, name
            assert "acme_powerschool.client" not in deps, name
