"""``make run`` without a Chatwoot: the runner starts the simulator, connects it, syncs it at start, and its signed
webhooks reach the mirror through the local webhook route; Ctrl-C stops all of it."""

from __future__ import annotations

import io
from pathlib import Path

import httpx
import pytest

from chatwoot_integration.db import Database
from localdev.run import SIMULATOR_INTEGRATION_NAME, runner_from_environ
from tests.handlers import forget_handler_state
from tests.polling import wait_for
from tests.unit.sync.support import agent_differences_with, converged_with

WAIT = 20  # bound for a webhook to cross the local stack; never a performance assertion


def environment(database_url: str, state_dir: Path, **extra: str) -> dict[str, str]:
    return {
        "DATABASE_URL": database_url,
        "PORT": "0",
        "SYNC_INTERVAL_SECONDS": "0",
        "LOCAL_STATE_DIR": str(state_dir),
        # Traffic so slow it never fires during the test: the test makes its own changes.
        "CHATWOOT_SIMULATOR_RATE": "0.001",
        "CHATWOOT_SIMULATOR_CONVERSATIONS": "12",
        **extra,
    }


@pytest.mark.usefixtures("handler_environment")
def test_make_run_without_chatwoot_fills_the_mirror_from_the_simulator_and_stops_it(
    runner_database: str, tmp_path: Path
) -> None:
    out = io.StringIO()
    runner = runner_from_environ(environment(runner_database, tmp_path), out)
    database = Database(lambda: runner_database)
    try:
        runner.start()
        chatwoot = runner.chatwoot
        assert chatwoot is not None
        sim, account_id = chatwoot.simulator, chatwoot.account_id

        # The first sync ran before the banner: the mirror already holds the simulated office.
        assert converged_with(database, sim, account_id) == []
        assert agent_differences_with(database, sim, account_id) == []
        banner = out.getvalue()
        assert f"simulator at {chatwoot.server.url}" in banner
        assert f"Webhook     {runner.url}/webhooks/chatwoot/{chatwoot.integration_id}" in banner
        assert chatwoot.webhook_url == f"{runner.url}/webhooks/chatwoot/{chatwoot.integration_id}"

        # A change in the simulator reaches the mirror through its signed webhook and the local webhook route.
        inbox = sim.list_inboxes(account_id)[0]
        contact = sim.create_contact(account_id, "Joana Prado", email="joana@email.example")
        display_id = sim.create_conversation(account_id, inbox.id, contact.id, message="Preciso de ajuda").display_id

        assert wait_for(lambda: _mirrored(database, chatwoot.integration_id, display_id), WAIT)
        with database.transaction() as conn:
            integration = conn.execute(
                "SELECT name, sync_status, base_url FROM integracoes_chatwoot WHERE id = %s",
                (chatwoot.integration_id,),
            ).fetchone()
        assert integration == {
            "name": SIMULATOR_INTEGRATION_NAME,
            "sync_status": "ok",
            "base_url": chatwoot.server.url,
        }
    finally:
        runner.stop()
        database.close()

    with pytest.raises(httpx.TransportError):
        httpx.get(f"{chatwoot.server.url}/api/v1/accounts/{account_id}/agents", timeout=2)


@pytest.mark.usefixtures("handler_environment")
def test_the_next_make_run_replaces_the_previous_simulators_mirror(runner_database: str, tmp_path: Path) -> None:
    database = Database(lambda: runner_database)
    try:
        for _ in range(2):
            runner = runner_from_environ(environment(runner_database, tmp_path), io.StringIO())
            try:
                runner.start()
                chatwoot = runner.chatwoot
                assert chatwoot is not None
                assert converged_with(database, chatwoot.simulator, chatwoot.account_id) == []
            finally:
                runner.stop()
                forget_handler_state()
        with database.transaction() as conn:
            integrations = conn.execute("SELECT count(*) AS n FROM integracoes_chatwoot").fetchone()
        assert integrations == {"n": 1}
    finally:
        database.close()


@pytest.mark.usefixtures("handler_environment")
def test_chatwoot_simulator_0_starts_no_simulator(runner_database: str, tmp_path: Path) -> None:
    out = io.StringIO()
    runner = runner_from_environ(environment(runner_database, tmp_path, CHATWOOT_SIMULATOR="0"), out)
    try:
        runner.start()

        assert runner.chatwoot is None
        assert "Chatwoot: not connected" in out.getvalue()
        assert "simulator at" not in out.getvalue()
    finally:
        runner.stop()


def _mirrored(database: Database, integration_id: int, display_id: int) -> bool:
    with database.transaction() as conn:
        row = conn.execute(
            "SELECT messages_count FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s",
            (integration_id, display_id),
        ).fetchone()
    return row is not None and row["messages_count"] == 1
