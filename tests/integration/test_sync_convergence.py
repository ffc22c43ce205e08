"""The scheduled sync against the simulator over HTTP: the mirror converges to Chatwoot's state, exactly."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

from chatwoot_integration.db import Database
from chatwoot_integration.models.common import ConversationStatus
from chatwoot_integration.sync.models import SyncRequest
from chatwoot_simulator import TrafficGenerator, WebhookDelivery
from localdev.invoke import exec_file
from tests.unit.ingest.support import LambdaContextStub, http_event
from tests.unit.sync.support import WEBHOOK_SECRET, agent_differences, converged, harness


@pytest.fixture
def webhook_path(handler_environment: None, monkeypatch: pytest.MonkeyPatch) -> None:
    """The webhook function as ``make run`` has it: no queue, the processor in-process, the local secret store."""
    # The simulator signs with its own (manual) clock, months away from the wall clock the function checks.
    monkeypatch.setenv("WEBHOOK_TOLERANCE_SECONDS", str(10 * 365 * 24 * 3600))


def webhook_function() -> ModuleType:
    return exec_file(Path(__file__).resolve().parents[2] / "functions" / "webhook" / "app.py", "sync_test_webhook_app")


def to_webhook_function(integration_id: int) -> Callable[[WebhookDelivery], int]:
    """Chatwoot's POST, as the webhook function receives it behind API Gateway."""
    handler = webhook_function().lambda_handler

    def deliver(delivery: WebhookDelivery) -> int:
        event = http_event(delivery.body, delivery.headers, integration_id=integration_id)
        return int(handler(event, LambdaContextStub())["statusCode"])

    return deliver


def test_a_thousand_conversations_across_statuses_converge_exactly_in_one_full_sync(db: Database) -> None:
    with harness(db, conversations=1000) as h:
        statuses = {c.status for c in h.sim.list_conversations(h.account_id)}

        report = h.service.run(SyncRequest(mode="full"))

        item = report.integrations[0]
        assert statuses == {"open", "resolved", "pending", "snoozed"}
        assert (item.status, item.mode, item.pass_completed) == ("ok", "full", True)
        assert converged(h) == []
        assert agent_differences(h) == []
        # 1,000 conversations at 25 a page: 40 pages, one upsert statement each.
        assert (item.pages, item.upsert_round_trips) == (40, 40)
        assert item.conversations_seen == item.conversations_written == 1000
        integration = h.integration()
        assert integration.sync_status == "ok"
        assert integration.sync_progress is None
        assert integration.sync_cursor is not None and integration.last_full_sync_at is not None


def test_an_incremental_sync_reads_only_the_window_since_the_cursor_and_moves_the_cursor(db: Database) -> None:
    with harness(db, conversations=30) as h:
        h.advance(3600)  # the office was set up an hour before the first sync
        h.service.run(SyncRequest(mode="full"))
        first_cursor = h.integration().sync_cursor
        h.advance(3600)
        aid, (first, second, third) = h.account_id, h.office.conversation_ids[:3]
        flipped: ConversationStatus = "open" if h.sim.get_conversation(aid, first).status == "resolved" else "resolved"
        h.sim.set_status(aid, first, flipped)
        h.sim.add_message(aid, second, "Tenho uma dúvida sobre a audiência.")
        h.sim.set_labels(aid, third, ["area:civel", "prazo"])
        newcomer = h.sim.create_conversation(aid, h.office.inbox_ids[0], 1, message="Primeiro contato").display_id

        report = h.service.run(SyncRequest(mode="incremental"))

        item = report.integrations[0]
        assert (item.status, item.mode, item.pass_completed) == ("ok", "incremental", True)
        # Only what changed in the last hour (plus the overlap) comes back, in one unpaged answer.
        assert (item.pages, item.conversations_seen, item.conversations_written, item.conversations_created) == (
            1,
            4,
            4,
            1,
        )
        assert item.messages_inserted == 2  # the new incoming message and the newcomer's first message
        assert converged(h) == []
        cursor = h.integration().sync_cursor
        assert first_cursor is not None and cursor is not None and cursor > first_cursor
        with db.transaction() as conn:
            row = conn.execute(
                "SELECT status, sync_status FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s",
                (h.integration_id, newcomer),
            ).fetchone()
        assert row == {"status": "open", "sync_status": "synced"}


