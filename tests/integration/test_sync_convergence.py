"""The scheduled sync against the simulator over HTTP: the mirror converges to Chatwoot's state, exactly."""

from __future__ import annotations

from chatwoot_integration.db import Database
from chatwoot_integration.models.common import ConversationStatus
from chatwoot_integration.sync import SyncRequest
from tests.unit.sync.support import agent_differences, converged, harness


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
                "SELECT status, sync_status FROM conversas_chatwoot WHERE account_id = %s AND conversation_id = %s",
                (aid, newcomer),
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
        before = _row_versions(db, h.account_id)

        item = h.service.run(SyncRequest(mode="full")).integrations[0]

        assert (item.status, item.pass_completed, item.conversations_seen) == ("ok", True, 60)
        assert (item.conversations_written, item.upsert_round_trips, item.contacts_written) == (0, 0, 0)
        assert (item.messages_inserted, item.conversations_deleted) == (0, 0)
        assert _row_versions(db, h.account_id) == before
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
        assert len(stale) == 1 and stale[0].startswith(f"conversation {unread}.unread_count: mirror ")
        assert stale[0].endswith("!= chatwoot 0")
        assert full.upsert_round_trips == 1
        assert converged(h) == []


def _row_versions(db: Database, account_id: int) -> dict[int, object]:
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT conversation_id, updated_at, synced_at FROM conversas_chatwoot WHERE account_id = %s",
            (account_id,),
        ).fetchall()
    return {r["conversation_id"]: (r["updated_at"], r["synced_at"]) for r in rows}
