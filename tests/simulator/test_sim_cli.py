"""`python -m acme_powerschool.testing` prints where it serves and stops cleanly on Ctrl-C."""

from __future__ import annotations

import signal
import subprocess
import sys
from typing import Any

import pytest
import requests

from acme_powerschool.testing import __main__ as cli
from acme_powerschool.testing.__main__ import is_loopback


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


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.5.6.7", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("LOCALHOST", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("example.org", False),
        ("", False),
    ],
)
def test_loopback_hosts(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback


def test_non_loopback_host_is_refused_without_allow_remote(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    made: list[dict[str, Any]] = []
    monkeypatch.setattr(cli, "Simulator", lambda **kw: made.append(kw))
    monkeypatch.setattr(cli, "serve", lambda sim, seed: None)
    with pytest.raises(SystemExit) as exc:
        cli.main(["--host", "0.0.0.0"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "not a loopback address" in err and "--allow-remote" in err
    assert made == []
    assert cli.main(["--host", "0.0.0.0", "--allow-remote"]) == 0
    assert "warning: serving on non-loopback host 0.0.0.0" in capsys.readouterr().err
    assert made[0]["host"] == "0.0.0.0"
    assert cli.main(["--host", "localhost"]) == 0
    assert "warning" not in capsys.readouterr().err


def test_a_port_in_use_is_a_message_not_a_traceback(capsys: pytest.CaptureFixture[str]) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert cli.main(["--port", str(port), "--students", "1"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot serve on 127.0.0.1:") and "Traceback" not in err
