"""Per-conversation ``sync_status``: rows the sync writes or confirms are ``synced``; a conversation Chatwoot sends
in a shape the mirror cannot take goes ``syncing`` then ``error`` with the reason, and back to ``synced`` once fixed."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import httpx

from chatwoot_integration.chatwoot.models import Conversation as RestConversation
from chatwoot_integration.db import Database
from chatwoot_integration.mapping import conversation_state
from chatwoot_integration.services.mirror import mirror_conversations
from chatwoot_integration.sync.models import SyncRequest
from chatwoot_integration.uow import UnitOfWork
from tests.unit.sync.support import converged, harness


def test_rows_written_by_webhooks_are_pending_until_the_sync_confirms_them(db: Database) -> None:
    with harness(db, conversations=10) as h:
        # What the conversation_created webhook carried: Chatwoot's current state of conversation 3.
        delivered = conversation_state(
            h.integration_id, RestConversation.model_validate(h.sim.rest_conversation(h.account_id, 3))
        )
        with UnitOfWork(db) as uow:
            mirror_conversations(uow, [delivered], actor="chatwoot", mark_synced=False)
        assert _status(db, h.integration_id, 3) == ("pending", None, None)

        h.service.run(SyncRequest(mode="full"))

        status, error, synced_at = _status(db, h.integration_id, 3)
        assert (status, error) == ("synced", None) and synced_at is not None


def test_a_conversation_that_cannot_be_mapped_goes_to_error_with_its_reason_and_recovers(db: Database) -> None:
    broken: dict[str, int | None] = {"id": 4}

    def without_times(request: httpx.Request, send: Callable[[], httpx.Response]) -> httpx.Response:
        response = send()
        if not request.url.path.endswith("/conversations") or broken["id"] is None:
            return response
        body = response.json()
        for item in body["data"]["payload"]:
            if item["id"] == broken["id"]:
                item["created_at"] = item["timestamp"] = 0
        return httpx.Response(response.status_code, headers={"content-type": "application/json"}, json=body)

    with harness(db, conversations=10, edit=without_times) as h:
        broken["id"] = None
        h.service.run(SyncRequest(mode="full"))
        broken["id"] = 4
        h.sim.set_priority(h.account_id, 4, "high")

        failed = h.service.run(SyncRequest(mode="full")).integrations[0]

        status, error, _ = _status(db, h.integration_id, 4)
        assert (failed.status, failed.conversations_failed) == ("ok", 1)
        assert status == "error"
        assert error == "cannot map Chatwoot's conversation: conversation 4 lacks created_at or updated_at"
        assert _statuses(db, h.integration_id) == {"synced": 9, "error": 1}
        assert _sync_status_events(db, h.integration_id) == []

        broken["id"] = None
        fixed = h.service.run(SyncRequest(mode="full")).integrations[0]

        assert (fixed.status, fixed.conversations_failed) == ("ok", 0)
        assert _status(db, h.integration_id, 4)[:2] == ("synced", None)
        assert converged(h) == []


def test_a_new_conversation_that_cannot_be_mapped_is_reported_and_not_stored(db: Database) -> None:
    def without_times(request: httpx.Request, send: Callable[[], httpx.Response]) -> httpx.Response:
        response = send()
        if not request.url.path.endswith("/conversations"):
            return response
        body: dict[str, Any] = json.loads(response.content)
        body["data"]["payload"][0]["created_at"] = body["data"]["payload"][0]["timestamp"] = 0
        return httpx.Response(response.status_code, headers={"content-type": "application/json"}, json=body)

    with harness(db, conversations=3, edit=without_times) as h:
        item = h.service.run(SyncRequest(mode="full")).integrations[0]

        assert (item.status, item.conversations_failed, item.conversations_created) == ("ok", 1, 2)
        assert sum(_statuses(db, h.integration_id).values()) == 2


def _status(db: Database, integration_id: int, conversation_id: int) -> tuple[Any, Any, Any]:
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT sync_status, sync_error, synced_at FROM conversas_chatwoot"
            " WHERE integration_id = %s AND conversation_id = %s",
            (integration_id, conversation_id),
        ).fetchone()
    assert row is not None
    return row["sync_status"], row["sync_error"], row["synced_at"]


def _statuses(db: Database, integration_id: int) -> dict[str, int]:
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT sync_status, count(*) AS n FROM conversas_chatwoot WHERE integration_id = %s GROUP BY sync_status",
            (integration_id,),
        ).fetchall()
    return {r["sync_status"]: r["n"] for r in rows}


def _sync_status_events(db: Database, integration_id: int) -> list[str]:
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT type FROM eventos_chatwoot WHERE integration_id = %s AND type LIKE 'conversation.%%'"
            " AND data ? 'changes' AND data->'changes' ? 'sync_status'",
            (integration_id,),
        ).fetchall()
    return [r["type"] for r in rows]
