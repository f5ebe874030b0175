"""Benchmark child for our side: the plain-requests baseline and acme_powerschool's raw verbs
and typed pagers, each run in its own process by run_bench so its CPU and memory are its own.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import math
import sys
from collections.abc import Callable
from typing import Any

from bench.bench_measure import (
    PAGE_SIZE,
    POWERQUERY,
    Enough,
    Unsupported,
    counted,
    run_child,
    single_ids,
)


def _as_list(value: Any) -> list[Any]:
    """PowerSchool's single-record quirk: one record arrives as an object, not a list."""
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def _limited(body: Callable[[list[int]], None]) -> Callable[[list[int]], int]:
    @functools.wraps(body)
    def run(seen: list[int]) -> int:
        with contextlib.suppress(Enough):
            body(seen)
        return seen[0]

    return run


# -- the baseline: requests.Session written the obvious way ---------------------------------


def baseline(args: argparse.Namespace) -> Callable[[], int]:
    import requests

    base, limit = args.base_url, args.limit

    def session() -> requests.Session:
        s = requests.Session()
        s.headers["Accept"] = "application/json"
        r = s.post(
            f"{base}/oauth/access_token",
            data={"grant_type": "client_credentials"},
            auth=(args.client_id, args.client_secret),
            timeout=30,
        )
        r.raise_for_status()
        s.headers["Authorization"] = f"Bearer {r.json()['access_token']}"
        return s

    def pages(s: requests.Session, url: str, count: int, seen: list[int]) -> None:
        for page in range(1, math.ceil(count / PAGE_SIZE) + 1):
            r = s.get(url, params={"page": page, "pagesize": PAGE_SIZE}, timeout=30)
            r.raise_for_status()
            counted(_as_list(r.json()["students"].get("student")), limit, seen)

    @_limited
    def all_students(seen: list[int]) -> None:
        s = session()
        r = s.get(f"{base}/ws/v1/district/school", params={"pagesize": PAGE_SIZE}, timeout=30)
        for school in _as_list(r.json()["schools"].get("school")):
            url = f"{base}/ws/v1/school/{school['id']}/student"
            count = s.get(f"{url}/count", timeout=30).json()["resource"]["count"]
            pages(s, url, count, seen)

    @_limited
    def powerquery(seen: list[int]) -> None:
        s = session()
        url = f"{base}/ws/schema/query/{POWERQUERY}"
        count = s.post(f"{url}/count", json={}, timeout=30).json()["count"]
        for page in range(1, math.ceil(count / PAGE_SIZE) + 1):
            r = s.post(url, json={}, params={"page": page, "pagesize": PAGE_SIZE}, timeout=30)
            r.raise_for_status()
            counted(r.json().get("record", []), limit, seen)

    @_limited
    def single_student(seen: list[int]) -> None:
        s = session()
        for dcid in single_ids(args.students):
            r = s.get(f"{base}/ws/v1/student/{dcid}", timeout=30)
            r.raise_for_status()
            counted([r.json()["student"]], 0, seen)

    @_limited
    def token_file(seen: list[int]) -> None:
        s = session()  # the obvious loop keeps no token between runs
        counted([s.get(f"{base}/ws/v1/student/1", timeout=30).json()["student"]], 0, seen)

    return _bind(args, all_students, powerquery, single_student, token_file)


# -- acme_powerschool ------------------------------------------------------------------------


def _client(args: argparse.Namespace) -> Any:
    import acme_powerschool

    if args.credential_file:
        return acme_powerschool.api(args.base_url, credential_file=args.credential_file)
    return acme_powerschool.api(
        args.base_url, client_id=args.client_id, client_secret=args.client_secret
    )


