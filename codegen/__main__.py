"""`python -m codegen [--check] [--root DIR]`: write the generated files, or verify them.

--check renders in memory and exits 1 naming every stale, missing or extra generated file; it
never writes.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path

from codegen.render import DOCS_FILE, ENDPOINTS_DIR, MODELS_DIR, render_all
from codegen.spec import SpecError, load_specs

GENERATED_DIRS = (MODELS_DIR, ENDPOINTS_DIR)


def generate(root: Path) -> dict[str, str]:
    """Every generated file for the specs under root/specs, as {relative path: text}."""
    return render_all(load_specs(root / "specs"))


def existing_files(root: Path) -> set[str]:
    """The generated files present on disk (every .py in the generated folders, and the docs)."""
    found = {
        path.relative_to(root).as_posix()
        for folder in GENERATED_DIRS
        for path in (root / folder).glob("*.py")
    }
    if (root / DOCS_FILE).exists():
        found.add(DOCS_FILE)
    return found


def differences(root: Path, rendered: Mapping[str, str]) -> list[str]:
    """One line per stale, missing or extra generated file; empty when all is fresh."""
    problems = []
    on_disk = existing_files(root)
    for path, text in sorted(rendered.items()):
        target = root / path
        if path not in on_disk:
            problems.append(f"missing: {path}")
        elif target.read_text(encoding="utf-8") != text:
            problems.append(f"stale: {path}")
    problems.extend(f"extra: {path}" for path in sorted(on_disk - set(rendered)))
    return problems


def write(root: Path, rendered: Mapping[str, str]) -> list[str]:
    """Write what changed, delete extra generated files; returns what was touched."""
    touched = []
    for problem in differences(root, rendered):
        kind, path = problem.split(": ", 1)
        target = root / path
        if kind == "extra":
            target.unlink()
        else:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(rendered[path], encoding="utf-8")
        touched.append(problem)
    return touched


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m codegen", description=__doc__)
    parser.add_argument("--check", action="store_true", help="verify, do not write")
    parser.add_argument(
        "--root", type=Path, default=Path(__file__).resolve().parent.parent, help="repository root"
    )
    options = parser.parse_args(argv)
    try:
        rendered = generate(options.root)
    except SpecError as exc:
        print(f"codegen: bad spec: {exc}", file=sys.stderr)
        return 2
    if options.check:
        problems = differences(options.root, rendered)
        for line in problems:
            print(f"codegen --check: {line}", file=sys.stderr)
        if problems:
            print("codegen --check: run `make generate` and commit the result", file=sys.stderr)
        return 1 if problems else 0
    for line in write(options.root, rendered):
        print(f"codegen: wrote {line}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
