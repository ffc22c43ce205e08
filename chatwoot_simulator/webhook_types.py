"""The vocabulary of outgoing webhooks: events, targets, deliveries, fault switches and outcomes.

Kept apart from the dispatcher so the simulator's event recording, the payload rendering and the tests
that receive deliveries can name these without depending on how deliveries are queued and sent.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

DeliveryMode = Literal["sync", "async"]
Subject = Literal["conversation", "message", "contact"]

ALL_EVENTS: tuple[str, ...] = (
    "conversation_status_changed",
    "conversation_updated",
    "conversation_created",
    "contact_created",
    "contact_updated",
    "message_created",
    "message_updated",
    "webwidget_triggered",
    "inbox_created",
    "inbox_updated",
    "conversation_typing_on",
    "conversation_typing_off",
)
# The column default of webhooks.subscriptions: the first eight events.
DEFAULT_SUBSCRIPTIONS: frozenset[str] = frozenset(ALL_EVENTS[:8])


class WebhookDelivery(BaseModel):
    """One POST as Chatwoot makes it: ``body`` is exactly the bytes that were signed and sent."""

    model_config = ConfigDict(frozen=True)

    account_id: int
    event: str
    delivery_id: str
    url: str | None
    headers: dict[str, str]
    body: bytes

    def payload(self) -> Any:
        return json.loads(self.body)


WebhookHandler = Callable[[WebhookDelivery], int | None]
"""Receives a delivery in place of an HTTP POST; returns the HTTP status to record (``None`` means 200)."""


class WebhookTarget(BaseModel):
    """The account webhook: where deliveries go, how they are signed, which events it subscribes to."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    url: str | None = None
    secret: str | None = None
    handler: WebhookHandler | None = None
    include_account: bool = True
    subscriptions: frozenset[str] = DEFAULT_SUBSCRIPTIONS


class WebhookFaults(BaseModel):
    """Delivery faults, drawn from the dispatcher's seeded generator."""

    model_config = ConfigDict(frozen=True)

    drop_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    duplicate_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    delay: float | tuple[float, float] | None = None
    reorder_window: int = Field(default=0, ge=0)


class WebhookStats(BaseModel):
    sent: int = 0
    dropped: int = 0
    duplicated: int = 0
    failed: int = 0
    discarded: int = 0
    pending: int = 0


class DeliveryRecord(BaseModel):
    """What happened to one delivery (kept for the most recent deliveries only)."""

    account_id: int
    event: str
    delivery_id: str
    outcome: Literal["sent", "failed", "discarded"]
    status: int | None = None


@dataclass(frozen=True)
class PendingEvent:
    """A change Chatwoot would dispatch: rendered into a payload only when it is sent."""

    account_id: int
    event: str
    subject: Subject
    subject_id: int
    changed_attributes: list[dict[str, Any]] | None = None
    with_changed_attributes: bool = False


EventRenderer = Callable[[PendingEvent, bool], dict[str, Any] | None]
"""Builds the payload of a pending event from current state, or ``None`` when its subject is gone."""
