"""The full pass finds conversations deleted in Chatwoot (there is no webhook for it) and restores any that come
back; rows a webhook writes while the pass runs, and rows the platform removed, are left alone."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import httpx

from chatwoot_integration.db import Database
from chatwoot_integration.repositories.conversations import ConversationRepository
from chatwoot_integration.services.mirror import mirror_conversations
from chatwoot_integration.sync.models import SyncRequest
from chatwoot_integration.uow import UnitOfWork
from tests.factories import conversation
from tests.unit.sync.support import Harness, converged, harness

SHOW_ROUTE = "GET /api/v1/accounts/{account_id}/conversations/{conversation_id}"


def test_conversations_deleted_in_chatwoot_are_soft_deleted_by_the_full_pass_with_an_event(db: Database) -> None:
    with harness(db, conversations=60) as h:
        h.service.run(SyncRequest(mode="full"))
        gone = [5, 26, 51]
        for display_id in gone:
            h.sim.delete_conversation(h.account_id, display_id)

        item = h.service.run(SyncRequest(mode="full")).integrations[0]

        assert (item.status, item.conversations_deleted) == ("ok", 3)
        assert converged(h) == []
        rows = _rows(db, h.integration_id, gone)
        assert [(r["conversation_id"], r["deleted_by"]) for r in rows] == [(5, "sync"), (26, "sync"), (51, "sync")]
        assert all(r["deleted_at"] is not None for r in rows)
        assert _events(db, h.integration_id, "conversation.deleted") == [
            (5, "sync", {"reason": "not found in Chatwoot"}),
            (26, "sync", {"reason": "not found in Chatwoot"}),
            (51, "sync", {"reason": "not found in Chatwoot"}),
        ]
        # Each candidate was confirmed gone with one read before it was deleted.
        assert h.sim.requests.count(SHOW_ROUTE, 404) == 3


def test_an_incremental_sync_never_deletes(db: Database) -> None:
    with harness(db, conversations=20) as h:
        h.service.run(SyncRequest(mode="full"))
        h.sim.delete_conversation(h.account_id, 7)

        item = h.service.run(SyncRequest(mode="incremental")).integrations[0]

        assert (item.status, item.conversations_deleted) == ("ok", 0)
        assert _rows(db, h.integration_id, [7])[0]["deleted_at"] is None


def test_a_conversation_that_comes_back_in_chatwoot_is_restored_by_the_next_pass(db: Database) -> None:
    with harness(db, conversations=30) as h:
        h.service.run(SyncRequest(mode="full"))
        with _hidden(h, 12):
            hidden_run = h.service.run(SyncRequest(mode="full")).integrations[0]
            assert hidden_run.conversations_deleted == 1
            assert _rows(db, h.integration_id, [12])[0]["deleted_by"] == "sync"

        item = h.service.run(SyncRequest(mode="full")).integrations[0]

        assert (item.status, item.conversations_restored, item.conversations_deleted) == ("ok", 1, 0)
        row = _rows(db, h.integration_id, [12])[0]
        assert (row["deleted_at"], row["deleted_by"], row["sync_status"]) == (None, None, "synced")
        assert [e[0] for e in _events(db, h.integration_id, "conversation.restored")] == [12]
        assert converged(h) == []


def test_a_conversation_a_webhook_writes_while_the_pass_runs_is_not_taken_for_deleted(db: Database) -> None:
    written = {"done": False}
    holder: dict[str, Harness] = {}

    def webhook_during_the_pass(request: httpx.Request, send: Callable[[], httpx.Response]) -> httpx.Response:
        # While page 2 is being read, a webhook announces a conversation the listing will not show (it was
        # created in Chatwoot after the pass had read that part of the list, say).
        if request.url.params.get("page") == "2" and not written["done"]:
            h = holder["h"]
            with UnitOfWork(db) as uow:
                mirror_conversations(uow, [conversation(h.integration_id, 9001)], actor="chatwoot", mark_synced=False)
            written["done"] = True
        return send()

    with harness(db, conversations=40, edit=webhook_during_the_pass) as h:
        holder["h"] = h

        item = h.service.run(SyncRequest(mode="full")).integrations[0]

        assert (item.status, item.conversations_deleted) == ("ok", 0)
        row = _rows(db, h.integration_id, [9001])[0]
        assert (row["deleted_at"], row["sync_status"]) == (None, "pending")


def test_a_conversation_the_platform_removed_stays_removed_and_gets_no_messages(db: Database) -> None:
    with harness(db, conversations=20) as h:
        h.service.run(SyncRequest(mode="full"))
        with db.transaction() as conn:
            ConversationRepository(conn).soft_delete(h.integration_id, 4, by="api")
        before = _rows(db, h.integration_id, [4])[0]
        h.sim.add_message(h.account_id, 4, "Ainda estou aguardando.")
        h.sim.set_priority(h.account_id, 4, "urgent")

        item = h.service.run(SyncRequest(mode="full")).integrations[0]

        after = _rows(db, h.integration_id, [4])[0]
        assert (item.status, item.conversations_restored) == ("ok", 0)
        assert after["deleted_by"] == "api"
        assert {k: after[k] for k in ("priority", "messages_count", "chatwoot_updated_at", "updated_at")} == {
            k: before[k] for k in ("priority", "messages_count", "chatwoot_updated_at", "updated_at")
        }


@contextmanager
def _hidden(h: Harness, display_id: int) -> Iterator[None]:
    """Take a conversation out of the simulator (as a deleted one) and put it back untouched afterwards."""
    with h.sim.locked() as store:
        pk = store.display_index.pop((h.account_id, display_id))
        record = store.conversations.pop(pk)
    try:
        yield
    finally:
        with h.sim.locked() as store:
            store.conversations[pk] = record
            store.display_index[(h.account_id, display_id)] = pk


def _rows(db: Database, integration_id: int, ids: list[int]) -> list[dict[str, Any]]:
    with db.transaction() as conn:
        return conn.execute(
            "SELECT * FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = ANY(%s)"
            " ORDER BY conversation_id",
            (integration_id, ids),
        ).fetchall()


def _events(db: Database, integration_id: int, kind: str) -> list[tuple[int, str, dict[str, Any]]]:
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT conversation_id, actor, data FROM eventos_chatwoot"
            " WHERE integration_id = %s AND type = %s ORDER BY id",
            (integration_id, kind),
        ).fetchall()
    return [(r["conversation_id"], r["actor"], r["data"]) for r in rows]
