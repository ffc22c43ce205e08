"""SQL the scheduled sync needs beyond the shared repositories: batch writes of a page's contacts and messages,
the message catch-up marks, the resume state, and the bookkeeping of a full pass's deletions.

Every method is one statement, so a page costs a fixed number of round trips whatever its size.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..db import Connection
from ..models.party import Contact
from ..repositories._sql import to_json
from .mapping import MessageRow

_UPSERT_CONTACTS = """
WITH incoming AS (
    SELECT DISTINCT ON (account_id, contact_id) *
    FROM jsonb_to_recordset(%(rows)s::jsonb)
        AS t(account_id integer, contact_id integer, name text, email text, phone_number text, identifier text)
    ORDER BY account_id, contact_id
)
INSERT INTO contatos_chatwoot AS c (account_id, contact_id, name, email, phone_number, identifier)
SELECT account_id, contact_id, name, email, phone_number, identifier FROM incoming
ORDER BY account_id, contact_id
ON CONFLICT (account_id, contact_id) DO UPDATE SET
    name = EXCLUDED.name, email = EXCLUDED.email, phone_number = EXCLUDED.phone_number,
    identifier = EXCLUDED.identifier
WHERE (c.name, c.email, c.phone_number, c.identifier)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.email, EXCLUDED.phone_number, EXCLUDED.identifier)
"""

# Each message id is inserted once (the counters are kept by the insert trigger); a message already stored, by a
# webhook or an earlier sync, is left as it is, exactly like the webhook processor's insert.
_INSERT_MESSAGES = """
INSERT INTO mensagens_chatwoot (account_id, message_id, conversation_id, message_type, private, content_type,
                                content, sender_type, sender_id, deleted, chatwoot_created_at)
SELECT account_id, message_id, conversation_id, message_type, private, content_type,
       content, sender_type, sender_id, deleted, chatwoot_created_at
FROM jsonb_to_recordset(%(rows)s::jsonb)
    AS t(account_id integer, message_id bigint, conversation_id integer, message_type text, private boolean,
         content_type text, content text, sender_type text, sender_id integer, deleted boolean,
         chatwoot_created_at timestamptz)
ORDER BY account_id, message_id
ON CONFLICT (account_id, message_id) DO NOTHING
"""

_MOVE_MARKS = """
INSERT INTO mensagens_sincronizadas_chatwoot AS m (account_id, conversation_id, synced_through)
SELECT %(account_id)s, t.conversation_id, t.through
FROM jsonb_to_recordset(%(rows)s::jsonb) AS t(conversation_id integer, through bigint)
JOIN conversas_chatwoot c ON c.account_id = %(account_id)s AND c.conversation_id = t.conversation_id
ORDER BY t.conversation_id
ON CONFLICT (account_id, conversation_id) DO UPDATE
    SET synced_through = GREATEST(m.synced_through, EXCLUDED.synced_through), updated_at = now()
    WHERE m.synced_through < EXCLUDED.synced_through
