"""SQL the scheduled sync needs beyond the shared repositories: how a batch compares with the mirror, the sync's
per-conversation bookkeeping with the resume state, and a full pass's deletions (contacts and messages are
written in batches by the parties' and messages' repositories).

Every method is one statement, so a batch costs a fixed number of round trips whatever its size. The comparison
runs in the database: a batch of unchanged conversations costs one read and one small write, and no rewrite.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ConfigDict, TypeAdapter

from ..db import Connection
from ..models.conversation import ConversationState
from ..models.party import Contact
from ._sql import to_json
from .conversations import STATE_COLUMNS, STATE_TYPES

# Built on first use, like every schema of the layer: the sync's cold start does not pay for it.
_STATES: TypeAdapter[list[ConversationState]] = TypeAdapter(
    list[ConversationState], config=ConfigDict(defer_build=True)
)


# Per conversation of a batch: whether the mirror holds it, who deleted it, the version it holds, the message
# catch-up mark, and whether writing Chatwoot's state (and its contact) would change anything at all.
_COMPARE = f"""
SELECT b.conversation_id,
       c.conversation_id IS NOT NULL AS stored,
       c.deleted_by,
       c.chatwoot_updated_at,
       s.messages_synced_through,
       COALESCE(
           i.conversation_id IS NOT NULL
           AND c.sync_status = 'synced' AND c.deleted_at IS NULL
           AND NOT (c.parte_id IS NULL AND EXISTS (
               SELECT 1 FROM partes_chatwoot p WHERE p.integration_id = c.integration_id AND p.contact_id = c.contact_id))
           AND ({", ".join(f"c.{col}" for col in STATE_COLUMNS)})
               IS NOT DISTINCT FROM ({", ".join(f"i.{col}" for col in STATE_COLUMNS)}),
           false) AS same_state,
       COALESCE(
           k.contact_id IS NOT NULL
           AND (k.name, k.email, k.phone_number, k.identifier)
               IS NOT DISTINCT FROM (b.sender_name, b.sender_email, b.sender_phone_number, b.sender_identifier),
           false) AS same_contact
FROM jsonb_to_recordset(%(batch)s::jsonb)
    AS b(conversation_id integer, sender_id integer, sender_name text, sender_email text, sender_phone_number text,
         sender_identifier text)
LEFT JOIN jsonb_to_recordset(%(states)s::jsonb) AS i(conversation_id integer, {STATE_TYPES})
    ON i.conversation_id = b.conversation_id
-- A lookup per row of the batch (OFFSET 0 keeps the planner from scanning the whole mirror for a hash join: it
-- cannot know how few rows jsonb_to_recordset gives).
LEFT JOIN LATERAL (
    SELECT * FROM conversas_chatwoot c
    WHERE c.integration_id = %(integration_id)s AND c.conversation_id = b.conversation_id
    OFFSET 0
) c ON true
LEFT JOIN sincronizacao_conversas_chatwoot s
    ON s.integration_id = %(integration_id)s AND s.conversation_id = b.conversation_id
