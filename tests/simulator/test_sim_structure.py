"""The simulator's structure (issue 10 §4) and its edges (issue 11 item 16): option records,
fault kinds as records, the pipeline of steps, loopback-only hosts, bad Content-Length."""

from __future__ import annotations

import socket

import pytest
import requests

from acme_powerschool.testing import FAULT_KINDS, Simulator
from acme_powerschool.testing.faults import FAULTS, FaultKind
from acme_powerschool.testing.messages import Reply
from acme_powerschool.testing.options import Behaviour, Paging, Timing


def _raw(sim: Simulator, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", sim.port), timeout=10) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_option_records_and_the_older_keywords_agree() -> None:
    old = Simulator(students=5, seed=2, max_page_size=7, throttle_ms=50, xml_quirks=True)
    new = Simulator(
        students=5,
        seed=2,
        paging=Paging(max_page_size=7),
        timing=Timing(throttle_ms=50),
        behaviour=Behaviour(xml_quirks=True),
    )
    for sim in (old, new):
        assert sim.max_page_size == 7 and sim.paging_options.max_page_size == 7
        assert sim.throttle_ms == 50 and sim.xml_quirks is True
    assert old.client_id == new.client_id  # the seed, not the spelling, decides
    old.latency_ms = 3
    assert old.timing.latency_ms == 3
    with pytest.raises(ValueError):
        old.throttle_status = 418  # records validate every assignment
    with pytest.raises(ValueError):
        Simulator(max_page_sizes={"nonsense": 3})
    with pytest.raises(TypeError, match="max_pagesize"):
        Simulator(max_pagesize=3)  # a misspelled keyword is not silently ignored
    # an explicit record and a flat keyword: the keyword wins for its field
    both = Simulator(paging=Paging(max_page_size=9, oversize_pagesize="error"), max_page_size=4)
    assert both.max_page_size == 4 and both.oversize_pagesize == "error"


def test_each_fault_kind_is_one_record() -> None:
    assert tuple(FAULTS) == FAULT_KINDS
    for name, kind in FAULTS.items():
        assert isinstance(kind, FaultKind) and kind.name == name and kind.doc
    applied = {k.name for k in FAULTS.values() if k.applies_request}
    assert applied == {"reset_after", "truncated", "slow"}
    with pytest.raises(ValueError, match="unknown fault kind"):
        Simulator(students=1).inject("/ws/", "teapot")


def test_a_new_fault_kind_needs_only_its_record(monkeypatch: pytest.MonkeyPatch) -> None:
    teapot = FaultKind("418", lambda: Reply(418, {"message": "I'm a teapot"}), doc="a test")
    monkeypatch.setitem(FAULTS, "418", teapot)
    with Simulator(students=3) as sim:
        sim.inject("/ws/v1/metadata", "418")
        r = requests.get(sim.base_url + "/ws/v1/metadata", timeout=10)
        assert r.status_code == 418 and r.json() == {"message": "I'm a teapot"}
        assert sim.stats.faults == {"418": 1}
        assert requests.get(sim.base_url + "/ws/v1/metadata", timeout=10).status_code == 200


def test_the_pipeline_is_a_list_of_steps() -> None:
    with Simulator(students=3) as sim:
        assert len(sim.steps) == 8
        sim.steps.insert(0, lambda ex: Reply(503, b"down", "text/plain"))
        r = requests.get(sim.base_url + "/ws/v1/metadata", timeout=10)
        assert r.status_code == 503 and r.text == "down"


def test_handlers_see_the_state_not_the_simulator() -> None:
    from acme_powerschool.testing.routing import ROUTES
    from acme_powerschool.testing.state import SimState

    sim = Simulator(students=3)
    assert isinstance(sim.state, SimState) and not hasattr(sim.state, "inject")
    assert all(r.handler.__annotations__.get("sim") in ("State", None) for r in ROUTES)


@pytest.mark.parametrize("host", ["0.0.0.0", "::", "192.0.2.1", "example.org"])
def test_a_non_loopback_host_is_refused_unless_allowed(host: str) -> None:
    with pytest.raises(ValueError, match="not a loopback address"):
        Simulator(host=host)
    Simulator(host=host, allow_remote=True)  # built, not started: nothing listens


@pytest.mark.parametrize("host", ["localhost.", "LOCALHOST", "127.0.0.2"])
def test_loopback_spellings_serve(host: str) -> None:
    with Simulator(students=1, host=host) as sim:
        assert requests.get(sim.base_url + "/ws/v1/time", timeout=10).status_code == 200


@pytest.mark.parametrize(
    "length", [b"1000000000000000", b"abc", b"-5", b"12abc", b"1" * 40, b"\xb2"]
)
def test_a_bad_content_length_is_a_400(length: bytes) -> None:
    with Simulator(students=1) as sim:
        head = b"POST /ws/schema/query/x HTTP/1.1\r\nHost: a\r\nContent-Length: " + length
        answer = _raw(sim, head + b"\r\n\r\n{}")
        assert answer.startswith(b"HTTP/1.1 400 "), answer[:80]
        assert b"Content-Length" in answer or b"too large" in answer
        assert b'"message"' in answer
        # the server is still fine afterwards
        assert requests.get(sim.base_url + "/ws/v1/time", timeout=10).status_code == 200
