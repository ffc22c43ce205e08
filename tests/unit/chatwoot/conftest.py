"""Fixtures for the Chatwoot client tests: a scripted Chatwoot behind httpx.MockTransport and a fake clock."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from chatwoot_integration.chatwoot.client import ChatwootClient
from chatwoot_integration.chatwoot.retry import RetryPolicy
from tests.unit.chatwoot.chatwoot_rest_fakes import (
    ACCOUNT_ID,
    API_TOKEN,
    BASE_URL,
    WALL_CLOCK,
    ClientFactory,
    FakeTime,
    ScriptedChatwoot,
)


@pytest.fixture
def fake_time() -> FakeTime:
    return FakeTime()


@pytest.fixture
def chatwoot() -> ScriptedChatwoot:
    return ScriptedChatwoot()


@pytest.fixture
def http(chatwoot: ScriptedChatwoot) -> Iterator[httpx.Client]:
    with httpx.Client(transport=httpx.MockTransport(chatwoot.handle)) as client:
        yield client


@pytest.fixture
def make_client(http: httpx.Client, fake_time: FakeTime) -> ClientFactory:
    """A client wired to the scripted Chatwoot and the fake clock; keyword arguments override the defaults."""

    def build(**overrides: Any) -> ChatwootClient:
        options: dict[str, Any] = {
            "http": http,
            "policy": RetryPolicy(),
            "sleep": fake_time.sleep,
            "clock": fake_time.monotonic,
            "jitter": lambda: 0.5,
            "wall_clock": lambda: WALL_CLOCK,
        }
        options.update(overrides)
        return ChatwootClient(BASE_URL, ACCOUNT_ID, API_TOKEN, **options)

    return build


@pytest.fixture
def client(make_client: ClientFactory) -> ChatwootClient:
    return make_client()
