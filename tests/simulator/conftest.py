"""Shared helpers for the simulator's own tests: plain `requests` over 127.0.0.1, nothing else.

These tests must not use the SDK's client: they check the simulator against the fact sheet.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
import requests

from acme_powerschool.testing import Simulator


class Api:
    """A requests.Session that fetches a token once and sends JSON headers, as clients do."""

    def __init__(self, sim: Simulator, accept: str = "application/json") -> None:
        self.sim = sim
        self.session = requests.Session()
        self.session.headers["Accept"] = accept
        self.token = self.fetch_token()
        self.session.headers["Authorization"] = f"Bearer {self.token}"

    def fetch_token(self) -> str:
        r = requests.post(
            f"{self.sim.base_url}/oauth/access_token",
            data="grant_type=client_credentials",
            auth=(self.sim.client_id, self.sim.client_secret),
            headers={"Content-Type": "application/x-www-form-urlencoded;charset=UTF-8"},
            timeout=10,
        )
        assert r.status_code == 200, r.text
        token: str = r.json()["access_token"]
        return token

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.get(self.sim.base_url + path, timeout=10, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.post(self.sim.base_url + path, timeout=10, **kwargs)

    def put(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.put(self.sim.base_url + path, timeout=10, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return self.session.delete(self.sim.base_url + path, timeout=10, **kwargs)

    def close(self) -> None:
        self.session.close()


@pytest.fixture(scope="module")
def shared_sim() -> Iterator[Simulator]:
    """One simulator per test module, for tests that only read."""
    with Simulator(students=500, seed=1) as sim:
        yield sim


@pytest.fixture(scope="module")
def api(shared_sim: Simulator) -> Iterator[Api]:
    client = Api(shared_sim)
    yield client
    client.close()


@pytest.fixture
def fresh_api(powerschool_sim: Simulator) -> Iterator[Api]:
    """A client on a simulator of its own (the plugin's function-scoped fixture)."""
    client = Api(powerschool_sim)
    yield client
    client.close()


@pytest.fixture
def make_api() -> Iterator[Callable[..., Api]]:
    """Build more clients (on any simulator); they are closed after the test."""
    made: list[Api] = []

    def make(sim: Simulator, accept: str = "application/json") -> Api:
        client = Api(sim, accept)
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()
