"""Fixtures of the API tests: the local gateway into the api function, and a simulated Chatwoot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from chatwoot_integration.db import Database
from chatwoot_simulator import Simulator, serve
from localdev.server import LocalGateway
from tests.api_support import ApiClient, World, build_gateway, connect_world


@pytest.fixture(scope="session")
def gateway() -> Iterator[LocalGateway]:
    gateway, invoker = build_gateway()
    yield gateway
    invoker.close()


@pytest.fixture
def client(gateway: LocalGateway, db: Database) -> ApiClient:
    return ApiClient(gateway)


@pytest.fixture
def sim() -> Iterator[Simulator]:
    simulator = Simulator(seed=5)
    yield simulator
    simulator.close()


@pytest.fixture
def world(db: Database, sim: Simulator) -> Iterator[World]:
    with serve(simulator=sim) as server:
        yield connect_world(db, sim, server.url)
