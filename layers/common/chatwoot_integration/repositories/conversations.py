"""SQL for the conversation mirror: guarded batch upserts, keyset listing, soft delete."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from psycopg import sql

from ..db import Connection
from ..errors import ValidationFailed
from ..models.conversation import (
    Conversation,
    ConversationFilter,
    ConversationState,
    SortKey,
    UpsertOutcome,
)
from ._sql import set_columns, to_json, translate_transition_errors

# The columns Chatwoot owns, in the order the upsert and the sync's comparison use them, with their SQL types.
STATE_COLUMNS = (
    "inbox_id",
    "contact_id",
    "status",
    "priority",
    "assignee_id",
    "agent_bot_id",
    "team_id",
    "labels",
    "custom_attributes",
    "unread_count",
    "last_activity_at",
    "waiting_since",
    "snoozed_until",
    "first_reply_created_at",
    "chatwoot_created_at",
    "chatwoot_updated_at",
)
STATE_TYPES = """
    inbox_id integer, contact_id integer, status text, priority text, assignee_id integer, agent_bot_id integer,
    team_id integer, labels text[], custom_attributes jsonb, unread_count integer, last_activity_at timestamptz,
    waiting_since timestamptz, snoozed_until timestamptz, first_reply_created_at timestamptz,
    chatwoot_created_at timestamptz, chatwoot_updated_at timestamptz
