"""Credential-file torture: four processes refresh tokens into one file while the test kills
them (SIGKILL) at varied moments. After every kill the file must be valid JSON with the
client_id and client_secret intact and mode 0600, with no temporary file left behind but the
one a killed writer may leave (never read as the credential file).
"""

from __future__ import annotations

import json
import os
import random
import signal
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from acme_powerschool.testing import Simulator

CHILD = Path(__file__).with_name("credential_refresher.py")
PROCESSES = 4
KILLS = 40


@pytest.mark.soak
def test_credential_file_survives_kills(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    with Simulator(students=10, seed=3) as sim:
        original = {"client_id": sim.client_id, "client_secret": sim.client_secret, "keep": [1]}
        path.write_text(json.dumps(original))
        env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}

        def spawn() -> subprocess.Popen[str]:
            return subprocess.Popen(
                [sys.executable, str(CHILD), sim.base_url, str(path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
            )

        rng = random.Random(5)
        children = [spawn() for _ in range(PROCESSES)]
        try:
            for _ in range(KILLS):
                victim = rng.randrange(PROCESSES)
                child = children[victim]
                assert child.stdout is not None
                # let it save a varied number of tokens, then kill it wherever it is
                for _ in range(rng.randint(1, 6)):
                    line = child.stdout.readline()
                    assert line == "saved\n", child.stderr.read() if child.stderr else line
                child.send_signal(signal.SIGKILL)
                child.wait()
                payload = json.loads(path.read_text())
                assert payload["client_id"] == sim.client_id
                assert payload["client_secret"] == sim.client_secret
                assert payload["keep"] == [1]
                assert payload["access_token"]
                assert stat.S_IMODE(path.stat().st_mode) == 0o600
                assert len(list(tmp_path.glob(".credentials.json.*.tmp"))) <= 1
                children[victim] = spawn()
        finally:
            for child in children:
                child.kill()
                child.wait()
                for stream in (child.stdout, child.stderr):
                    if stream is not None:
                        stream.close()
        assert sim.stats.token_requests >= KILLS
