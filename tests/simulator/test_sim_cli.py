"""`python -m acme_powerschool.testing` prints where it serves and stops cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys

import requests


def test_command_serves_and_stops_on_interrupt() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "acme_powerschool.testing",
            "--port",
            "0",
            "--students",
            "50",
            "--seed",
            "2",
            "--max-page-size",
            "25",
            "--latency-ms",
            "0",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        lines = [proc.stdout.readline() for _ in range(3)]
        base_url = lines[0].split()[-1]
        client_id = lines[1].split()[-1]
        secret = lines[2].split()[-1]
        assert base_url.startswith("http://127.0.0.1:")
        token = requests.post(
            base_url + "/oauth/access_token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, secret),
            timeout=10,
        ).json()["access_token"]
        meta = requests.get(
            base_url + "/ws/v1/metadata", headers={"Authorization": f"Bearer {token}"}, timeout=10
        ).json()["metadata"]
        assert meta["student_max_page_size"] == 25
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 0, err
        assert "Traceback" not in err
        assert "stopped" in out
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