"""
# The fields change events report with their previous value.
TRACKED_FIELDS = ("status", "assignee_id", "team_id", "priority", "labels", "inbox_id", "deleted")
_TRACKED_SQL = ", ".join("c.deleted_at IS NOT NULL AS deleted" if f == "deleted" else f"c.{f}" for f in TRACKED_FIELDS)
_RECORDSET_TYPES = "integration_id bigint, conversation_id integer, " + STATE_TYPES

_UPSERT = f"""
WITH incoming AS (
    SELECT DISTINCT ON (integration_id, conversation_id) *
    FROM jsonb_to_recordset(%(rows)s::jsonb) AS t({_RECORDSET_TYPES})
    ORDER BY integration_id, conversation_id, chatwoot_updated_at DESC
),
prior AS (
    -- One index lookup per incoming row: OFFSET 0 keeps the planner from turning this into a join, which it would
    -- plan as a scan of the whole mirror (it cannot know how few rows jsonb_to_recordset gives).
    SELECT c.*
    FROM incoming i
    CROSS JOIN LATERAL (
        SELECT c.integration_id, c.conversation_id, {_TRACKED_SQL}
        FROM conversas_chatwoot c
        WHERE c.integration_id = i.integration_id AND c.conversation_id = i.conversation_id
        OFFSET 0
    ) c
),
upserted AS (
    INSERT INTO conversas_chatwoot AS c (integration_id, conversation_id, {", ".join(STATE_COLUMNS)},
                                         parte_id, sync_status, synced_at)
    SELECT i.integration_id, i.conversation_id, {", ".join(f"i.{c}" for c in STATE_COLUMNS)},
           (SELECT p.parte_id FROM partes_chatwoot p
             WHERE p.integration_id = i.integration_id AND p.contact_id = i.contact_id),
           CASE WHEN %(mark_synced)s THEN 'synced' ELSE 'pending' END,
           CASE WHEN %(mark_synced)s THEN now() END
    FROM incoming i
    ORDER BY i.integration_id, i.conversation_id
    ON CONFLICT (integration_id, conversation_id) DO UPDATE SET
        {", ".join(f"{c} = EXCLUDED.{c}" for c in STATE_COLUMNS)},
        parte_id = COALESCE(c.parte_id, EXCLUDED.parte_id),
        sync_status = CASE WHEN %(mark_synced)s THEN 'synced' ELSE c.sync_status END,
        sync_error = CASE WHEN %(mark_synced)s THEN NULL ELSE c.sync_error END,
        synced_at = CASE WHEN %(mark_synced)s THEN now() ELSE c.synced_at END,
        deleted_at = CASE WHEN c.deleted_by = 'sync' THEN NULL ELSE c.deleted_at END,
        deleted_by = CASE WHEN c.deleted_by = 'sync' THEN NULL ELSE c.deleted_by END
    WHERE c.deleted_by IS DISTINCT FROM 'api'
      -- A row the full pass found gone in Chatwoot only comes back on a fresh REST read: a webhook may have been
      -- queued before the deletion and applied after it.
      AND (c.deleted_by IS NULL OR %(mark_synced)s)
      AND (c.chatwoot_updated_at < EXCLUDED.chatwoot_updated_at
           OR (%(mark_synced)s AND c.chatwoot_updated_at = EXCLUDED.chatwoot_updated_at))
    RETURNING c.integration_id, c.conversation_id, (c.xmax = 0) AS inserted, {_TRACKED_SQL}
)
SELECT u.*, to_jsonb(p) AS previous
FROM upserted u
LEFT JOIN prior p USING (integration_id, conversation_id)
"""

# Fields this product owns or has just written through to Chatwoot (never the ordering guard).
_UPDATABLE = frozenset(
    {
        "status",
        "priority",
        "assignee_id",
        "team_id",
        "labels",
        "parte_id",
        "assignment_error",
        "sync_status",
        "sync_error",
        "snoozed_until",
    }
)
_SORT_COLUMNS: dict[str, str] = {"last_activity_at": "last_activity_at", "created_at": "created_at"}


class ConversationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def upsert_many(self, states: Sequence[ConversationState], *, mark_synced: bool) -> list[UpsertOutcome]:
        """Write many conversations in one round trip, each guarded by Chatwoot's ``updated_at``.

        A stored row is overwritten only by a strictly newer version; an equal one is a no-op, except that a
        sync (``mark_synced``) confirms it (``sync_status`` becomes ``synced``). Rows the platform deleted
        (``deleted_by = 'api'``) are never touched; rows the full pass deleted come back when Chatwoot shows
        them again on a REST read (``mark_synced``), never through a webhook, which may be older than the
        deletion. Several versions of one conversation in the batch collapse to the newest. Returns one
        outcome per row written (inserted or changed), with the previous values of :data:`TRACKED_FIELDS`.
        """
        if not states:
            return []
        rows = [s.model_dump(mode="json") for s in states]
        with translate_transition_errors():
            written = self._conn.execute(_UPSERT, {"rows": to_json(rows), "mark_synced": mark_synced}).fetchall()
        outcomes = []
        for row in written:
            current = {f: row[f] for f in TRACKED_FIELDS}
            previous = row["previous"]
            if previous is not None:
                previous = {f: previous.get(f) for f in TRACKED_FIELDS}
            changed = bool(row["inserted"]) or previous is None or _differs(previous, current)
            outcomes.append(
                UpsertOutcome(
                    integration_id=row["integration_id"],
                    conversation_id=row["conversation_id"],
                    inserted=bool(row["inserted"]),
                    changed=changed,
                    previous=previous,
                    current=current,
                )
            )
        return outcomes

    def get(self, integration_id: int, conversation_id: int, *, include_deleted: bool = False) -> Conversation | None:
        row = self._conn.execute(
            "SELECT * FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s"
            + ("" if include_deleted else " AND deleted_at IS NULL"),
            (integration_id, conversation_id),
        ).fetchone()
        return _conversation(row) if row else None

    def get_for_update(self, integration_id: int, conversation_id: int) -> Conversation | None:
        row = self._conn.execute(
            "SELECT * FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s"
            " AND deleted_at IS NULL FOR UPDATE",
            (integration_id, conversation_id),
        ).fetchone()
        return _conversation(row) if row else None

    def list_page(
        self,
        integration_id: int,
        filters: ConversationFilter,
        *,
        sort: SortKey = "last_activity_at",
        limit: int = 25,
        after: tuple[datetime, int] | None = None,
    ) -> tuple[list[Conversation], tuple[datetime, int] | None]:
        """One page, newest first, by keyset: ``after`` is the (sort value, conversation_id) of the last row seen.

        Returns the rows and the keyset of the next page (None at the end). A row never moves between pages
        unless it changes: rows inserted or updated while a client pages may appear on the page it has not
        read yet, but no row that stays put is skipped or repeated.
        """
        column = sql.Identifier(_SORT_COLUMNS[sort])
        where, params = _where(integration_id, filters)
        if after is not None:
            where.append(sql.SQL("({}, conversation_id) < (%(after_value)s, %(after_id)s)").format(column))
            params["after_value"], params["after_id"] = after
        params["limit"] = limit + 1
        query = sql.SQL(
            "SELECT * FROM conversas_chatwoot WHERE {where} ORDER BY {col} DESC, conversation_id DESC LIMIT %(limit)s"
        ).format(where=sql.SQL(" AND ").join(where), col=column)
        rows = self._conn.execute(query, params).fetchall()
        items = [_conversation(r) for r in rows[:limit]]
        next_key = None
        if len(rows) > limit:
            last = rows[limit - 1]
            next_key = (last[_SORT_COLUMNS[sort]], last["conversation_id"])
        return items, next_key

    def explain_list(
        self, integration_id: int, filters: ConversationFilter, *, sort: SortKey = "last_activity_at"
    ) -> str:
        """The query plan of the first page of a listing (benchmarks check that it uses an index)."""
        column = sql.Identifier(_SORT_COLUMNS[sort])
        where, params = _where(integration_id, filters)
        query = sql.SQL(
            "EXPLAIN SELECT * FROM conversas_chatwoot WHERE {where} ORDER BY {col} DESC, conversation_id DESC LIMIT 26"
        ).format(where=sql.SQL(" AND ").join(where), col=column)
        return "\n".join(r["QUERY PLAN"] for r in self._conn.execute(query, params))

    def update_local(self, integration_id: int, conversation_id: int, changes: dict[str, Any]) -> Conversation | None:
        """Set fields this product owns or has just written through to Chatwoot (never the ordering guard)."""
        assignments = set_columns(changes, _UPDATABLE)
        if not changes:
            return self.get(integration_id, conversation_id)
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()}
        params.update(integration_id=integration_id, conversation_id=conversation_id)
        with translate_transition_errors():
            row = self._conn.execute(
                sql.SQL(
                    "UPDATE conversas_chatwoot SET {} WHERE integration_id = %(integration_id)s"
                    " AND conversation_id = %(conversation_id)s AND deleted_at IS NULL RETURNING *"
                ).format(assignments),
                params,
            ).fetchone()
        return _conversation(row) if row else None

    def soft_delete(self, integration_id: int, conversation_id: int, *, by: str) -> Conversation | None:
        row = self._conn.execute(
            "UPDATE conversas_chatwoot SET deleted_at = now(), deleted_by = %s"
            " WHERE integration_id = %s AND conversation_id = %s AND deleted_at IS NULL RETURNING *",
            (by, integration_id, conversation_id),
        ).fetchone()
        return _conversation(row) if row else None

    def soft_delete_missing(self, integration_id: int, seen_ids: Sequence[int], *, seen_before: datetime) -> list[int]:
        """Full pass: mark deleted every live conversation Chatwoot no longer lists.

        Only rows last written before ``seen_before`` (the pass's start) are considered, so a conversation
        created by a webhook while the pass ran is not mistaken for a deleted one.
        """
        rows = self._conn.execute(
            "UPDATE conversas_chatwoot SET deleted_at = now(), deleted_by = 'sync'"
            " WHERE integration_id = %s AND deleted_at IS NULL AND NOT (conversation_id = ANY(%s))"
            " AND updated_at < %s RETURNING conversation_id",
            (integration_id, list(seen_ids), seen_before),
        ).fetchall()
        return [r["conversation_id"] for r in rows]

    def hard_delete(self, integration_id: int, conversation_id: int) -> bool:
        cur = self._conn.execute(
            "DELETE FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s",
            (integration_id, conversation_id),
        )
        return cur.rowcount > 0

    def set_sync_status(
        self, integration_id: int, conversation_ids: Sequence[int], status: str, *, error: str | None = None
    ) -> int:
        with translate_transition_errors():
            cur = self._conn.execute(
                "UPDATE conversas_chatwoot SET sync_status = %s, sync_error = %s,"
                " synced_at = CASE WHEN %s = 'synced' THEN now() ELSE synced_at END"
                " WHERE integration_id = %s AND conversation_id = ANY(%s)",
                (status, error, status, integration_id, list(conversation_ids)),
            )
        return cur.rowcount


def encode_cursor(sort: SortKey, key: tuple[datetime, int]) -> str:
    """An opaque cursor for the next page; it remembers the sort it belongs to."""
    payload = json.dumps({"s": sort, "v": key[0].isoformat(), "i": key[1]}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def decode_cursor(cursor: str, sort: SortKey) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        data = json.loads(raw)
        value, conversation_id = datetime.fromisoformat(data["v"]), int(data["i"])
        cursor_sort = data["s"]
    except (binascii.Error, ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not valid", details=[{"field": "cursor"}]) from exc
    if cursor_sort != sort:
        raise ValidationFailed("cursor belongs to another sort order", details=[{"field": "cursor"}])
    if value.tzinfo is None:
        raise ValidationFailed("cursor is not valid", details=[{"field": "cursor"}])
    return value, conversation_id


def _where(integration_id: int, f: ConversationFilter) -> tuple[list[sql.Composable], dict[str, Any]]:
    where: list[sql.Composable] = [sql.SQL("integration_id = %(integration_id)s"), sql.SQL("deleted_at IS NULL")]
    params: dict[str, Any] = {"integration_id": integration_id}
    for name in ("status", "assignee_id", "inbox_id", "team_id", "priority", "sync_status", "parte_id"):
        value = getattr(f, name)
        if value is not None:
            where.append(sql.SQL("{} = {}").format(sql.Identifier(name), sql.Placeholder(name)))
            params[name] = value
    if f.unassigned:
        where.append(sql.SQL("assignee_id IS NULL"))
    if f.label is not None:
        where.append(sql.SQL("labels @> ARRAY[%(label)s]::text[]"))
        params["label"] = f.label
    if f.updated_since is not None:
        where.append(sql.SQL("updated_at >= %(updated_since)s"))
        params["updated_since"] = f.updated_since
    return where, params


def _differs(previous: dict[str, Any], current: dict[str, Any]) -> bool:
    return any(_normal(previous.get(k)) != _normal(current.get(k)) for k in current)


def _normal(value: Any) -> Any:
    if isinstance(value, list | tuple):
        return list(value)
    return value


def _conversation(row: dict[str, Any]) -> Conversation:
    return Conversation.model_validate({k: row[k] for k in Conversation.model_fields})
