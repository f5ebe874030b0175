"""Fault soak: 8 threads share one client against a simulator that fails 10% of requests.

Faults: connection resets, 502, 503 with the HTML maintenance page, truncated bodies, 429 with
Retry-After, and token revocations, each followed by a failed token request. Every read (single
records, and paged listings through the client's window) must complete with the right data, no write may
be applied twice, and token requests stay within one per revocation. Waits the retry policy
asks for are recorded instead of slept (the faults here do not depend on time).
`--soak-size N` sets the number of requests (default 20,000).
"""

from __future__ import annotations

import json
import random
import threading
from collections import Counter
from typing import Any

import pytest
import requests

import acme_powerschool
from acme_powerschool.core.call import Call
from acme_powerschool.core.errors import PowerSchoolError
from acme_powerschool.core.retry import RetryPolicy
from acme_powerschool.shell.effects import Effects
from acme_powerschool.testing import Simulator

THREADS = 8
READ_FAULTS = ("502", "503", "reset", "truncated", "429")


@pytest.mark.soak
def test_fault_soak(pytestconfig: pytest.Config) -> None:
    size: int = pytestconfig.getoption("--soak-size")
    per_thread = size // THREADS
    waits: list[float] = []
    lock = threading.Lock()

    def record_wait(seconds: float) -> None:
        with lock:
            waits.append(seconds)

    with Simulator(students=300, seed=11) as sim:
        ps = acme_powerschool.api(
            sim.base_url,
            client_id=sim.client_id,
            client_secret=sim.client_secret,
            effects=Effects(sleep=record_wait),
            retry=RetryPolicy(max_attempts=8, max_total_wait=600),
        )
        ps.get("ws/v1/district")
        school = sim.district.schools[0].id
        roster = [s.id for s in ps.students.for_school(school, pagesize=10, prefetch=0)]
        sim.stats.reset()
        ids = [2, *range(3, 300)]
        sim.fault_rate(0.10, kinds=READ_FAULTS, route="/ws/")
        revocations = 0
        wrong: list[str] = []
        failed_reads: list[str] = []
        write_outcomes: Counter[str] = Counter()
        acknowledged: list[str] = []
        barrier = threading.Barrier(THREADS)

        def worker(index: int) -> None:
            nonlocal revocations
            rng = random.Random(index)
            barrier.wait()
            for n in range(per_thread):
                if index == 0 and n % 500 == 250:
                    # the token request that follows fails once too
                    sim.inject("/oauth/access_token", READ_FAULTS[revocations % 5], times=1)
                    sim.revoke_tokens()
                    with lock:
                        revocations += 1
                if n % 50 == 49:  # a write: a bulk UPDATE with its own client_uid
                    uid = f"t{index}-{n}"
                    body = {
                        "students": {
                            "student": {
                                "id": str(rng.choice(ids)),
                                "client_uid": uid,
                                "action": "UPDATE",
                                "contact_info": {"email": f"{uid}@example.org"},
                            }
                        }
                    }
                    try:
                        status = ps.post("ws/v1/student", data=json.dumps(body)).status_code
                        outcome = "ok" if status == 200 else f"http-{status}"
                    except requests.RequestException as exc:
                        outcome = type(exc).__name__
                    with lock:
                        write_outcomes[outcome] += 1
                        if outcome == "ok":
                            acknowledged.append(uid)
                    continue
                if n % 100 == 50:  # a listing through the client's window (on by default)
                    try:
                        listed = [s.id for s in ps.students.for_school(school, pagesize=10)]
                    except PowerSchoolError as exc:
                        listed = [f"{type(exc).__name__}: {exc}"]
                    if listed != roster:
                        with lock:
                            failed_reads.append(f"listing of school {school}: {listed[:3]}")
                    continue
                dcid = rng.choice(ids)
                try:
                    if n % 2:
                        got = ps.get(f"ws/v1/student/{dcid}").json()["student"]["id"]
                    else:
                        call = Call("GET", "/ws/v1/student/{id}", {"id": dcid})
                        got = ps.send(call).json()["student"]["id"]
                except (PowerSchoolError, requests.RequestException, ValueError, KeyError) as exc:
                    with lock:
                        failed_reads.append(f"{dcid}: {type(exc).__name__}: {exc}")
                    continue
                if got != dcid:
                    with lock:
                        wrong.append(f"asked {dcid}, got {got}")

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        sim.clear_faults()

        faults = sim.stats.faults
        applied = sim.applied_client_uids()
        report: dict[str, Any] = {
            "requests": sim.stats.requests,
            "faults_injected": sum(faults.values()),
            "faults_by_kind": faults,
            "revocations": revocations,
            "token_requests": sim.stats.token_requests,
            "failed_reads": len(failed_reads),
            "wrong_reads": len(wrong),
            "writes": dict(write_outcomes),
            "writes_applied_twice": sum(1 for c in applied.values() if c > 1),
            "waits_recorded": len(waits),
        }
        print("\nSOAK", json.dumps(report, sort_keys=True))
        assert failed_reads == [], failed_reads[:5]
        assert wrong == []
        assert report["writes_applied_twice"] == 0
        # every write the server acknowledged landed exactly once
        assert [uid for uid in acknowledged if applied[uid] != 1] == []
        assert sum(faults.values()) >= size * 0.05
        # one token per revocation, plus the one retry each injected token fault costs
        assert sim.stats.token_requests <= 2 * revocations + 1
