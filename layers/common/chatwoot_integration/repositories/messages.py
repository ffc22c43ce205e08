"""SQL for messages: one row per Chatwoot message id.

Counters and the conversation's last message are kept by triggers on ``mensagens_chatwoot`` that fire when a
row is inserted, so a message must be inserted exactly once, whatever the order and repetition of its
deliveries. Updates change only what an edit can change (content, content type, deletion); a deleted
message stays deleted, so a late, older delivery never brings it back.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..db import Connection
from ..models.message import MessageRecord, MessageWrite, StoredMessage
from ._sql import to_json

_COLUMNS = (
    "integration_id",
    "message_id",
    "conversation_id",
    "message_type",
    "private",
    "content_type",
    "content",
    "sender_type",
    "sender_id",
    "deleted",
    "chatwoot_created_at",
)
_RECORDSET_TYPES = """
    integration_id bigint, message_id bigint, conversation_id integer, message_type text, private boolean,
    content_type text, content text, sender_type text, sender_id integer, deleted boolean,
    chatwoot_created_at timestamptz
"""
_INSERT = f"""
INSERT INTO mensagens_chatwoot AS m ({", ".join(_COLUMNS)})
VALUES ({", ".join(f"%({c})s" for c in _COLUMNS)})
"""
_INSERT_NEW = f"""
INSERT INTO mensagens_chatwoot ({", ".join(_COLUMNS)})
SELECT {", ".join(_COLUMNS)} FROM jsonb_to_recordset(%s::jsonb) AS t({_RECORDSET_TYPES})
ORDER BY integration_id, message_id
ON CONFLICT (integration_id, message_id) DO NOTHING
RETURNING integration_id, message_id
"""


class MessageRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert_new(self, messages: Sequence[MessageRecord]) -> set[tuple[int, int]]:
        """Insert the messages whose ids are not stored yet (one statement); returns the (integration_id,
        message_id) of those inserted."""
        if not messages:
            return set()
        rows = self._conn.execute(
            _INSERT_NEW,
            (to_json([m.model_dump(mode="json") for m in messages]),),
        ).fetchall()
        return {(r["integration_id"], r["message_id"]) for r in rows}

    def upsert_edit(self, message: MessageRecord) -> MessageWrite:
        """Apply an edit (``message_updated``): insert the message if it is not stored yet, else update it.

        Type, privacy, sender and creation time never change after the insert (the counters were computed
        from them). Deletion is sticky and clears the content.
        """
        row = self._conn.execute(
            _INSERT
            + """
            ON CONFLICT (integration_id, message_id) DO UPDATE SET
                deleted = m.deleted OR EXCLUDED.deleted,
                content = CASE WHEN m.deleted OR EXCLUDED.deleted THEN NULL ELSE EXCLUDED.content END,
                content_type = CASE WHEN m.deleted THEN m.content_type ELSE EXCLUDED.content_type END
            WHERE (m.deleted, m.content, m.content_type) IS DISTINCT FROM (
                m.deleted OR EXCLUDED.deleted,
                CASE WHEN m.deleted OR EXCLUDED.deleted THEN NULL ELSE EXCLUDED.content END,
                CASE WHEN m.deleted THEN m.content_type ELSE EXCLUDED.content_type END)
            RETURNING (m.xmax = 0) AS inserted
            """,
            message.model_dump(),
        ).fetchone()
        if row is None:
            return MessageWrite(inserted=False, changed=False)
        return MessageWrite(inserted=bool(row["inserted"]), changed=True)

    def get(self, integration_id: int, message_id: int) -> StoredMessage | None:
        row = self._conn.execute(
            "SELECT * FROM mensagens_chatwoot WHERE integration_id = %s AND message_id = %s",
            (integration_id, message_id),
        ).fetchone()
        return _stored(row) if row else None


def _stored(row: dict[str, Any]) -> StoredMessage:
    return StoredMessage.model_validate({k: row[k] for k in StoredMessage.model_fields})
