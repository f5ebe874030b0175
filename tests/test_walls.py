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


def test_import_is_light() -> None:
    """`import acme_powerschool` loads none of the heavy dependencies."""
    code = (
        "import sys, acme_powerschool; "
        "heavy = [m for m in ('requests', 'keyring', 'oracledb', 'pandas', 'polars', 'cattrs')"
        " if m in sys.modules]; print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


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