def test_the_first_run_without_a_cursor_is_a_full_pass_even_when_incremental_is_asked(db: Database) -> None:
    with harness(db, conversations=30) as h:
        report = h.service.run(SyncRequest(mode="incremental"))

        item = report.integrations[0]
        assert (item.status, item.mode, item.pages, item.conversations_seen) == ("ok", "full", 2, 30)
        assert converged(h) == []
        assert h.integration().last_full_sync_at is not None


def test_a_full_pass_over_an_unchanged_account_rewrites_nothing_and_deletes_nothing(db: Database) -> None:
    with harness(db, conversations=60) as h:
        h.service.run(SyncRequest(mode="full"))
        before = _row_versions(db, h.integration_id)

        item = h.service.run(SyncRequest(mode="full")).integrations[0]

        assert (item.status, item.pass_completed, item.conversations_seen) == ("ok", True, 60)
        assert (item.conversations_written, item.upsert_round_trips, item.contacts_written) == (0, 0, 0)
        assert (item.messages_inserted, item.conversations_deleted) == (0, 0)
        assert _row_versions(db, h.integration_id) == before
        assert converged(h) == []


def test_a_change_chatwoot_makes_without_moving_updated_at_is_repaired_by_the_full_pass(db: Database) -> None:
    with harness(db, conversations=20) as h:
        h.advance(3600)
        h.service.run(SyncRequest(mode="full"))
        h.advance(3600)
        unread = next(c.display_id for c in h.sim.list_conversations(h.account_id) if c.agent_last_seen_at is None)
        h.sim.mark_seen(h.account_id, unread)  # an update_columns write in Chatwoot: no webhook, same updated_at

        incremental = h.service.run(SyncRequest(mode="incremental")).integrations[0]
        stale = converged(h)
        full = h.service.run(SyncRequest(mode="full")).integrations[0]

        assert incremental.status == full.status == "ok"
        assert incremental.conversations_seen == 0  # Chatwoot's updated_within does not see it
        assert len(stale) == 1 and stale[0].startswith(
            f"account {h.account_id} conversation {unread}.unread_count: mirror "
        )
        assert stale[0].endswith("!= chatwoot 0")
        assert full.upsert_round_trips == 1
        assert converged(h) == []


def _row_versions(db: Database, integration_id: int) -> dict[int, object]:
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT conversation_id, updated_at, synced_at FROM conversas_chatwoot WHERE integration_id = %s",
            (integration_id,),
        ).fetchall()
    return {r["conversation_id"]: (r["updated_at"], r["synced_at"]) for r in rows}


@pytest.mark.usefixtures("webhook_path")
def test_with_30_percent_of_webhooks_lost_the_mirror_converges_after_one_sync(db: Database) -> None:
    with harness(db, conversations=40) as h:
        h.service.run(SyncRequest(mode="full"))
        h.sim.set_webhook(h.account_id, handler=to_webhook_function(h.integration_id), secret=WEBHOOK_SECRET)
        h.sim.webhooks.configure(drop_rate=0.3)
        traffic = TrafficGenerator(h.sim, account_id=h.account_id, seed=5)
        for _ in range(400):
            traffic.step()

        stats = h.sim.webhooks.stats()
        behind = converged(h)
        item = h.service.run(SyncRequest(mode="incremental")).integrations[0]

        assert stats.dropped > 100 and stats.sent > 200
        assert len(behind) > 20  # the webhooks alone left the mirror wrong in many places
        with db.transaction() as conn:
            applied = conn.execute(
                "SELECT count(*) AS n FROM entregas_webhook_chatwoot WHERE status = 'applied'"
            ).fetchone()
        assert applied is not None and applied["n"] > 100  # and they did go through the webhook path
        assert (item.status, item.mode) == ("ok", "incremental")
        assert converged(h) == []
        assert agent_differences(h) == []


def test_a_cursor_older_than_a_day_makes_the_incremental_run_a_full_pass(db: Database) -> None:
    with harness(db, conversations=10) as h:
        h.service.run(SyncRequest(mode="full"))
        h.advance(2 * 86_400)

        item = h.service.run(SyncRequest(mode="incremental")).integrations[0]

        assert (item.status, item.mode, item.pass_completed) == ("ok", "full", True)
        assert h.integration().last_full_sync_at == h.integration().last_sync_at
