"""The narrow interface the simulator's handlers see: the district's data and a few helpers.

Handlers (v1.py, schema.py, mutate.py) are typed against `State`, never against the
`Simulator`: they cannot reach the HTTP server, the request pipeline, faults or statistics.
`acme_powerschool.testing.server.SimState` is the implementation.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from acme_powerschool.testing.dataversion import ChangeLog, DataVersionOptions, timestamp
from acme_powerschool.testing.district import District, mix_seed, seeded_uuid
from acme_powerschool.testing.messages import Request, Write
from acme_powerschool.testing.options import Access, Behaviour, Paging
from acme_powerschool.testing.queries import QUERIES, PowerQuery
from acme_powerschool.testing.tables import Table, build_tables


class State(Protocol):
    district: District
    tables: dict[str, Table]
    queries: dict[str, PowerQuery]
    changes: ChangeLog
    writes: list[Write]
    behaviour: Behaviour
    seed: int
    started_at: float

    @property
    def plugin_id(self) -> int: ...

    def is_granted(self, table: str, field: str) -> bool: ...

    def page_size(self, kind: str) -> int: ...

    def paging(self, req: Request, kind: str) -> tuple[int, int]: ...

    def ref(self, path: str) -> str: ...

    def record_change(self, table: str, row_id: int, deleted: bool = False) -> int: ...

    def all_ids(self, table: str) -> Iterator[int]: ...

    def check_client(self, client_id: str, secret: str) -> bool: ...

    def token_for_client(self) -> tuple[str, int]: ...

    def token_problem(self, header: str) -> str | None: ...


# The one default denial: the original README's 403 example must happen out of the box.
DEFAULT_DENIED = frozenset({("attendance", "studentid")})


class Grants:
    """The plugin's <access_request>: None grants everything except `denied`. Thread-safe."""

    def __init__(self, grants: Iterable[tuple[str, str]] | None = None) -> None:
        self._lock = threading.Lock()
        self._grants: set[tuple[str, str]] | None = None
        self._denied: set[tuple[str, str]] = set(DEFAULT_DENIED)
        if grants is not None:
            self.set(grants)

    @property
    def granted(self) -> frozenset[tuple[str, str]] | None:
        with self._lock:
            return None if self._grants is None else frozenset(self._grants)

    @property
    def denied(self) -> frozenset[tuple[str, str]]:
        with self._lock:
            return frozenset(self._denied)

    def set(self, grants: Iterable[tuple[str, str]]) -> None:
        with self._lock:
            self._grants = {(t.lower(), f.lower()) for t, f in grants}
            self._denied = set()

    def grant(self, table: str, field: str = "*") -> None:
        pair = (table.lower(), field.lower())
        with self._lock:
            self._denied.discard(pair)
            if field == "*":
                self._denied = {d for d in self._denied if d[0] != pair[0]}
            if self._grants is not None:
                self._grants.add(pair)

    def deny(self, table: str, field: str) -> None:
        pair = (table.lower(), field.lower())
        with self._lock:
            self._denied.add(pair)
            if self._grants is not None:
                self._grants.discard(pair)

    def reset(self) -> None:
        with self._lock:
            self._grants, self._denied = None, set(DEFAULT_DENIED)

    def allows(self, table: str, field: str) -> bool:
        pair = (table.lower(), field.lower())
        with self._lock:
            if pair in self._denied:
                return False
            if self._grants is None:
                return True
            return pair in self._grants or (pair[0], "*") in self._grants


