"""The simulator's route registry: `@route("GET", "/ws/v1/student/{id}")` registers a handler.

A handler is a plain function `(State, Request) -> Reply`: it sees the narrow `State` interface,
never the Simulator.
"""

from __future__ import annotations

import re
from collections.abc import Callable

import attrs

from acme_powerschool.testing.messages import (
    JSON_TYPE,
    MAX_PAGE,
    XML_TYPE,
    HttpError,
    Reply,
    Request,
    Write,
    fail,
)
from acme_powerschool.testing.state import State

__all__ = [
    "JSON_TYPE",
    "MAX_PAGE",
    "ROUTES",
    "XML_TYPE",
    "Handler",
    "HttpError",
    "Reply",
    "Request",
    "Route",
    "Write",
    "fail",
    "route",
]

Handler = Callable[[State, Request], Reply]


@attrs.frozen
class Route:
    name: str  # "GET /ws/v1/student/{id}": the key of Stats.by_route
    method: str
    pattern: re.Pattern[str]
    handler: Handler
    authorized: bool  # needs a Bearer token


ROUTES: list[Route] = []


def route(method: str, template: str, authorized: bool = True) -> Callable[[Handler], Handler]:
    regex = re.sub(r"\{(\w+)\}", r"(?P<\1>[^/]+)", template)

    def register(fn: Handler) -> Handler:
        ROUTES.append(
            Route(f"{method} {template}", method, re.compile(f"^{regex}/?$"), fn, authorized)
        )
        return fn

    return register
