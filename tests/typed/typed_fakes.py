"""A fake client for the typed layer: `send(call)` answers from a Python function, records every
call, and returns real `requests.Response` objects. Not a test module (no test_ prefix)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

import requests

from acme_powerschool.core.call import Call, render_path
from acme_powerschool.core.errors import NotFound
from acme_powerschool.typed import TypedHelpers

Route = Callable[[Call], Any]


def response(body: Any, status: int = 200) -> requests.Response:
    resp = requests.models.Response()
    resp.status_code = status
    resp._content = b"" if body is None else json.dumps(body).encode()
    resp.headers["Content-Type"] = "application/json"
    resp.url = "http://127.0.0.1/fake"
    return resp


class FakeClient(TypedHelpers):
    """Answers each Call with route(call) (a JSON value, or a Response); NotFound when None."""

    def __init__(self, route: Route, *, max_page_size: int | None = 100) -> None:
        self.route = route
        self.calls: list[Call] = []
        self.lock = threading.Lock()
        self.max_page_size = max_page_size

    def send(self, call: Call) -> requests.Response:
        with self.lock:
            self.calls.append(call)
        if render_path(call) == "/ws/v1/metadata":
            meta: dict[str, Any] = {"powerschool_version": "25.2.0.0"}
            if self.max_page_size is not None:
                for key in ("student", "school", "staff", "section", "term", "course"):
                    meta[f"{key}_max_page_size"] = self.max_page_size
                meta["section_enrollment_max_page_size"] = self.max_page_size
                meta["schema_table_query_max_page_size"] = self.max_page_size
            return response({"metadata": meta})
        answer = self.route(call)
        if answer is None:
            raise NotFound(f"{call.method} {render_path(call)}", status=404)
        if isinstance(answer, requests.Response):
            return answer
        return response(answer)

    def paths(self, *, metadata: bool = False) -> list[str]:
        return [
            render_path(c) for c in self.calls if metadata or render_path(c) != "/ws/v1/metadata"
        ]


def v1_list(plural: str, singular: str, records: list[Any]) -> dict[str, Any]:
    """A /ws/v1 list page as PowerSchool sends it: a bare object for one record, no key for none."""
    inner: dict[str, Any] = {"@expansions": "a, b", "@extensions": "x,y"}
    if len(records) == 1:
        inner[singular] = records[0]
    elif records:
        inner[singular] = records
    return {plural: inner}


def district_route(
    records: list[dict[str, Any]], plural: str = "students", *, max_page_size: int = 100
) -> Route:
    """Serves one v1 list (any path ending in the resource) and its count from `records`; a page
    asked for without a size (or above the max) comes back at `max_page_size`, as on a server."""
    singular = plural[:-1]

    def route(call: Call) -> Any:
        path = render_path(call)
        params = call.params or {}
        if path.endswith("/count"):
            return {"resource": {"count": len(records)}}
        page = int(params.get("page", 1))
        size = min(int(params.get("pagesize", max_page_size)), max_page_size)
        return v1_list(plural, singular, records[(page - 1) * size : page * size])

    return route
