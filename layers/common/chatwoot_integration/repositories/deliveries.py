"""SQL for webhook deliveries: the dedupe ledger and audit trail of everything the processor handled.

Two unique indexes do the deduplication: ``(integration_id, delivery_id)`` for a delivery seen again (SQS
redelivers at least once), and ``(integration_id, content_key)`` among *applied* rows for the same change
dispatched twice by Chatwoot under two delivery ids. A delivery claims its row before it is applied, in the
same transaction, so a concurrent twin waits for the first to commit and then finds the row taken.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..db import Connection
from ._sql import to_json

DeliveryStatus = Literal["applied", "stale", "duplicate", "ignored", "rejected", "failed"]
DELIVERY_STATUSES: tuple[DeliveryStatus, ...] = ("applied", "stale", "duplicate", "ignored", "rejected", "failed")

# Only rejected deliveries (audit) and failed ones (replay) keep their body; the table's CHECK says the same.
_BODY_KEPT_FOR: frozenset[str] = frozenset({"rejected", "failed"})

_COLUMNS = (
    "integration_id",
    "delivery_id",
    "content_key",
    "event",
    "status",
    "reason",
    "error",
    "account_id",
    "conversation_id",
    "body",
    "attempts",
    "received_at",
)
_VALUES = ", ".join(f"%({c})s" for c in _COLUMNS)
_LISTED = ", ".join(["id", "processed_at", *(c for c in _COLUMNS if c != "body")])
_CLAIM = f"""
INSERT INTO entregas_webhook_chatwoot ({", ".join(_COLUMNS)})
SELECT integration_id, delivery_id, content_key, event, status, reason, error, account_id, conversation_id,
       decode(body_base64, 'base64'), attempts, received_at
FROM jsonb_to_recordset(%s::jsonb) AS t(
    integration_id bigint, delivery_id text, content_key text, event text, status text, reason text, error text,
    account_id integer, conversation_id integer, body_base64 text, attempts integer, received_at timestamptz)
ORDER BY integration_id, delivery_id
ON CONFLICT DO NOTHING
RETURNING integration_id, delivery_id
"""


class NewDelivery(BaseModel):
    """A delivery's row as the processor writes it."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    integration_id: int
    delivery_id: str = Field(min_length=1, max_length=200)
    status: DeliveryStatus
    received_at: datetime
    content_key: str | None = None
    event: str | None = Field(default=None, max_length=200)
    reason: str | None = None
    error: str | None = None
    account_id: int | None = None
    conversation_id: int | None = None
    body: bytes | None = Field(default=None, repr=False)
    attempts: int = Field(default=1, ge=1)

    def row(self) -> dict[str, Any]:
        values = self.model_dump()
        if self.status not in _BODY_KEPT_FOR:
            values["body"] = None
        return values

    def json_row(self) -> dict[str, Any]:
        """The row for a ``jsonb`` batch parameter (the body base64-encoded)."""
        values = self.row()
        body = values.pop("body")
        values["body_base64"] = base64.b64encode(body).decode("ascii") if body is not None else None
        values["received_at"] = self.received_at.isoformat()
        return values


class Delivery(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True)

    id: int
    integration_id: int
    delivery_id: str
    content_key: str | None
    event: str | None
    status: DeliveryStatus
    reason: str | None
    error: str | None
    account_id: int | None
    conversation_id: int | None
    body: bytes | None = Field(repr=False)
    attempts: int
    received_at: datetime
    processed_at: datetime


class DeliveryRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def claim(self, deliveries: Sequence[NewDelivery]) -> set[tuple[int, str]]:
        """Insert the rows of ``deliveries`` in one statement, skipping each whose delivery id is taken or
        (for an applied row) whose content key is already applied. Returns the ``(integration_id,
        delivery_id)`` of the rows inserted."""
        if not deliveries:
            return set()
        rows = self._conn.execute(_CLAIM, (to_json([d.json_row() for d in deliveries]),)).fetchall()
        return {(r["integration_id"], r["delivery_id"]) for r in rows}

    def mark_stale(self, keys: Sequence[tuple[int, str]], reason: str) -> None:
        """Turn claimed rows (``(integration_id, delivery_id)``) into ``stale``: applied, and nothing changed."""
        if keys:
            self._conn.execute(
                "UPDATE entregas_webhook_chatwoot SET status = 'stale', reason = %s"
                " WHERE (integration_id, delivery_id) IN (SELECT * FROM unnest(%s::bigint[], %s::text[]))",
                (reason, [k[0] for k in keys], [k[1] for k in keys]),
            )

    def list_page(
        self, integration_id: int, *, outcome: DeliveryStatus | None, before_id: int | None, limit: int
    ) -> list[Delivery]:
        """A page of the integration's deliveries, newest first, below ``before_id``; never their bodies."""
        where = ["integration_id = %(integration_id)s"]
        if outcome is not None:
            where.append("status = %(outcome)s")
        if before_id is not None:
            where.append("id < %(before_id)s")
        rows = self._conn.execute(
            f"SELECT {_LISTED}, NULL::bytea AS body FROM entregas_webhook_chatwoot WHERE {' AND '.join(where)}"
            " ORDER BY id DESC LIMIT %(limit)s",
            {"integration_id": integration_id, "outcome": outcome, "before_id": before_id, "limit": limit},
        ).fetchall()
        return [_delivery(r) for r in rows]

    def lock_existing(self, integration_id: int, delivery_ids: Sequence[str]) -> dict[str, Delivery]:
        """The stored rows of these delivery ids, locked for the rest of the transaction."""
        if not delivery_ids:
            return {}
        rows = self._conn.execute(
            "SELECT * FROM entregas_webhook_chatwoot WHERE integration_id = %s AND delivery_id = ANY(%s)"
            " ORDER BY delivery_id FOR UPDATE",
            (integration_id, list(delivery_ids)),
        ).fetchall()
        return {r["delivery_id"]: _delivery(r) for r in rows}

    def get(self, integration_id: int, delivery_id: str) -> Delivery | None:
        row = self._conn.execute(
            "SELECT * FROM entregas_webhook_chatwoot WHERE integration_id = %s AND delivery_id = %s",
            (integration_id, delivery_id),
        ).fetchone()
        return _delivery(row) if row else None

    def content_applied(self, integration_id: int, content_key: str) -> bool:
        row = self._conn.execute(
            "SELECT 1 FROM entregas_webhook_chatwoot"
            " WHERE integration_id = %s AND content_key = %s AND status = 'applied'",
            (integration_id, content_key),
        ).fetchone()
        return row is not None

    def finish(self, delivery_row_id: int, delivery: NewDelivery) -> None:
        """Rewrite a row (a failed delivery that has now been processed) with its final outcome."""
        values = delivery.row()
        assignments = ", ".join(f"{c} = %({c})s" for c in _COLUMNS if c not in {"integration_id", "delivery_id"})
        self._conn.execute(
            f"UPDATE entregas_webhook_chatwoot SET {assignments}, processed_at = now() WHERE id = %(row_id)s",
            {**values, "row_id": delivery_row_id},
        )

    def record_failure(self, delivery: NewDelivery) -> bool:
        """Record (or count another attempt of) a failed delivery with its body, for replay.

        A delivery that already has a final outcome is left alone; returns whether a row was written.
        """
        if delivery.status != "failed":
            raise ValueError("record_failure writes failed deliveries only")
        row = self._conn.execute(
            f"INSERT INTO entregas_webhook_chatwoot AS e ({', '.join(_COLUMNS)}) VALUES ({_VALUES})"
            " ON CONFLICT (integration_id, delivery_id) DO UPDATE SET"
            " attempts = GREATEST(e.attempts + 1, EXCLUDED.attempts), error = EXCLUDED.error,"
            " body = EXCLUDED.body, event = COALESCE(EXCLUDED.event, e.event), processed_at = now()"
            " WHERE e.status = 'failed'"
            " RETURNING e.id",
            delivery.row(),
        ).fetchone()
        return row is not None

    def failed(self, *, integration_id: int | None = None, limit: int = 100) -> list[Delivery]:
        """Failed deliveries, oldest first (the order they were received in)."""
        where = "status = 'failed'" + (" AND integration_id = %(integration_id)s" if integration_id else "")
        rows = self._conn.execute(
            f"SELECT * FROM entregas_webhook_chatwoot WHERE {where} ORDER BY received_at, id LIMIT %(limit)s",
            {"integration_id": integration_id, "limit": limit},
        ).fetchall()
        return [_delivery(r) for r in rows]

    def list_for_integration(self, integration_id: int) -> list[Delivery]:
        rows = self._conn.execute(
            "SELECT * FROM entregas_webhook_chatwoot WHERE integration_id = %s ORDER BY id", (integration_id,)
        ).fetchall()
        return [_delivery(r) for r in rows]

    def count_by_status(
        self, integration_id: int, statuses: Sequence[DeliveryStatus] = DELIVERY_STATUSES
    ) -> dict[str, int]:
        rows = self._conn.execute(
            "SELECT status, count(*) AS n FROM entregas_webhook_chatwoot"
            " WHERE integration_id = %s AND status = ANY(%s) GROUP BY status",
            (integration_id, list(statuses)),
        ).fetchall()
        counts: dict[str, int] = dict.fromkeys(statuses, 0)
        counts.update({r["status"]: r["n"] for r in rows})
        return counts


def _delivery(row: dict[str, Any]) -> Delivery:
    return Delivery.model_validate({k: row[k] for k in Delivery.model_fields})
