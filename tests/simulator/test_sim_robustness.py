"""Concurrency and malformed traffic: every request gets an answer, nothing hangs or leaks."""

from __future__ import annotations

import socket
import threading
from typing import Any

import requests

from acme_powerschool.testing import Simulator

BROKEN = (requests.exceptions.ConnectionError, requests.exceptions.ChunkedEncodingError)


def test_concurrent_clients_with_faults_apply_each_write_once(
    powerschool_sim: Simulator,
) -> None:
    sim = powerschool_sim
    token = sim.issue_token()
    sim.fault_rate(0.2, kinds=["500", "503", "reset", "truncated", "reset_after"])
    outcomes: list[Any] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {token}"
        for i in range(15):
            uid = f"w{n}-{i}"
            item = {
                "client_uid": uid,
                "action": "UPDATE",
                "id": 2 + n,
                "name": {"middle_name": uid},
            }
            try:
                r = session.post(
                    sim.base_url + "/ws/v1/student",
                    json={"students": {"student": item}},
                    timeout=10,
                )
                result: Any = r.status_code
            except BROKEN:
                result = "broken"
            with lock:
                outcomes.append((uid, result))
        session.close()

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert not any(t.is_alive() for t in threads)
    assert len(outcomes) == 60
    assert sim.stats.requests == 60
    applied = sim.applied_client_uids()
    assert all(n == 1 for n in applied.values())  # every uid was sent once, so applied <= once
    ok = {uid for uid, result in outcomes if result == 200}
    assert ok <= set(applied)


def _raw(sim: Simulator, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks: list[bytes] = []
        while True:
            chunk = sock.recv(65536)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)


def test_garbage_request_line_gets_an_error_not_a_hang(powerschool_sim: Simulator) -> None:
    answer = _raw(powerschool_sim, b"GARBAGE\r\n\r\n")
    assert answer.startswith(b"HTTP/")
    assert b" 400 " in answer.split(b"\r\n")[0]


def test_connection_close_is_honoured(powerschool_sim: Simulator) -> None:
    answer = _raw(
        powerschool_sim,
        b"GET /ws/v1/time HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    )
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    length = next(
        int(line.split(b":")[1])
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"content-length")
    )
    assert len(body) == length


def test_keep_alive_reuses_one_connection(powerschool_sim: Simulator) -> None:
    with socket.create_connection(("127.0.0.1", powerschool_sim.port), timeout=10) as sock:
        for _ in range(3):
            sock.sendall(b"GET /ws/v1/time HTTP/1.1\r\nHost: x\r\n\r\n")
            data = b""
            while b"\r\n\r\n" not in data:
                data += sock.recv(65536)
            head, _, body = data.partition(b"\r\n\r\n")
            length = next(
                int(line.split(b":")[1])
                for line in head.split(b"\r\n")
                if line.lower().startswith(b"content-length")
            )
            while len(body) < length:
                body += sock.recv(65536)
            assert head.startswith(b"HTTP/1.1 200")
            assert b'"resource"' in body


def test_deeply_nested_json_is_400_not_500(powerschool_sim: Simulator) -> None:
    r = requests.post(
        powerschool_sim.base_url + "/ws/schema/query/com.acme.sdk.students.roster",
        data=b"[" * 100_000 + b"]" * 100_000,
        headers={
            "Authorization": f"Bearer {powerschool_sim.issue_token()}",
            "Content-Type": "application/json",
        },
        timeout=10,
    )
    assert r.status_code == 400
    assert r.json()["message"].startswith("Malformed JSON body")
