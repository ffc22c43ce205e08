"""A server at a firm's Chatwoot URL answers errors with a page of its choosing: none of it reaches the stored
sync error, the API's answers or the logs; the status (and Chatwoot's own short JSON text) does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.chatwoot.client import ChatwootClient
from chatwoot_integration.chatwoot.retry import RetryPolicy
from chatwoot_integration.db import Database
from chatwoot_integration.models.integration import Integration
from chatwoot_simulator import Simulator, serve
from tests.api_support import ApiClient, build_gateway, connect_world
from tests.egress_support import resolve_test_names
from tests.factories import create_integration
from tests.graph import graph

MARKER = "INJECTED-PAGE-51c9"
PAGE = f"<!doctype html><html><body><h1>502 Bad Gateway</h1><p>{MARKER}</p><script>x()</script></body></html>"


def hostile(status: int) -> Callable[[Integration, str, Callable[[], float | None]], ChatwootClient]:
    """Clients whose every request is answered with an HTML page of ``status``."""

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(status, text=PAGE, headers={"Content-Type": "text/html"})

    http = httpx.Client(transport=httpx.MockTransport(answer))

    def build(integration: Integration, api_token: str, deadline: Callable[[], float | None]) -> ChatwootClient:
        policy = RetryPolicy(max_attempts=1)
        return ChatwootClient(
            integration.base_url, integration.account_id, api_token, http=http, policy=policy, deadline=deadline
        )

    return build


def test_the_stored_sync_error_has_the_status_and_not_the_page(db: Database, log_lines: list[dict[str, Any]]) -> None:
    with db.transaction() as conn:
        integration_id = create_integration(conn)
    item = graph(db, chatwoot_factory=hostile(500)).sync.run_one(integration_id, full=True)

    assert item.status == "error"
    assert item.reason is not None and "HTTP 500" in item.reason and MARKER not in item.reason
    row = db.connection().execute("SELECT sync_status, sync_error FROM integracoes_chatwoot").fetchone()
    assert row["sync_status"] == "error"
    assert "HTTP 500" in row["sync_error"]
    assert MARKER not in row["sync_error"] and "<" not in row["sync_error"]
    assert not [line for line in log_lines if MARKER in str(line)]


@pytest.fixture
def client(db: Database) -> Any:
    gateway, invoker = build_gateway()
    yield ApiClient(gateway)
    invoker.close()


def test_the_api_answer_has_the_status_and_not_the_page(db: Database, client: ApiClient) -> None:
    sim = Simulator(seed=3)
    try:
        with serve(simulator=sim) as server:
            world = connect_world(db, sim, server.url)
            bootstrap().configure(database=db, egress_resolver=resolve_test_names, chatwoot_factory=hostile(422))
            response = client.patch(
                f"/integrations/{world.integration_id}/conversations/{world.conversations[0]}",
                json_body={"status": "resolved"},
            )
    finally:
        sim.close()
    assert response.status == 502, response.body
    assert b"HTTP 422" in response.body
    assert MARKER.encode() not in response.body and b"<html" not in response.body
