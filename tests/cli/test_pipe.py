"""`acme-powerschool ... | head` ends quietly: no traceback, no "Exception ignored" from the
interpreter, and the broken-pipe status (141) rather than an error line."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import pytest

from acme_powerschool.testing import Simulator
from tests.cli.conftest import CLEAN_ENV


@pytest.fixture(scope="module")
def big() -> Iterator[Simulator]:
    # 1500 records are far more than a pipe holds, so the writer is still writing when head
    # has read its line and gone: the next write fails with EPIPE.
    with Simulator(students=1500, seed=2) as sim:
        yield sim


@pytest.mark.parametrize(
    "args",
    [
        "students list --format jsonl --expansions demographics,addresses",
        "query com.acme.sdk.students.flat --format csv",
        "get ws/v1/district/student --paginate --format json",
    ],
)
def test_head_ends_the_command_quietly(big: Simulator, args: str) -> None:
    env = {k: v for k, v in os.environ.items() if k not in CLEAN_ENV}
    env.update(
        ACME_POWERSCHOOL_SERVER=big.base_url,
        ACME_POWERSCHOOL_CLIENT_ID=big.client_id,
        ACME_POWERSCHOOL_CLIENT_SECRET=big.client_secret,
    )
    script = (
        f"{sys.executable} -m acme_powerschool {args} | head -n 1; "
        'echo "status=${PIPESTATUS[0]}" >&2'
    )
    done = subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, timeout=120
    )
    assert done.stdout.count("\n") == 1
    assert done.stderr.strip() == "status=141", done.stderr