class Tokens:
    """Issued tokens with their expiry; the same token is re-issued while it is valid (§1.7)."""

    def __init__(self, seed: int, access: Access) -> None:
        self._lock = threading.Lock()
        self._rng = random.Random(mix_seed(seed, 98))
        self._access = access
        self._tokens: dict[str, float] = {}  # token -> monotonic expiry
        self._current: str | None = None

    def issue(self) -> tuple[str, int]:
        """(token, seconds left): the current token while valid, else a new one."""
        with self._lock:
            now = time.monotonic()
            current = self._current
            if current is not None and self._tokens.get(current, -math.inf) > now:
                return current, int(self._tokens[current] - now)
            token = seeded_uuid(self._rng)
            lifetime = self._access.token_lifetime
            self._tokens[token] = now + lifetime
            self._current = token
            return token, int(lifetime)

    def problem(self, header: str) -> str | None:
        """None when the Bearer token is good; otherwise the error_description to send."""
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return "The access token is invalid"
        with self._lock:
            expiry = self._tokens.get(token.strip())
        if expiry is None:
            return "The access token is invalid"
        if expiry <= time.monotonic():
            return "The access token has expired"
        return None

    def revoke(self) -> None:
        with self._lock:
            self._tokens.clear()
            self._current = None

    def expire(self) -> None:
        with self._lock:
            now = time.monotonic()
            for token in self._tokens:
                self._tokens[token] = now - 1
            self._current = None


class SimState:
    """The simulator's state as handlers see it (the `State` interface): data, change log,
    grants, tokens and the option records. No HTTP, no pipeline, no faults."""

    def __init__(
        self,
        district: District,
        *,
        paging: Paging,
        behaviour: Behaviour,
        access: Access,
        data_versions: DataVersionOptions,
        grants: Iterable[tuple[str, str]] | None,
        clock: Callable[[], float],
    ) -> None:
        self.district = district
        self.seed = district.seed
        self.paging_options = paging
        self.behaviour = behaviour
        self.access = access
        self.clock = clock
        self.changes = ChangeLog(data_versions)
        self.tables: dict[str, Table] = build_tables(district, self.changes)
        self.queries: dict[str, PowerQuery] = dict(QUERIES)
        self.writes: list[Write] = []
        self.lock = threading.RLock()  # handlers run under it: one write at a time
        self.grants = Grants(grants)
        ident = random.Random(mix_seed(district.seed, 99))
        self.client_id = access.client_id or seeded_uuid(ident)
        self.client_secret = access.client_secret or seeded_uuid(ident)
        self.tokens = Tokens(district.seed, access)
        self.started_at = time.time()
        self.base_url = "http://127.0.0.1"  # set by the server when it listens

    @property
    def plugin_id(self) -> int:
        return self.access.plugin_id

    def is_granted(self, table: str, field: str) -> bool:
        return self.grants.allows(table, field)

    def page_size(self, kind: str) -> int:
        """The max page size of one resource ("student", "staff", ..., "schema_table_query")."""
        return self.paging_options.max_page_sizes.get(kind, self.paging_options.max_page_size)

    def paging(self, req: Request, kind: str) -> tuple[int, int]:
        """(offset, limit) of a list request, capped at (or, in "error" mode, refused above)
        the resource's max page size."""
        strict = self.paging_options.oversize_pagesize == "error"
        return req.paging(self.page_size(kind), strict=strict)

    def ref(self, path: str) -> str:
        return f"{self.base_url}{path}"

    def record_change(self, table: str, row_id: int, deleted: bool = False) -> int:
        """Record that a row was written (or deleted) now; returns the new data version."""
        return self.changes.record(table, row_id, timestamp(self.clock()), deleted)

    def all_ids(self, table: str) -> Iterator[int]:
        """Every live row id of a table the change log can report."""
        d = self.district
        ranges = {
            "users": d.staff_total,
            "sections": d.section_total,
            "terms": d.term_total,
            "courses": d.course_total,
        }
        if table in ranges:
            return iter(range(1, ranges[table] + 1))
        known = self.tables.get(table)
        return known.ids() if known is not None else iter(())

    def check_client(self, client_id: str, secret: str) -> bool:
        return (client_id, secret) == (self.client_id, self.client_secret)

    def token_for_client(self) -> tuple[str, int]:
        return self.tokens.issue()

    def token_problem(self, header: str) -> str | None:
        return self.tokens.problem(header)
