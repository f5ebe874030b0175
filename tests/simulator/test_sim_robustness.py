"""Concurrency and malformed traffic: every request gets an answer, nothing hangs or leaks."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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


# ----- no input answers 500 (issue 2: never a stack trace) -----

WRITE_URL = "/ws/schema/table/u_studentsuserfields"


@pytest.mark.parametrize(
    "values",
    [{"*": "x"}, {"": "x"}, {".": "x"}, {"bus_route": {"a": 1}}, {"bus_route": [1]}],
)
def test_schema_write_bodies_that_used_to_500(
    powerschool_sim: Simulator, values: dict[str, Any]
) -> None:
    token = powerschool_sim.issue_token()
    body = {"tables": {"u_studentsuserfields": values}}
    for method, path in (("POST", WRITE_URL), ("PUT", WRITE_URL + "/2")):
        r = requests.request(
            method,
            powerschool_sim.base_url + path,
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=10,
        )
        assert r.status_code == 400, (method, values, r.text)


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(10**20), max_value=10**20)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "x", "2", "-1", "²", "100", "9" * 30, "A", "2025-08-20", "*"]),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(["", "*", "a", "first_name", "email", "main"]), inner)
    ),
    max_leaves=8,
)
FIELDS = [
    "id", "local_id", "name", "name.last_name", "school_enrollment.grade_level", "portion",
    "student_id", "dropped", "emails.work_email", "term.portion", "dcid", "studentsdcid",
    "bus_route", "schoolid", "students.dcid", "students.grade_level", "students.last_name",
    "last_name", "zzz", "a.b.c",
]  # fmt: skip
q_values = st.builds(
    lambda f, op, v: f"{f}{op}{v}",
    st.sampled_from(FIELDS),
    st.sampled_from(["==", "!=", "=gt=", "=ge=", "=lt=", "=le=", "=~", ""]),
    st.sampled_from(["1", "x", "A*", "(1,2)", "", "²", "-5", "1.5", "9" * 40, "(", "*"]),
) | st.text(max_size=12)
param_values = st.sampled_from(
    ["", "0", "1", "-1", "x", "*", ",", "dcid", "9" * 25, "²", "true", "students.*", "id;desc"]
) | st.text(max_size=8)
params = st.dictionaries(
    st.sampled_from(
        ["page", "pagesize", "expansions", "extensions", "projection", "sort", "sortdescending",
         "order", "count", "grant_type"]
    ),
    param_values,
    max_size=4,
) | st.fixed_dictionaries({"q": q_values}) | st.fixed_dictionaries({"$q": q_values})  # fmt: skip
ids = st.sampled_from(["2", "1", "0", "-1", "100", "600", "101", "x", "²", "9" * 30, "%20"])
ROUTES = [
    ("GET", "/ws/v1/metadata"),
    ("GET", "/ws/v1/district"),
    ("GET", "/ws/v1/district/school"),
    ("GET", "/ws/v1/district/student"),
    ("GET", "/ws/v1/district/student/count"),
    ("GET", "/ws/v1/school/{id}"),
    ("GET", "/ws/v1/school/{id}/student"),
    ("GET", "/ws/v1/school/{id}/student/count"),
    ("GET", "/ws/v1/school/{id}/staff"),
    ("GET", "/ws/v1/school/{id}/section/count"),
    ("GET", "/ws/v1/school/{id}/term"),
    ("GET", "/ws/v1/school/{id}/course"),
    ("GET", "/ws/v1/student/{id}"),
    ("GET", "/ws/v1/staff/{id}"),
    ("GET", "/ws/v1/section/{id}"),
    ("GET", "/ws/v1/section/{id}/section_enrollment"),
    ("GET", "/ws/v1/section/{id}/section_enrollment/count"),
    ("GET", "/ws/v1/section_enrollment/{id}"),
    ("POST", "/ws/v1/student"),
    ("POST", "/oauth/access_token"),
    ("GET", "/ws/schema/table/students"),
    ("GET", "/ws/schema/table/attendance"),
    ("GET", "/ws/schema/table/cc/count"),
    ("GET", "/ws/schema/table/u_studentsuserfields/{id}"),
    ("GET", "/ws/schema/table/schools/metadata"),
    ("POST", "/ws/schema/table/u_studentsuserfields"),
    ("PUT", "/ws/schema/table/u_studentsuserfields/{id}"),
    ("PUT", "/ws/schema/table/students/{id}"),
    ("PUT", "/ws/schema/table/attendance/{id}"),
    ("DELETE", "/ws/schema/table/attendance/{id}"),
    ("POST", "/ws/schema/query/com.acme.sdk.students.roster"),
    ("POST", "/ws/schema/query/com.acme.sdk.students.flat/count"),
    ("POST", "/ws/schema/query/com.acme.sdk.students.by_school"),
    ("POST", "/ws/schema/query/com.acme.sdk.sections.roster"),
    ("POST", "/ws/schema/query/com.pearson.core.attendance.daily_attendance_template"),
]
student_items = st.dictionaries(
    st.sampled_from(
        ["action", "id", "client_uid", "local_id", "name", "contact_info", "school_enrollment",
         "addresses", "phones", "student_username", "state_province_id", "demographics"]
    ),
    json_values,
) | st.builds(
    lambda action, extra: {"action": action, "id": "3", "local_id": "9999", **extra},
    st.sampled_from(["INSERT", "UPDATE", "insert", "DELETE"]),
    st.dictionaries(st.sampled_from(["name", "school_enrollment", "phones"]), json_values),
)  # fmt: skip
bodies = (
    json_values
    | st.builds(lambda items: {"students": {"student": items}}, st.lists(student_items, max_size=3))
    | st.builds(
        lambda table, values: {"tables": {table: values}},
        st.sampled_from(["u_studentsuserfields", "students", "attendance"]),
        st.dictionaries(st.sampled_from(["", "*", "bus_route", "DCID", "schoolid", "first_name",
                                         "student_number", "students.*", "x.y"]), json_values),
    )
    | st.dictionaries(
        st.sampled_from(["schoolid", "grade_levels", "section_dcid", "studentid", "$q", "x"]),
        json_values,
    )
)  # fmt: skip


@pytest.fixture(scope="module")
def robust_sim() -> Iterator[Simulator]:
    with Simulator(students=40, seed=3) as sim:
        sim.grant("attendance")
        yield sim


@settings(
    max_examples=250,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(
    route=st.sampled_from(ROUTES),
    ident=ids,
    query=params,
    body=bodies,
    xml=st.booleans(),
)
def test_no_request_answers_500(
    robust_sim: Simulator,
    route: tuple[str, str],
    ident: str,
    query: dict[str, str],
    body: Any,
    xml: bool,
) -> None:
    method, template = route
    headers = {
        "Authorization": f"Bearer {robust_sim.issue_token()}",
        "Accept": "application/xml" if xml else "application/json",
    }
    r = requests.request(
        method,
        robust_sim.base_url + template.replace("{id}", ident),
        params=query,
        json=body if method != "GET" else None,
        headers=headers,
        timeout=10,
    )
    assert r.status_code < 500, (method, template, ident, query, body, r.text)


@pytest.mark.parametrize(
    ("method", "path", "params", "body", "status"),
    [
        ("GET", "/ws/v1/section_enrollment/600", {}, None, 404),  # slot 0 of a section
        ("GET", "/ws/v1/section_enrollment/0", {}, None, 404),
        ("GET", "/ws/v1/district/student", {"q": "id==²"}, None, 200),  # "²".isdigit()
        ("GET", "/ws/v1/district/student", {"q": "local_id==²"}, None, 200),
        ("GET", "/ws/v1/district/student", {"q": "id==" + "9" * 5000}, None, 200),
        ("GET", "/ws/schema/table/cc", {"projection": "id", "page": "9" * 30}, None, 200),
        ("GET", "/ws/schema/table/schools", {"projection": "id", "page": "9" * 30}, None, 200),
        ("POST", "/ws/schema/query/com.acme.sdk.students.by_school", {}, {"schoolid": "²"}, 400),
        ("POST", "/ws/schema/query/com.acme.sdk.students.by_school", {"page": "9" * 30}, {"schoolid": 100}, 200),
        ("POST", "/ws/v1/student", {}, {"students": {"student": {"action": "UPDATE", "id": "²"}}}, 200),
    ],
)  # fmt: skip
def test_inputs_that_used_to_500(
    robust_sim: Simulator,
    method: str,
    path: str,
    params: dict[str, str],
    body: Any,
    status: int,
) -> None:
    r = requests.request(
        method,
        robust_sim.base_url + path,
        params=params,
        json=body,
        headers={"Authorization": f"Bearer {robust_sim.issue_token()}"},
        timeout=10,
    )
    assert r.status_code == status, r.text
