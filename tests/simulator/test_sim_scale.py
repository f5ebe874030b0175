"""Determinism, scale and paging: hypothesis picks district and page sizes; every record once."""

from __future__ import annotations

import math
from typing import Any

import requests
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from acme_powerschool.testing import Simulator
from acme_powerschool.testing.district import District


def test_same_seed_same_district_other_seed_differs() -> None:
    a, b, c = District(300, seed=7), District(300, seed=7), District(300, seed=8)
    blocks = ("demographics", "addresses", "school_enrollment", "lunch")
    assert [a.student(i, blocks) for i in range(1, 301)] == [
        b.student(i, blocks) for i in range(1, 301)
    ]
    assert [a.student(i) for i in range(1, 301)] != [c.student(i) for i in range(1, 301)]
    assert a.student(2) == c.student(2)  # Brandon Adair whatever the seed


def test_more_schools_on_request() -> None:
    d = District(1000, schools=6, seed=1)
    assert [s.number for s in d.schools][:3] == [100, 600, 700]
    assert len({s.name for s in d.schools}) == 6
    assert sum(len(s.students) for s in d.schools) == 1000
    assert all(s.students for s in d.schools)


def test_hundred_thousand_students_page_from_the_end() -> None:
    with Simulator(students=100_000, seed=1) as sim:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {sim.issue_token()}"
        base = sim.base_url
        count = session.get(base + "/ws/v1/district/student/count", timeout=10).json()
        assert count == {"resource": {"count": 100_000}}
        last = session.get(
            base + "/ws/v1/district/student",
            params={"page": "1000", "pagesize": "100", "expansions": "school_enrollment"},
            timeout=10,
        ).json()["students"]["student"]
        assert [s["id"] for s in last] == list(range(99_901, 100_001))
        one = session.get(base + "/ws/v1/student/99999", timeout=10).json()["student"]
        assert one["local_id"] == 100_000
        hit = session.get(
            base + "/ws/v1/district/student", params={"q": "local_id==54321"}, timeout=10
        ).json()["students"]["student"]
        assert hit["id"] == 54_320
        rows = session.get(
            base + "/ws/schema/table/students",
            params={"projection": "dcid,last_name", "page": "1000", "pagesize": "100"},
            timeout=10,
        ).json()["record"]
        assert [r["id"] for r in rows] == list(range(99_901, 100_001))
        roster = session.post(
            base + "/ws/schema/query/com.acme.sdk.students.roster?page=1000&count=true",
            json={},
            timeout=10,
        ).json()
        assert roster["count"] == 100_000
        assert [r["id"] for r in roster["record"]] == list(range(99_901, 100_001))
        session.close()


def _collect(
    session: requests.Session, url: str, plural: str, singular: str, pagesize: int
) -> list[int]:
    ids: list[int] = []
    page = 1
    while True:
        body = session.get(url, params={"page": page, "pagesize": pagesize}, timeout=10).json()
        items: Any = body[plural].get(singular, [])
        items = [items] if isinstance(items, dict) else items
        ids.extend(i["id"] for i in items)
        if len(items) < pagesize:
            return ids
        page += 1


@settings(max_examples=12, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    students=st.integers(min_value=0, max_value=260),
    schools=st.integers(min_value=1, max_value=4),
    pagesize=st.integers(min_value=6, max_value=120),
    max_page_size=st.integers(min_value=5, max_value=100),
    seed=st.integers(min_value=0, max_value=2**31),
)
def test_paging_returns_every_record_exactly_once(
    students: int, schools: int, pagesize: int, max_page_size: int, seed: int
) -> None:
    with Simulator(
        students=students, schools=schools, seed=seed, max_page_size=max_page_size
    ) as sim:
        session = requests.Session()
        session.headers["Authorization"] = f"Bearer {sim.issue_token()}"
        base = sim.base_url
        effective = min(pagesize, max_page_size)
        ids = _collect(session, base + "/ws/v1/district/student", "students", "student", effective)
        assert ids == list(range(1, students + 1))
        per_school: list[int] = []
        for school in sim.district.schools:
            url = f"{base}/ws/v1/school/{school.id}/student"
            got = _collect(session, url, "students", "student", effective)
            count = session.get(url + "/count", timeout=10).json()["resource"]["count"]
            assert len(got) == count
            per_school.extend(got)
            staff = _collect(
                session, f"{base}/ws/v1/school/{school.id}/staff", "staffs", "staff", effective
            )
            assert len(staff) == len(set(staff)) == school.staff_count
        assert sorted(per_school) == list(range(1, students + 1))
        # Schema paging: ceil(count / pagesize) pages cover the table exactly once.
        n = session.get(base + "/ws/schema/table/students/count", timeout=10).json()["count"]
        rows: list[int] = []
        for page in range(1, math.ceil(n / effective) + 1):
            body = session.get(
                base + "/ws/schema/table/students",
                params={"projection": "dcid", "page": str(page), "pagesize": str(effective)},
                timeout=10,
            ).json()
            rows.extend(r["id"] for r in body["record"])
        assert rows == list(range(1, students + 1))
        # PowerQuery paging with its own page size (not capped by the v1 max).
        pq: list[int] = []
        page = 1
        while True:
            body = session.post(
                base
                + f"/ws/schema/query/com.acme.sdk.students.roster?page={page}&pagesize={pagesize}",
                json={},
                timeout=10,
            ).json()
            pq.extend(r["id"] for r in body.get("record", []))  # empty: no "record"
            if len(body.get("record", [])) < pagesize:
                break
            page += 1
        assert pq == list(range(1, students + 1))
        session.close()