def raw(args: argparse.Namespace) -> Callable[[], int]:
    import acme_powerschool

    acme_powerschool.api  # noqa: B018  (resolve the lazy import before the clock starts)
    limit = args.limit

    @_limited
    def all_students(seen: list[int]) -> None:
        ps = _client(args)
        r = ps.get("ws/v1/district/school", params={"pagesize": PAGE_SIZE})
        for school in _as_list(r.json()["schools"].get("school")):
            url = f"ws/v1/school/{school['id']}/student"
            count = ps.get(f"{url}/count").json()["resource"]["count"]
            for page in range(1, math.ceil(count / PAGE_SIZE) + 1):
                r = ps.get(url, params={"page": page, "pagesize": PAGE_SIZE})
                counted(_as_list(r.json()["students"].get("student")), limit, seen)

    @_limited
    def powerquery(seen: list[int]) -> None:
        ps = _client(args)
        url = f"ws/schema/query/{POWERQUERY}"
        count = ps.post(f"{url}/count", json={}).json()["count"]
        for page in range(1, math.ceil(count / PAGE_SIZE) + 1):
            r = ps.post(url, json={}, params={"page": page, "pagesize": PAGE_SIZE})
            counted(r.json().get("record", []), limit, seen)

    @_limited
    def single_student(seen: list[int]) -> None:
        ps = _client(args)
        for dcid in single_ids(args.students):
            counted([ps.get(f"ws/v1/student/{dcid}").json()["student"]], 0, seen)

    @_limited
    def token_file(seen: list[int]) -> None:
        ps = _client(args)
        counted([ps.get("ws/v1/student/1").json()["student"]], 0, seen)

    return _bind(args, all_students, powerquery, single_student, token_file)


WINDOW: dict[str, Any] = {}
"""The last typed client's window figures, added to the child's result (see `extras`)."""

DEFAULT = object()
"""No prefetch argument at all: the user's default settings."""


def typed(args: argparse.Namespace, prefetch: Any, *, nested: bool = False) -> Callable[[], int]:
    """Typed pagers. `prefetch` DEFAULT passes no argument; all students are read as one
    stream (`flat_map`) unless `nested` (a loop over schools, one listing at a time)."""
    import acme_powerschool
    from acme_powerschool.convert import default_converter

    acme_powerschool.api  # noqa: B018  (resolve the lazy import before the clock starts)
    default_converter()
    limit = args.limit
    options: dict[str, Any] = {} if prefetch is DEFAULT else {"prefetch": prefetch}

    def client() -> Any:
        ps = _client(args)
        WINDOW["client"] = ps
        return ps

    @_limited
    def all_students(seen: list[int]) -> None:
        ps = client()
        if nested:
            for school in ps.schools.list(**options):
                counted(ps.students.for_school(school.id, **options), limit, seen)
            return
        stream = ps.schools.list(**options).flat_map(
            lambda school: ps.students.for_school(school.id, **options), **options
        )
        counted(stream, limit, seen)

    @_limited
    def powerquery(seen: list[int]) -> None:
        if nested:
            raise Unsupported("one listing: same as the default row")
        ps = client()
        counted(ps.powerquery(POWERQUERY, **options), limit, seen)

    @_limited
    def single_student(seen: list[int]) -> None:
        if options != {"prefetch": 0}:
            raise Unsupported("paging options do not apply to single-record GETs (same as typed)")
        ps = client()
        for dcid in single_ids(args.students):
            counted([ps.students.get(dcid)], 0, seen)

    @_limited
    def token_file(seen: list[int]) -> None:
        ps = client()
        counted([ps.students.get(1)], 0, seen)

    return _bind(args, all_students, powerquery, single_student, token_file)


def extras() -> dict[str, Any]:
    """How far the typed client's window opened during the run (nothing for other contenders)."""
    ps = WINDOW.get("client")
    window = getattr(ps, "_window", None)
    if window is None:
        return {}
    return {"window_peak": window.peak, "window_limit": window.state.limit}


def _bind(args: argparse.Namespace, *works: Callable[[list[int]], int]) -> Callable[[], int]:
    chosen = {work.__name__: work for work in works}.get(args.workload)
    if chosen is None:
        raise Unsupported(f"unknown workload {args.workload}")
    return lambda: chosen([0])


CONTENDERS: dict[str, Callable[[argparse.Namespace], Callable[[], int]]] = {
    "baseline": baseline,
    "raw": raw,
    "typed": lambda args: typed(args, 0),
    "typed_default": lambda args: typed(args, DEFAULT),
    "typed_nested": lambda args: typed(args, DEFAULT, nested=True),
    "typed_prefetch8": lambda args: typed(args, 8),
}


def works(args: argparse.Namespace) -> Callable[[], int]:
    return CONTENDERS[args.contender](args)


if __name__ == "__main__":
    sys.exit(run_child(works, sys.argv[1:], extras=extras))
