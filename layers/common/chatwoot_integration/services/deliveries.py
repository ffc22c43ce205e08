"""The webhook ledger as an admin reads it: what became of each delivery, never what it carried."""

from __future__ import annotations

import base64
import binascii

from pydantic import BaseModel, ConfigDict

from ..errors import ValidationFailed
from ..repositories.deliveries import Delivery, DeliveryStatus
from ..uow import UnitOfWorkFactory


class DeliveryView(BaseModel):
    """One delivery: its event, ids, times, outcome and why; no body."""

    model_config = ConfigDict(defer_build=True)

    delivery_id: str
    event: str | None
    outcome: DeliveryStatus
    reason: str | None
    conversation_id: int | None
    attempts: int
    received_at: str
    processed_at: str

    @classmethod
    def of(cls, delivery: Delivery) -> DeliveryView:
        return cls(
            delivery_id=delivery.delivery_id,
            event=delivery.event,
            outcome=delivery.status,
            reason=delivery.reason,
            conversation_id=delivery.conversation_id,
            attempts=delivery.attempts,
            received_at=delivery.received_at.isoformat(),
            processed_at=delivery.processed_at.isoformat(),
        )


def list_deliveries(
    unit_of_work: UnitOfWorkFactory,
    integration_id: int,
    *,
    outcome: DeliveryStatus | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[DeliveryView], str | None]:
    """A page of the integration's deliveries, newest first, and the cursor of the next page (None at the end)."""
    before = _decode(cursor) if cursor else None
    with unit_of_work(read_only=True) as uow:
        rows = uow.deliveries.list_page(integration_id, outcome=outcome, before_id=before, limit=limit + 1)
    page = rows[:limit]
    next_cursor = _encode(page[-1].id) if len(rows) > limit else None
    return [DeliveryView.of(row) for row in page], next_cursor


def _encode(row_id: int) -> str:
    return base64.urlsafe_b64encode(f"d:{row_id}".encode()).decode().rstrip("=")


def _decode(cursor: str) -> int:
    try:
        prefix, _, value = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode().partition(":")
        row_id = int(value)
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise ValidationFailed("cursor is not valid", details=[{"field": "cursor"}]) from exc
    if prefix != "d" or row_id <= 0:
        raise ValidationFailed("cursor is not valid", details=[{"field": "cursor"}])
    return row_id
