"""Every Python and shell snippet in README.md and docs/ runs here, against the simulator.

A document's snippets run in order, in one namespace and one working folder, against one
simulator started for that document, so a later snippet may use what an earlier one made (`ps`).
The docs are written for a real district; PLACEHOLDERS says what each placeholder stands for
here, and nothing else in a snippet is changed. `<!-- skip: next "reason" -->` before a block
skips it; it is kept for what cannot run on this machine (an Oracle database, a server that runs
until stopped, a package install), and the reason is shown in the test report.

Shell blocks (console, sh, shell): in a console block each `$ ` line is a command and the lines
under it are its output; in an sh block every line that is not a comment is a command. A command
whose shown output starts with `error:` must fail; every other command must succeed.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import unittest
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sybil import Example, Sybil
from sybil.parsers.markdown import CodeBlockParser, SkipParser

from acme_powerschool.testing import Simulator

ROOT = Path(__file__).resolve().parents[2]
DOCUMENTS = [
    path
    for path in [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    if "```" in path.read_text(encoding="utf-8")
]
SHELL_LANGUAGES = ("console", "sh", "shell", "bash")

CLIENT_ID = "7ebf0a8e-..."
CLIENT_SECRET = "1f8c6f57-..."
SERVERS = ("applegrove.powerschool.com", "district.powerschool.com")
PLUGIN = "My Plugin Name"
"""The docs' placeholders: two district host names (both mean the simulator here), the client id
and secret the simulator is started with, and the plugin name whose keyring entry is stored."""


def _substitute(text: str, base_url: str) -> str:
    for server in SERVERS:
        text = text.replace(server, base_url)
    return text


class DocumentRun:
    """One document's simulator, working folder, keyring and environment."""

    def __init__(self, sim: Simulator, workdir: Path) -> None:
        self.sim = sim
        self.workdir = workdir
        self.env = dict(os.environ)
        self.env.update(
            {
                "PATH": f"{Path(sys.executable).parent}{os.pathsep}{self.env.get('PATH', '')}",
                "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
                "XDG_DATA_HOME": str(workdir / "xdg-data"),
                "XDG_CONFIG_HOME": str(workdir / "xdg-config"),
                "HOME": str(workdir),
                "COLUMNS": "100",
            }
        )
        for name in ("ACME_POWERSCHOOL_SERVER", "ACME_POWERSCHOOL_PLUGIN"):
            self.env.pop(name, None)

    def python(self, example: Example) -> None:
        source = _substitute(example.parsed, self.sim.base_url)
        code = compile(source, f"{example.path}:{example.line}", "exec")
        exec(code, example.namespace)

    def shell(self, example: Example) -> None:
        language = str(example.region.lexemes.get("arguments", "")).strip()
        commands = list(_commands(example.parsed, console=language == "console"))
        for line, (command, must_fail) in enumerate(commands, 1):
            if command.startswith("pip "):
                continue  # the package is installed already; the tests reach no registry
            result = subprocess.run(
                ["bash", "-c", _substitute(command, self.sim.base_url)],
                cwd=self.workdir,
                env=self.env,
                input=f"{CLIENT_ID}\n{CLIENT_SECRET}\n",
                capture_output=True,
                text=True,
                timeout=120,
            )
            failed = result.returncode != 0
            where = f"{example.path}:{example.line} command {line}: {command}"
            assert failed == must_fail, (
                f"{where}\nexit {result.returncode}\n{result.stdout}\n{result.stderr}"
            )
            _apply_exports(command, self.env, self.sim.base_url)


def _commands(source: str, *, console: bool) -> Iterator[tuple[str, bool]]:
    """(command, must_fail) for each command of a shell block."""
    lines = source.splitlines()
    index = 0
    while index < len(lines):
        line = lines[index]
        index += 1
        if console and not line.startswith("$ "):
            continue
        command = line[2:] if console else line
        while command.endswith("\\") and index < len(lines):
            command = command[:-1] + lines[index]
            index += 1
        command = re.sub(r"\s+#.*$", "", command).strip()
        if not command or command.startswith("#"):
            continue
        output: list[str] = []
        while console and index < len(lines) and not lines[index].startswith("$ "):
            output.append(lines[index])
            index += 1
        yield command, any(o.startswith("error:") for o in output)


def _apply_exports(command: str, env: dict[str, str], base_url: str) -> None:
    """`export A=b C=d` lines of a block carry on to its next commands, as in a terminal."""
    words = shlex.split(_substitute(command, base_url))
    if words[:1] == ["export"]:
        for word in words[1:]:
            name, _, value = word.partition("=")
            env[name] = value


def _prepare(workdir: Path, sim: Simulator) -> None:
    """What a reader of the docs has already: a credential file and a keyring entry."""
    project = workdir / "project"
    project.mkdir()
    (project / "tests").symlink_to(ROOT / "tests")  # the reader is in a clone of the project
    credentials = {"client_id": CLIENT_ID, "client_secret": CLIENT_SECRET}
    (workdir / "credentials.json").write_text(json.dumps(credentials))
    os.chmod(workdir / "credentials.json", 0o600)
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    # the file a command run by DocumentRun.shell reads (XDG_DATA_HOME is set there)
    backend.file_path = str(project / "xdg-data" / "python_keyring" / backend.filename)
    keyring.set_keyring(backend)
    netloc = sim.base_url.split("://", 1)[1]
    backend.set_password(netloc, PLUGIN, json.dumps(credentials))


def _evaluate_python(example: Example) -> None:
    example.namespace["_docs_run"].python(example)


def _evaluate_shell(example: Example) -> None:
    example.namespace["_docs_run"].shell(example)


SYBIL = Sybil(
    parsers=[
        CodeBlockParser(language="python", evaluator=_evaluate_python),
        *(CodeBlockParser(language=lang, evaluator=_evaluate_shell) for lang in SHELL_LANGUAGES),
        SkipParser(),
    ],
)


PENDING: dict[str, str] = {}
"""Documents whose snippets do not run yet, with the reason (strict xfail: a fix must remove them)."""


def _marked(path: Path) -> Any:
    name = str(path.relative_to(ROOT))
    if name in PENDING:
        return pytest.param(
            path, id=name, marks=pytest.mark.xfail(strict=True, reason=PENDING[name])
        )
    return pytest.param(path, id=name)


@pytest.mark.parametrize("path", [_marked(p) for p in DOCUMENTS])
def test_every_snippet_runs(
    path: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, recwarn: Any
) -> None:
    document = SYBIL.parse(path)
    examples = list(document)
    with Simulator(students=300, seed=1, client_id=CLIENT_ID, client_secret=CLIENT_SECRET) as sim:
        _prepare(tmp_path, sim)
        monkeypatch.chdir(tmp_path / "project")
        document.namespace["_docs_run"] = DocumentRun(sim, tmp_path / "project")
        skipped = []
        for example in examples:
            try:
                example.evaluate()
            except unittest.SkipTest as skip:
                skipped.append(f"line {example.line}: {skip}")
    for reason in skipped:
        print(f"{path.name} skipped {reason}")
