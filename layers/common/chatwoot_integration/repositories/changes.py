"""SQL for the outbox: append change events, read the feed, track publication."""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from typing import Any

from ..db import Connection
from ..errors import ValidationFailed
from ..models.change import Change, NewChange
from ._sql import to_json

_INSERT = """
INSERT INTO eventos_chatwoot (integration_id, tenant, type, actor, conversation_id, agent_id, data)
SELECT integration_id, tenant, type, actor, conversation_id, agent_id, COALESCE(data, '{}'::jsonb)
FROM jsonb_to_recordset(%s::jsonb) AS t(integration_id bigint, tenant text, type text, actor text,
                                        conversation_id integer, agent_id integer, data jsonb)
RETURNING id
"""

# Only transactions older than every transaction still running are visible, so that the feed's order
# (tx_id, id) never gains an event behind a cursor a reader has already passed.
_FEED = """
SELECT id, tx_id::text::bigint AS tx, integration_id, tenant, type, conversation_id, agent_id, actor, data, created_at
FROM eventos_chatwoot
WHERE {scope}
  AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
  AND (tx_id, id) > (%(after_tx)s::text::xid8, %(after_id)s)
ORDER BY tx_id, id
LIMIT %(limit)s
"""
_INTEGRATION_FEED = _FEED.format(scope="integration_id = %(integration_id)s")
_TENANT_FEED = _FEED.format(scope="tenant = %(tenant)s")


class ChangeRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def append(self, changes: Sequence[NewChange]) -> list[int]:
        """Write change events in the caller's transaction; they become visible when it commits."""
        if not changes:
            return []
        rows = self._conn.execute(_INSERT, (to_json([c.model_dump() for c in changes]),)).fetchall()
        return [r["id"] for r in rows]

    def feed(self, integration_id: int, *, after: str | None, limit: int) -> tuple[list[Change], str | None]:
        """A page of one integration's events after the cursor ``after``, and the cursor to poll from next."""
        return self._page(_INTEGRATION_FEED, {"integration_id": integration_id}, after=after, limit=limit)

    def tenant_feed(self, tenant: str, *, after: str | None, limit: int) -> tuple[list[Change], str | None]:
        """A page of the events of all a tenant's integrations (those deleted since included), in one order."""
        return self._page(_TENANT_FEED, {"tenant": tenant}, after=after, limit=limit)

    def _page(
        self, query: str, scope: dict[str, Any], *, after: str | None, limit: int
    ) -> tuple[list[Change], str | None]:
        after_tx, after_id = decode_change_cursor(after) if after else (0, 0)
        rows = self._conn.execute(
            query, {**scope, "after_tx": after_tx, "after_id": after_id, "limit": limit}
        ).fetchall()
        items = [_change(r) for r in rows]
        # The next cursor is always given, so a reader can poll from where it stopped.
        next_cursor = items[-1].cursor if items else (after or encode_change_cursor(0, 0))
        return items, next_cursor

    def unpublished(self, limit: int = 100) -> list[Change]:
        """Events not yet published to EventBridge, oldest first, locked so two publishers never race."""
        rows = self._conn.execute(
            "SELECT id, tx_id::text::bigint AS tx, integration_id, tenant, type, conversation_id, agent_id, actor, data,"
            " created_at FROM eventos_chatwoot WHERE published_at IS NULL ORDER BY id LIMIT %s"
            " FOR UPDATE SKIP LOCKED",
            (limit,),
        ).fetchall()
        return [_change(r) for r in rows]

    def mark_published(self, ids: Sequence[int]) -> None:
        if ids:
            self._conn.execute("UPDATE eventos_chatwoot SET published_at = now() WHERE id = ANY(%s)", (list(ids),))


def encode_change_cursor(tx: int, event_id: int) -> str:
    return base64.urlsafe_b64encode(f"{tx}:{event_id}".encode()).decode().rstrip("=")


def decode_change_cursor(cursor: str) -> tuple[int, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        tx, event_id = raw.split(":")
        values = int(tx), int(event_id)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not valid", details=[{"field": "after"}]) from exc
    if values[0] < 0 or values[1] < 0:
        raise ValidationFailed("cursor is not valid", details=[{"field": "after"}])
    return values


def _change(row: dict[str, Any]) -> Change:
    return Change(
        id=row["id"],
        cursor=encode_change_cursor(row["tx"], row["id"]),
        type=row["type"],
        integration_id=row["integration_id"],
        tenant=row["tenant"],
        conversation_id=row["conversation_id"],
        agent_id=row["agent_id"],
        actor=row["actor"],
        at=row["created_at"],
        data=row["data"],
    )