LEFT JOIN contatos_chatwoot k ON k.integration_id = %(integration_id)s AND k.contact_id = b.sender_id
"""

# A batch's bookkeeping and the resume state in one statement, all of it only while this run still holds the lease
# (``saved`` says whether it does): every conversation the listing showed is marked seen, message catch-up marks
# move forward (never back), the lease is extended and the resume state stored.
_RECORD = """
WITH seen AS (
    INSERT INTO sincronizacao_conversas_chatwoot AS s (integration_id, conversation_id, messages_synced_through, seen_at)
    SELECT %(integration_id)s, t.conversation_id, t.through, now()
    FROM jsonb_to_recordset(%(rows)s::jsonb) AS t(conversation_id integer, through bigint)
    WHERE EXISTS (
        SELECT 1 FROM conversas_chatwoot c
        WHERE c.integration_id = %(integration_id)s AND c.conversation_id = t.conversation_id
        OFFSET 0)
    AND EXISTS (
        SELECT 1 FROM integracoes_chatwoot i WHERE i.id = %(integration_id)s AND i.sync_lease_owner = %(owner)s)
    ORDER BY t.conversation_id
    ON CONFLICT (integration_id, conversation_id) DO UPDATE SET
        seen_at = EXCLUDED.seen_at,
        messages_synced_through = GREATEST(s.messages_synced_through, EXCLUDED.messages_synced_through)
    RETURNING 1
), lease AS (
    UPDATE integracoes_chatwoot
    SET sync_lease_until = %(lease_until)s, sync_progress = COALESCE(%(progress)s::jsonb, sync_progress)
    WHERE id = %(integration_id)s AND sync_lease_owner = %(owner)s
    RETURNING 1
)
SELECT (SELECT count(*) FROM lease) = 1 AS saved
"""

# Live conversations a full pass that began at %(start)s has no evidence for: not seen in the listing, not written
# by the sync, not written by anything else (a webhook, the API) since it began.
_UNCONFIRMED = """
c.integration_id = %(integration_id)s AND c.deleted_at IS NULL
AND c.updated_at < %(start)s
AND (c.synced_at IS NULL OR c.synced_at < %(start)s)
AND NOT EXISTS (
    SELECT 1 FROM sincronizacao_conversas_chatwoot s
    WHERE s.integration_id = c.integration_id AND s.conversation_id = c.conversation_id AND s.seen_at >= %(start)s
)
"""


@dataclass(frozen=True)
class Incoming:
    """One conversation of a batch as Chatwoot lists it: its mapped state (None when it cannot be mapped) and
    its contact."""

    conversation_id: int
    state: ConversationState | None
    contact: Contact | None


@dataclass(frozen=True)
class Held:
    """How one conversation of a batch compares with the mirror."""

    conversation_id: int
    stored: bool
    deleted_by: str | None
    chatwoot_updated_at: datetime | None
    messages_synced_through: int | None
    same_state: bool
    same_contact: bool


@dataclass(frozen=True)
class Bookkeeping:
    """What a written batch records: conversations seen, message marks moved, and the resume state to store
    (JSON, or None to keep the stored one)."""

    integration_id: int
    owner: str
    lease_until: datetime
    seen: Sequence[int]
    through: dict[int, int]
    progress: str | None = None


class SyncRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def compare(self, integration_id: int, batch: Sequence[Incoming]) -> dict[int, Held]:
        """How each conversation of ``batch`` compares with what the mirror holds, in one statement."""
        if not batch:
            return {}
        states = [item.state for item in batch if item.state is not None]
        rows = self._conn.execute(
            _COMPARE,
            {
                "integration_id": integration_id,
                "batch": to_json([_incoming_row(item) for item in batch]),
                # Serialised by pydantic in one call: this statement runs for every page of every pass.
                "states": _STATES.dump_json(states, include={"__all__": {"conversation_id", *STATE_COLUMNS}}).decode(),
            },
        ).fetchall()
        return {
            r["conversation_id"]: Held(
                conversation_id=r["conversation_id"],
                stored=r["stored"],
                deleted_by=r["deleted_by"],
                chatwoot_updated_at=r["chatwoot_updated_at"],
                messages_synced_through=r["messages_synced_through"],
                same_state=r["same_state"],
                same_contact=r["same_contact"],
            )
            for r in rows
        }

    def record(self, bookkeeping: Bookkeeping) -> bool:
        """Mark conversations seen now, move message marks, extend the lease and store the resume state, in one
        statement. False when this run no longer holds the lease (nothing about the lease was touched)."""
        ids = sorted(set(bookkeeping.seen) | set(bookkeeping.through))
        row = self._conn.execute(
            _RECORD,
            {
                "rows": to_json([{"conversation_id": cid, "through": bookkeeping.through.get(cid)} for cid in ids]),
                "integration_id": bookkeeping.integration_id,
                "owner": bookkeeping.owner,
                "lease_until": bookkeeping.lease_until,
                "progress": bookkeeping.progress,
            },
        ).fetchone()
        return bool(row and row["saved"])

    def deletion_candidates(
        self, integration_id: int, pass_started_at: datetime, *, exclude: Sequence[int], limit: int
    ) -> list[int]:
        """Live conversations a full pass that began at ``pass_started_at`` (database clock) found no evidence
        for. ``exclude`` holds the ids this run already checked and found alive."""
        rows = self._conn.execute(
            f"SELECT c.conversation_id FROM conversas_chatwoot c WHERE {_UNCONFIRMED}"
            " AND NOT (c.conversation_id = ANY(%(exclude)s)) ORDER BY c.conversation_id LIMIT %(limit)s",
            {"integration_id": integration_id, "start": pass_started_at, "exclude": list(exclude), "limit": limit},
        ).fetchall()
        return [r["conversation_id"] for r in rows]

    def soft_delete_unconfirmed(
        self, integration_id: int, conversation_ids: Sequence[int], pass_started_at: datetime
    ) -> list[int]:
        """Mark deleted (by ``sync``) the given conversations Chatwoot no longer has, unless something wrote,
        confirmed or saw them since the pass began; the guarded upsert restores them if Chatwoot shows them again."""
        if not conversation_ids:
            return []
        rows = self._conn.execute(
            "UPDATE conversas_chatwoot c SET deleted_at = now(), deleted_by = 'sync'"
            f" WHERE {_UNCONFIRMED} AND c.conversation_id = ANY(%(ids)s) RETURNING c.conversation_id",
            {"integration_id": integration_id, "start": pass_started_at, "ids": list(conversation_ids)},
        ).fetchall()
        return sorted(r["conversation_id"] for r in rows)

    def save_progress(self, integration_id: int, owner: str, progress: str, lease_until: datetime) -> bool:
        """Store the resume state and extend the lease, only while this run still holds it."""
        return self.record(
            Bookkeeping(
                integration_id=integration_id,
                owner=owner,
                lease_until=lease_until,
                seen=(),
                through={},
                progress=progress,
            ),
        )


def _incoming_row(item: Incoming) -> dict[str, Any]:
    row: dict[str, Any] = {"conversation_id": item.conversation_id}
    if item.contact is not None:
        row.update(
            sender_id=item.contact.contact_id,
            sender_name=item.contact.name,
            sender_email=item.contact.email,
            sender_phone_number=item.contact.phone_number,
            sender_identifier=item.contact.identifier,
        )
    return row
