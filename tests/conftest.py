"""Shared fixtures: a real file-backed keyring in a temporary folder."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


@pytest.fixture
def file_keyring(tmp_path: Path) -> Iterator[Any]:
    """keyrings.alt's PlaintextKeyring, stored under tmp_path, active for the test only."""
    import keyring
    from keyrings.alt.file import PlaintextKeyring

    backend = PlaintextKeyring()
    backend.file_path = str(tmp_path / "keyring_pass.cfg")
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--soak-size",
        type=int,
        default=20_000,
        help="requests in the fault soak (default 20,000; larger for a long soak)",
    )
