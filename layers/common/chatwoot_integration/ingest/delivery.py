"""A delivery on its way through the processor: what its body asks for, and what became of it.

:class:`Verdict` is decided from the body alone (``dispatch.judge``); :class:`PendingDelivery` carries the
verdict through one unit of work, where the ledger settles its status and its family writes its rows;
:class:`DeliveryResult` is what the processor reports for it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict

from ..models.change import NewChange
from ..repositories.deliveries import DeliveryStatus, NewDelivery
from .record import IngestRecord

if TYPE_CHECKING:
    from ..models.conversation import ConversationState
    from ..models.integration import Integration
    from ..models.message import MessageRecord
    from ..models.party import Contact

ACTOR = "chatwoot"
"""Who the change events of webhook deliveries name as the author of the change."""

MAX_EVENT_CHARS = 200


class DeliveryResult(BaseModel):
    """What became of one delivery. ``status`` is the ledger's, or ``dropped`` when no ledger row could be
    written because the integration no longer exists. ``changes`` counts the change events it caused."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    integration_id: int
    delivery_id: str
    status: DeliveryStatus | str
    event: str | None = None
    reason: str | None = None
    account_id: int | None = None
    conversation_id: int | None = None
    changes: int = 0


@dataclass(frozen=True)
class Verdict:
    """What a body asks for, decided without the database: a status and, to apply, the rows it maps to."""

    status: DeliveryStatus
    event_name: str | None = None
    reason: str | None = None
    error: str | None = None
    content_key: str | None = None
    conversation_id: int | None = None
    state: ConversationState | None = None
    message: MessageRecord | None = None
    message_is_edit: bool = False
    contact: Contact | None = None
    contact_overwrites: bool = False


@dataclass
class PendingDelivery:
    """One delivery inside a unit of work: its verdict, the status the ledger settles, the events it causes."""

    record: IngestRecord
    attempt: int
    integration: Integration | None
    verdict: Verdict
    status: str = ""
    reason: str | None = None
    changes: int = 0
    # Whether the conversation state it carries (or a newer one of the same batch) was written.
    state_written: bool = False
    retry_of: int | None = None  # the ledger row of an earlier failed attempt
    attempts: int = 1
    events: list[NewChange] = field(default_factory=list)

    @property
    def key(self) -> tuple[int, str]:
        return (self.record.integration_id, self.record.delivery_id)

    @property
    def to_apply(self) -> bool:
        return self.status == "applied"

    def credit(self, change: str, data: dict[str, Any], *, conversation_id: int | None = None) -> None:
        """Attribute a change event (``change``, with ``data``) to this delivery."""
        assert self.integration is not None
        self.changes += 1
        self.events.append(
            NewChange(
                integration_id=self.integration.id,
                tenant=self.integration.tenant,
                type=change,
                actor=ACTOR,
                conversation_id=conversation_id,
                data=data,
            )
        )

    def ledger_row(self) -> NewDelivery:
        verdict = self.verdict
        mismatch = verdict.reason == "account_mismatch"
        assert self.integration is not None
        return NewDelivery(
            integration_id=self.record.integration_id,
            delivery_id=self.record.delivery_id,
            status=self.status,
            received_at=self.record.received_at,
            content_key=verdict.content_key if self.status == "applied" else None,
            event=verdict.event_name[:MAX_EVENT_CHARS] if verdict.event_name else None,
            reason=self.reason,
            error=verdict.error,
            # A payload naming another account is stored under neither account.
            account_id=None if mismatch else self.integration.account_id,
            conversation_id=None if mismatch else verdict.conversation_id,
            body=self.record.body,
            attempts=self.attempts,
        )

    def result(self) -> DeliveryResult:
        mismatch = self.verdict.reason == "account_mismatch"
        account_id = self.integration.account_id if self.integration is not None and not mismatch else None
        return DeliveryResult(
            integration_id=self.record.integration_id,
            delivery_id=self.record.delivery_id,
            status=self.status,
            event=self.verdict.event_name,
            reason=self.reason,
            account_id=account_id,
            conversation_id=None if mismatch else self.verdict.conversation_id,
            changes=self.changes,
        )