"""


@dataclass(frozen=True)
class MirrorMark:
    """What the mirror holds for a conversation before a page is written."""

    conversation_id: int
    deleted_by: str | None
    chatwoot_updated_at: datetime
    synced_through: int | None


class SyncRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def database_now(self) -> datetime:
        """The database's clock (``synced_at`` and ``updated_at`` are stamped from it)."""
        row = self._conn.execute("SELECT clock_timestamp() AS now").fetchone()
        assert row is not None
        now: datetime = row["now"]
        return now

    def upsert_contacts(self, contacts: Sequence[Contact]) -> int:
        """Write a page's contacts in one statement; returns how many were new or changed."""
        if not contacts:
            return 0
        rows = [c.model_dump() for c in contacts]
        return self._conn.execute(_UPSERT_CONTACTS, {"rows": to_json(rows)}).rowcount

    def marks(self, account_id: int, conversation_ids: Sequence[int]) -> dict[int, MirrorMark]:
        """The stored conversations among ``conversation_ids``: deleted by whom, the version held (Chatwoot's
        ``updated_at``), and the message catch-up mark."""
        if not conversation_ids:
            return {}
        rows = self._conn.execute(
            "SELECT c.conversation_id, c.deleted_by, c.chatwoot_updated_at, m.synced_through FROM conversas_chatwoot c"
            " LEFT JOIN mensagens_sincronizadas_chatwoot m"
            "   ON m.account_id = c.account_id AND m.conversation_id = c.conversation_id"
            " WHERE c.account_id = %s AND c.conversation_id = ANY(%s)",
            (account_id, list(conversation_ids)),
        ).fetchall()
        return {
            r["conversation_id"]: MirrorMark(
                r["conversation_id"], r["deleted_by"], r["chatwoot_updated_at"], r["synced_through"]
            )
            for r in rows
        }

    def insert_messages(self, messages: Sequence[MessageRow]) -> int:
        """Store messages not stored yet, in one statement; returns how many were new."""
        if not messages:
            return 0
        rows = [m.model_dump(mode="json") for m in messages]
        return self._conn.execute(_INSERT_MESSAGES, {"rows": to_json(rows)}).rowcount

    def move_marks(self, account_id: int, through: dict[int, int]) -> None:
        """Record, per conversation, the message id up to which the sync has read and stored its messages."""
        if not through:
            return
        rows = [{"conversation_id": cid, "through": mark} for cid, mark in sorted(through.items())]
        self._conn.execute(_MOVE_MARKS, {"account_id": account_id, "rows": to_json(rows)})

    def save_progress(self, integration_id: int, owner: str, progress: str | None, lease_until: datetime) -> bool:
        """Store the pass's resume state (JSON) and extend the lease, only while this run still holds it."""
        cur = self._conn.execute(
            "UPDATE integracoes_chatwoot SET sync_progress = %s::jsonb, sync_lease_until = %s"
            " WHERE id = %s AND sync_lease_owner = %s",
            (progress, lease_until, integration_id, owner),
        )
        return cur.rowcount > 0

    def deletion_candidates(
        self, account_id: int, pass_started_at: datetime, *, exclude: Sequence[int], limit: int
    ) -> list[int]:
        """Live conversations a full pass that began at ``pass_started_at`` (database clock) has not confirmed.

        A row the pass wrote or confirmed has ``synced_at`` at or after the start; a row a webhook (or the API)
        wrote while the pass ran has ``updated_at`` at or after it. Neither is a candidate. ``exclude`` holds the
        ids this run already checked and found alive.
        """
        rows = self._conn.execute(
            "SELECT conversation_id FROM conversas_chatwoot"
            " WHERE account_id = %s AND deleted_at IS NULL"
            "   AND (synced_at IS NULL OR synced_at < %s) AND updated_at < %s"
            "   AND NOT (conversation_id = ANY(%s))"
            " ORDER BY conversation_id LIMIT %s",
            (account_id, pass_started_at, pass_started_at, list(exclude), limit),
        ).fetchall()
        return [r["conversation_id"] for r in rows]

    def soft_delete_unconfirmed(
        self, account_id: int, conversation_ids: Sequence[int], pass_started_at: datetime
    ) -> list[int]:
        """Mark deleted (by ``sync``) the given conversations Chatwoot no longer has, unless something wrote or
        confirmed them since the pass began; the guarded upsert restores them if Chatwoot shows them again."""
        if not conversation_ids:
            return []
        rows = self._conn.execute(
            "UPDATE conversas_chatwoot SET deleted_at = now(), deleted_by = 'sync'"
            " WHERE account_id = %s AND conversation_id = ANY(%s) AND deleted_at IS NULL"
            "   AND (synced_at IS NULL OR synced_at < %s) AND updated_at < %s"
            " RETURNING conversation_id",
            (account_id, list(conversation_ids), pass_started_at, pass_started_at),
        ).fetchall()
        return sorted(r["conversation_id"] for r in rows)
