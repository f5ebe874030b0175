"""Benchmark child for the peer SDKs (pypowerschool, powerschool, powerschool-adapter), run
only with the peers venv's python (bench/.peers); the project never imports them.

Each is driven through its documented calls; where a peer has no call for a workload, the
child says so instead of improvising one. `--fidelity` runs the cross-check calls.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import sys
from collections.abc import Callable
from typing import Any

from bench.bench_measure import (
    DENIED_POWERQUERY,
    PAGE_SIZE,
    POWERQUERY,
    Enough,
    Unsupported,
    counted,
    run_child,
    single_ids,
)

PACKAGES = {
    "pypowerschool": "pypowerschool==0.2.0",
    "teamschools": "powerschool==4.0.1",
    "adapter": "powerschool-adapter==1.0.3",
}
LABELS = {
    "pypowerschool": "pypowerschool 0.2.0",
    "teamschools": "powerschool 4.0.1 (TEAMSchools)",
    "adapter": "powerschool-adapter 1.0.3",
}
# Columns a schema-table read asks for (TEAMSchools has no /ws/v1 helpers).
STUDENT_COLUMNS = "id,dcid,student_number,first_name,last_name,schoolid,grade_level,enroll_status"
NOTES = {
    ("teamschools", "all_students"): "via the schema table `students` (no /ws/v1 helper)",
    ("teamschools", "single_student"): "via schema table `students` by id (no /ws/v1 helper)",
    ("teamschools", "powerquery"): "pagesize=100 passed; its default for queries is 1 row/page",
}


# -- pypowerschool (httpx; a new connection per call) ----------------------------------------


def _pypowerschool(args: argparse.Namespace) -> Any:
    from pypowerschool.powerschool import Client

    return Client(args.base_url, args.client_id, args.client_secret)


def pypowerschool(args: argparse.Namespace) -> dict[str, Callable[[list[int]], None]]:
    def all_students(seen: list[int]) -> None:
        client = _pypowerschool(args)
        for school in client.schools_in_district():
            counted(client.students_for_school(school["id"]), args.limit, seen)

    def powerquery(seen: list[int]) -> None:
        client = _pypowerschool(args)
        counted(client.powerquery(f"ws/schema/query/{POWERQUERY}"), args.limit, seen)

    def single_student(seen: list[int]) -> None:
        client = _pypowerschool(args)
        for dcid in single_ids(args.students):
            counted([client.student_for_dcid(dcid)], 0, seen)

    def token_file(seen: list[int]) -> None:
        client = _pypowerschool(args)  # keeps its token in memory only
        counted([client.student_for_dcid(1)], 0, seen)

    return _named(all_students, powerquery, single_student, token_file)


# -- powerschool (TEAMSchools; requests-oauthlib) --------------------------------------------


def _teamschools(args: argparse.Namespace) -> Any:
    # It builds https://{host} itself; the only ways to reach http://127.0.0.1:PORT are to
    # replace its base_url attribute and to let oauthlib fetch a token over plain http.
    os.environ["OAUTHLIB_INSECURE_TRANSPORT"] = "1"
    from powerschool.client import PowerSchool

    host = args.base_url.split("://", 1)[1]
    client = PowerSchool(host)
    client.base_url = args.base_url
    client.authorize((args.client_id, args.client_secret))
    return client


def teamschools(args: argparse.Namespace) -> dict[str, Callable[[list[int]], None]]:
    def all_students(seen: list[int]) -> None:
        client = _teamschools(args)
        table = client.get_schema_table("students")
        counted(table.query(projection=STUDENT_COLUMNS, pagesize=PAGE_SIZE), args.limit, seen)

    def powerquery(seen: list[int]) -> None:
        client = _teamschools(args)
        counted(client.get_named_query(POWERQUERY).query(pagesize=PAGE_SIZE), args.limit, seen)

    def single_student(seen: list[int]) -> None:
        client = _teamschools(args)
        table = client.get_schema_table("students")
        for dcid in single_ids(args.students):
            counted(table.query(pk=dcid, projection=STUDENT_COLUMNS), 0, seen)

    def token_file(seen: list[int]) -> None:
        client = _teamschools(args)  # accepts a saved token dict, but never saves one
        counted(client.get_schema_table("students").query(pk=1, projection="id"), 0, seen)

    return _named(all_students, powerquery, single_student, token_file)


# -- powerschool-adapter (requests; token cached with diskcache in ./.cache) -----------------


def _adapter(args: argparse.Namespace) -> Any:
    from powerschool_adapter.powerschool import PowerSchool

    return PowerSchool(
        server_address=args.base_url, client_id=args.client_id, client_secret=args.client_secret
    )


def _adapter_pages(client: Any, endpoint: str | None, query: str | None = None) -> Any:
    if endpoint is not None:
        # After a finished paginate() it resets its method to None; set it again (documented).
        client.set_endpoint(endpoint).set_method("GET")
    if query:
        client.q(query)
    while True:
        page = client.paginate(page_size=PAGE_SIZE)
        if not page:
            return
        yield from page


def adapter(args: argparse.Namespace) -> dict[str, Callable[[list[int]], None]]:
    def all_students(seen: list[int]) -> None:
        client = _adapter(args)
        schools = list(_adapter_pages(client, "/ws/v1/district/school"))
        for school in schools:
            endpoint = f"/ws/v1/school/{school['id']}/student"
            counted(_adapter_pages(client, endpoint), args.limit, seen)

    def powerquery(seen: list[int]) -> None:
        client = _adapter(args)
        client.pq(POWERQUERY)
        counted(_adapter_pages(client, None), args.limit, seen)

    def single_student(seen: list[int]) -> None:
        client = _adapter(args)
        for dcid in single_ids(args.students):
            counted([client.to("/ws/v1/student").set_id(dcid).get().data], 0, seen)

    def token_file(seen: list[int]) -> None:
        client = _adapter(args)  # its default cache_key keeps the token in ./.cache
        counted([client.to("/ws/v1/student").set_id(1).get().data], 0, seen)

    return _named(all_students, powerquery, single_student, token_file)


# -- plumbing ----------------------------------------------------------------------------------


def _named(*works: Callable[[list[int]], None]) -> dict[str, Callable[[list[int]], None]]:
    return {work.__name__: work for work in works}


PEERS: dict[str, Callable[[argparse.Namespace], dict[str, Callable[[list[int]], None]]]] = {
    "pypowerschool": pypowerschool,
    "teamschools": teamschools,
    "adapter": adapter,
}


def works(args: argparse.Namespace) -> Callable[[], int]:
    chosen = PEERS[args.contender](args).get(args.workload)
    if chosen is None:
        raise Unsupported(f"{args.contender} has no call for {args.workload}")

    def run() -> int:
        seen = [0]
        with contextlib.suppress(Enough):
            chosen(seen)
        return seen[0]

    return run


# -- the fidelity cross-check ------------------------------------------------------------------


def _attempt(fn: Callable[[], Any]) -> dict[str, Any]:
    """What a documented call did: its records (count, distinct ids) or the exception."""
    try:
        value = fn()
    except Exception as exc:
        return {"raised": f"{type(exc).__name__}: {str(exc)[:300]}"}
    if isinstance(value, list | tuple):
        ids = {_record_id(v) for v in value}
        kinds = sorted({type(v).__name__ for v in value})
        return {"records": len(value), "distinct_ids": len(ids - {None}), "types": kinds}
    return {"value": repr(value)[:300]}


def _record_id(record: Any) -> Any:
    if not isinstance(record, dict):
        return None
    for key in ("id", "dcid", "students.dcid"):
        if key in record:
            return str(record[key])
    tables = record.get("tables")
    if isinstance(tables, dict):
        for row in tables.values():
            if isinstance(row, dict) and "dcid" in row:
                return str(row["dcid"])
    return None


def fidelity(args: argparse.Namespace, school_id: int, one_id: int) -> dict[str, Any]:
    """The peers' documented calls against the simulator: what each one got."""
    out: dict[str, Any] = {}
    denied_args = {"studentid": str(one_id)}
    if args.contender == "pypowerschool":
        c = _pypowerschool(args)
        out["students_of_school"] = _attempt(lambda: c.students_for_school(school_id))
        out["one_match_list"] = _attempt(lambda: c.students_in_district(query=f"id=={one_id}"))
        pq = f"ws/schema/query/{POWERQUERY}"
        out["powerquery_paged"] = _attempt(lambda: c.powerquery(pq))
        denied = f"ws/schema/query/{DENIED_POWERQUERY}"
        out["powerquery_403"] = _attempt(lambda: c.powerquery(denied, denied_args))
    elif args.contender == "teamschools":
        c = _teamschools(args)
        table = c.get_schema_table("students")
        out["students_of_school"] = _attempt(lambda: table.query(q=f"schoolid=={school_id}"))
        out["students_of_school_projection"] = _attempt(
            lambda: table.query(q=f"schoolid=={school_id}", projection=STUDENT_COLUMNS)
        )
        query = c.get_named_query(POWERQUERY)
        out["powerquery_paged"] = _attempt(lambda: query.query(pagesize=PAGE_SIZE))
        out["powerquery_count"] = _attempt(lambda: query.count())
        denied = c.get_named_query(DENIED_POWERQUERY)
        out["powerquery_403"] = _attempt(lambda: denied.query(body=denied_args, pagesize=100))
    elif args.contender == "adapter":
        c = _adapter(args)
        out["students_of_school"] = _attempt(
            lambda: list(_adapter_pages(c, f"/ws/v1/school/{school_id}/student"))
        )
        out["one_match_list"] = _attempt(
            lambda: list(_adapter_pages(c, "/ws/v1/district/student", f"id=={one_id}"))
        )

        def paged_query() -> list[Any]:
            c.pq(POWERQUERY)
            return list(_adapter_pages(c, None))

        out["powerquery_paged"] = _attempt(paged_query)
        out["powerquery_403"] = _attempt(lambda: c.pq(DENIED_POWERQUERY, denied_args).data)
    return out


def main(argv: list[str]) -> int:
    if argv and argv[0] == "--fidelity":
        parser = argparse.ArgumentParser()
        for name in ("--contender", "--base-url", "--client-id", "--client-secret", "--out"):
            parser.add_argument(name, required=True)
        parser.add_argument("--school-id", type=int, required=True)
        parser.add_argument("--one-id", type=int, required=True)
        args = parser.parse_args(argv[1:])
        args.limit = 0
        try:
            result = fidelity(args, args.school_id, args.one_id)
        except Exception as exc:
            result = {"setup": {"raised": f"{type(exc).__name__}: {str(exc)[:300]}"}}
        with open(args.out, "w", encoding="utf-8") as handle:
            json.dump(result, handle)
        return 0
    return run_child(works, argv)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
