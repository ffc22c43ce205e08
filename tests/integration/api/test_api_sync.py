"""``POST /integrations/{id}/sync``: an admin runs the sync of one integration now, through the local API Gateway and
the api function, against the simulator over HTTP, and gets the run's report."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from chatwoot_integration.db import Database
from chatwoot_integration.repositories.integrations import IntegrationRepository
from chatwoot_simulator import Simulator, serve
from tests.api_support import ApiClient, make_token
from tests.unit.sync.support import Office, build_office, connect, converged_with, new_simulator


@dataclass
class Connected:
    sim: Simulator
    office: Office
    integration_id: int


@pytest.fixture
def connected(db: Database) -> Iterator[Connected]:
    with new_simulator() as sim, serve(simulator=sim) as server:
        office = build_office(sim, conversations=30)
        yield Connected(sim, office, connect(db, server.url, office))


def test_an_admin_runs_a_full_pass_and_gets_its_report(client: ApiClient, connected: Connected, db: Database) -> None:
    response = client.post(f"/integrations/{connected.integration_id}/sync", query={"full": "true"})

    assert response.status == 200, response.body
    report = response.json()
    assert {k: report[k] for k in ("integration_id", "status", "mode", "pass_completed", "conversations_seen")} == {
        "integration_id": connected.integration_id,
        "status": "ok",
        "mode": "full",
        "pass_completed": True,
        "conversations_seen": 30,
    }
    assert converged_with(db, connected.sim, connected.office.account_id) == []
    view = client.get(f"/integrations/{connected.integration_id}").json()
    assert view["sync_status"] == "ok" and view["last_full_sync_at"] is not None


def test_without_full_the_run_is_incremental_once_a_cursor_exists(client: ApiClient, connected: Connected) -> None:
    first = client.post(f"/integrations/{connected.integration_id}/sync").json()
    second = client.post(f"/integrations/{connected.integration_id}/sync").json()

    assert (first["mode"], second["mode"], second["status"]) == ("full", "incremental", "ok")


def test_an_integration_another_run_is_syncing_is_reported_skipped(
    client: ApiClient, connected: Connected, db: Database
) -> None:
    now = datetime.now(UTC)
    with db.transaction() as conn:
        IntegrationRepository(conn).acquire_sync_lease(
            connected.integration_id, "scheduled-run", now + timedelta(minutes=5), now
        )
    calls = connected.sim.requests.total()

    response = client.post(f"/integrations/{connected.integration_id}/sync")

    assert response.status == 200
    assert (response.json()["status"], response.json()["requests"]) == ("skipped", 0)
    assert connected.sim.requests.total() == calls


def test_an_unknown_integration_is_404(client: ApiClient, db: Database) -> None:
    response = client.post("/integrations/4242/sync")

    assert response.status == 404
    assert response.json()["error"] == {"code": "not_found", "message": "integration 4242 not found"}


def test_agents_may_not_run_the_sync(client: ApiClient, connected: Connected) -> None:
    agent = make_token(sub="lawyer-1", role="agent")

    response = client.post(f"/integrations/{connected.integration_id}/sync", token=agent)

    assert response.status == 403
    assert connected.sim.requests.total() == 0
