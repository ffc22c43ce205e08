"""Webhook deliveries applied to the mirror: each exactly once, atomically, whatever the order.

For each delivery the processor:

1. reads the integration (its account, whether message content is kept, whether it is still active);
2. parses the body into its event model and judges it, without touching the database: ``rejected`` (not a
   webhook, or the payload names another account), ``ignored`` (events the mirror does not act on,
   ``contact_updated`` that only moved ``last_activity_at``, an integration switched off meanwhile),
   otherwise to be applied, with the rows it maps to;
3. claims the delivery's row in the ledger, which answers both dedupe questions at once (same delivery id,
   or same content already applied): a duplicate is acknowledged and changes nothing;
4. applies what it maps to: the conversation through :func:`mirror_conversations` (ordering guard on
   Chatwoot's ``updated_at``, change events), the message once per id (the counters follow), the contact's
   fields (overwritten only by ``contact_updated``), and an outbox row for every change.

All of one delivery's writes are in one transaction. An SQS batch is first applied in a single transaction
with set-based statements (one claim, one conversation upsert, one message insert... for the whole batch),
which is equivalent to applying its deliveries one after the other: the ledger dedupes within the batch as
across batches, the ordering guard keeps the newest conversation state, messages are inserted once per id,
deletions are sticky and only ``contact_updated`` overwrites contacts. If anything in that transaction fails,
it is rolled back and every delivery is applied again in a transaction of its own, so that only the failing
ones are reported. A delivery that fails on its own is recorded as ``failed`` with its body (best effort, in
a separate transaction) and the error propagates so SQS retries it; ``make replay`` reprocesses locally
recorded failures. When a failed delivery later succeeds, its row takes the final outcome and drops the body.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import psycopg
from pydantic import BaseModel, ConfigDict, ValidationError

from ..db import Connection, Database
from ..models.change import NewChange
from ..models.conversation import ConversationState
from ..models.integration import Integration
from ..models.party import Contact
from ..observability import logger
from ..repositories.changes import ChangeRepository
from ..repositories.deliveries import DeliveryRepository, DeliveryStatus, NewDelivery
from ..repositories.integrations import IntegrationRepository
from ..repositories.messages import MessageRecord, MessageRepository
from ..repositories.parties import PartyRepository
from ..services.mirror import mirror_conversations
from ..webhooks.keys import content_key
from ..webhooks.payloads import (
    ContactCreated,
    ContactUpdated,
    ConversationCreated,
    ConversationStatusChanged,
    ConversationUpdated,
    InvalidPayload,
    MessageCreated,
    MessageUpdated,
    RecordedOnlyEvent,
    UnknownEvent,
    WebhookEvent,
    parse_webhook,
)
from . import telemetry
from .mapping import IncompleteConversation, message_from_webhook, state_from_webhook
from .record import IngestRecord

ACTOR = "chatwoot"
"""Who the change events of webhook deliveries name as the author of the change."""

# contact_updated fires on every incoming message because Chatwoot bumps the contact's last activity; a change
# of nothing else is noise.
_CONTACT_NOISE = frozenset({"last_activity_at", "updated_at"})
_MAX_ERROR_CHARS = 1000
_MAX_EVENT_CHARS = 200


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
class _Item:
    """One delivery on its way through a transaction."""

    record: IngestRecord
    attempt: int
    integration: Integration | None
    verdict: Verdict
    status: str = ""
    reason: str | None = None
    changes: int = 0
    retry_of: int | None = None  # the ledger row of an earlier failed attempt
    attempts: int = 1
    events: list[NewChange] = field(default_factory=list)

    @property
    def to_apply(self) -> bool:
        return self.status == "applied"

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
            event=verdict.event_name[:_MAX_EVENT_CHARS] if verdict.event_name else None,
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


class DeliveryProcessor:
    """Applies ingest records to the mirror.

    With ``remember_integrations`` the integration rows read are kept for the processor's lifetime: meant for
    one SQS batch (milliseconds), where it saves a query per record; a long-lived processor leaves it off so
    configuration changes (content storage, deactivation) apply to the next record.
    """

    def __init__(self, database: Database, *, remember_integrations: bool = False) -> None:
        self._database = database
        self._remember_integrations = remember_integrations
        self._integrations: dict[int, Integration] = {}

    def handle_many(self, records: Sequence[tuple[IngestRecord, int]]) -> list[DeliveryResult | Exception]:
        """Apply ``(record, attempt)`` pairs: in one transaction if possible, else each on its own.

        Returns, in order, each record's result or the exception it failed with (already recorded as failed).
        """
        if len(records) > 1:
            try:
                with self._database.transaction() as conn:
                    results = self._apply(conn, records)
            except Exception as error:
                # Something in the batch failed: find out which deliveries, one transaction each.
                logger.info(
                    "batch applied delivery by delivery",
                    extra={"records": len(records), "error_type": type(error).__name__},
                )
            else:
                for result in results:
                    _report(result)
                return list(results)
        outcomes: list[DeliveryResult | Exception] = []
        for record, attempt in records:
            try:
                outcomes.append(self.handle(record, attempt=attempt))
            except Exception as error:
                outcomes.append(error)
        return outcomes

    def handle(self, record: IngestRecord, *, attempt: int = 1) -> DeliveryResult:
        """Process ``record``; on failure record it as ``failed`` (best effort) and re-raise."""
        try:
            return self.process(record, attempt=attempt)
        except Exception as error:
            telemetry.count("failed")
            logger.warning(
                "delivery failed",
                extra=telemetry.log_keys(
                    integration_id=record.integration_id,
                    delivery_id=record.delivery_id,
                    attempt=attempt,
                    error_type=type(error).__name__,
                    sqlstate=getattr(error, "sqlstate", None),
                ),
            )
            self.record_failure(record, error, attempt=attempt)
            raise

    def process(self, record: IngestRecord, *, attempt: int = 1) -> DeliveryResult:
        """Apply ``record`` in a transaction of its own and return its outcome."""
        with self._database.transaction() as conn:
            (result,) = self._apply(conn, [(record, attempt)])
        _report(result)
        return result

    def record_failure(self, record: IngestRecord, error: BaseException, *, attempt: int = 1) -> bool:
        """Keep a failed delivery (error and body) for ``make replay``; never raises. True when recorded."""
        failure = NewDelivery(
            integration_id=record.integration_id,
            delivery_id=record.delivery_id,
            status="failed",
            received_at=record.received_at,
            event=_event_name_of(record.body),
            error=describe_error(error),
            body=record.body,
            attempts=max(attempt, 1),
        )
        try:
            with self._database.transaction() as conn:
                return DeliveryRepository(conn).record_failure(failure)
        except Exception as recording_error:
            logger.warning(
                "failed delivery could not be recorded",
                extra=telemetry.log_keys(
                    integration_id=record.integration_id,
                    delivery_id=record.delivery_id,
                    error_type=type(recording_error).__name__,
                ),
            )
            return False

    def replay_failed(self, *, integration_id: int | None = None, limit: int = 100) -> list[DeliveryResult]:
        """Reprocess recorded failures, oldest first. A delivery that fails again stays recorded as failed."""
        with self._database.transaction() as conn:
            failures = DeliveryRepository(conn).failed(integration_id=integration_id, limit=limit)
        results = []
        for failure in failures:
            record = IngestRecord(
                integration_id=failure.integration_id,
                delivery_id=failure.delivery_id,
                received_at=failure.received_at,
                body=failure.body or b"",
            )
            try:
                results.append(self.handle(record, attempt=failure.attempts + 1))
            except Exception:
                results.append(
                    DeliveryResult(
                        integration_id=record.integration_id,
                        delivery_id=record.delivery_id,
                        status="failed",
                        event=failure.event,
                    )
                )
        return results

    # The work of one transaction ---------------------------------------------------------------------------

    def _apply(self, conn: Connection, records: Sequence[tuple[IngestRecord, int]]) -> list[DeliveryResult]:
        items = [self._item(conn, record, attempt) for record, attempt in records]
        ledger = DeliveryRepository(conn)
        claims = _settle_in_batch(items)
        claimed = ledger.claim([item.ledger_row() for item in claims])
        late_duplicates = self._settle_against_ledger(ledger, [i for i in claims if _key(i) not in claimed])
        _write_changes(conn, [item for item in items if item.to_apply])
        for item in items:
            if item.retry_of is not None:
                ledger.finish(item.retry_of, item.ledger_row())
        ledger.claim([item.ledger_row() for item in late_duplicates])
        return [item.result() for item in items]

    def _item(self, conn: Connection, record: IngestRecord, attempt: int) -> _Item:
        integration = self._integration(conn, record.integration_id)
        if integration is None:
            verdict = Verdict(status="rejected", reason="unknown_integration")
            return _Item(record, attempt, None, verdict, status="dropped", reason="unknown_integration")
        verdict = judge(record.body, integration)
        return _Item(
            record,
            attempt,
            integration,
            verdict,
            status=verdict.status,
            reason=verdict.reason,
            attempts=max(attempt, 1),
        )

    def remembered_integration(self, integration_id: int) -> Integration | None:
        """The integration row this processor read for a delivery of this batch, if it keeps them."""
        return self._integrations.get(integration_id)

    def _integration(self, conn: Connection, integration_id: int) -> Integration | None:
        integration = self._integrations.get(integration_id)
        if integration is None:
            integration = IntegrationRepository(conn).get(integration_id)
            if integration is not None and self._remember_integrations:
                self._integrations[integration_id] = integration
        return integration

    @staticmethod
    def _settle_against_ledger(ledger: DeliveryRepository, unclaimed: list[_Item]) -> list[_Item]:
        """Deliveries whose claim found a row in the way: duplicates, or retries of a failed attempt.

        Returns the duplicates of already applied content, whose own ledger row is still to be written.
        """
        by_integration: dict[int, list[_Item]] = {}
        for item in unclaimed:
            by_integration.setdefault(item.record.integration_id, []).append(item)
        late_duplicates = []
        for integration_id, group in by_integration.items():
            existing = ledger.lock_existing(integration_id, [item.record.delivery_id for item in group])
            for item in group:
                row = existing.get(item.record.delivery_id)
                if row is None:
                    # The delivery id is new but the same change is already applied: Chatwoot dispatched it twice.
                    item.status, item.reason = "duplicate", "same_content"
                    late_duplicates.append(item)
                elif row.status != "failed":
                    item.status, item.reason = "duplicate", "same_delivery"
                else:
                    # A retry of a delivery recorded as failed: its row takes the final outcome now.
                    item.retry_of = row.id
                    item.attempts = max(row.attempts + 1, item.attempt)
                    key = item.verdict.content_key
                    if item.to_apply and key and ledger.content_applied(integration_id, key):
                        item.status, item.reason = "duplicate", "same_content"
        return late_duplicates


def judge(body: bytes, integration: Integration) -> Verdict:
    """Decide what a body asks for: rejected, ignored, or applied with the rows it maps to."""
    try:
        event = parse_webhook(body)
    except InvalidPayload as invalid:
        return Verdict(status="rejected", event_name=invalid.event, reason=invalid.reason, error=str(invalid))
    name = event.event
    if event.account_id is not None and event.account_id != integration.account_id:
        return Verdict(
            status="rejected",
            event_name=name,
            reason="account_mismatch",
            error=f"payload account {event.account_id} is not the integration's account {integration.account_id}",
        )
    conversation = event.conversation
    conversation_id = conversation.id if conversation is not None else None
    if not integration.active:
        # Accepted by the webhook just before the integration was switched off: the mirror stops here.
        return Verdict(
            status="ignored", event_name=name, reason="integration_inactive", conversation_id=conversation_id
        )
    if isinstance(event, RecordedOnlyEvent):
        reason = "unknown_event" if isinstance(event, UnknownEvent) else "not_mirrored"
        return Verdict(status="ignored", event_name=name, reason=reason, conversation_id=conversation_id)
    if isinstance(event, ContactUpdated) and event.changes and set(event.changes) <= _CONTACT_NOISE:
        return Verdict(status="ignored", event_name=name, reason="activity_only")
    try:
        rows = _rows_of(event, integration)
    except (IncompleteConversation, ValidationError) as invalid:
        problem = "incomplete_conversation" if isinstance(invalid, IncompleteConversation) else "invalid_fields"
        # A ValidationError's text embeds input values: only its error types are kept.
        detail = str(invalid) if isinstance(invalid, IncompleteConversation) else _error_types(invalid)
        return Verdict(
            status="rejected", event_name=name, reason=problem, error=detail, conversation_id=conversation_id
        )
    return replace(rows, event_name=name, content_key=content_key(event), conversation_id=conversation_id)


def describe_error(error: BaseException) -> str:
    """A failure as kept in the ledger: the error class and its primary message (no row data)."""
    if isinstance(error, psycopg.Error):
        primary = error.diag.message_primary or ""
        text = f"{type(error).__name__} [{error.sqlstate or '-'}]: {primary or 'database error'}"
    else:
        text = f"{type(error).__name__}: {error}"
    return text[:_MAX_ERROR_CHARS]


def _rows_of(event: WebhookEvent, integration: Integration) -> Verdict:
    account_id = integration.account_id
    match event:
        case ConversationCreated() | ConversationUpdated() | ConversationStatusChanged():
            contact = event.contact
            return Verdict(
                status="applied",
                state=state_from_webhook(account_id, event),
                contact=Contact.from_chatwoot(account_id, contact) if contact is not None else None,
            )
        case MessageCreated() | MessageUpdated():
            contact = event.contact
            message = message_from_webhook(
                account_id,
                event.message,
                deleted=bool(event.content_attributes.get("deleted")),
                store_content=integration.store_message_content,
            )
            return Verdict(
                status="applied",
                state=state_from_webhook(account_id, event.conversation),
                message=message,
                message_is_edit=isinstance(event, MessageUpdated),
                contact=Contact.from_chatwoot(account_id, contact) if contact is not None else None,
            )
        case ContactCreated() | ContactUpdated():
            # A creation is the contact's first version: anything already stored is as new or newer.
            return Verdict(
                status="applied",
                contact=Contact.from_chatwoot(account_id, event),
                contact_overwrites=isinstance(event, ContactUpdated),
            )
    return Verdict(status="ignored", reason="not_mirrored")


def _settle_in_batch(items: list[_Item]) -> list[_Item]:
    """Dedupe within the transaction, in order; returns the items whose ledger row is to be claimed."""
    deliveries: set[tuple[int, str]] = set()
    contents: set[tuple[int, str]] = set()
    claims = []
    for item in items:
        if item.integration is None:
            continue
        if _key(item) in deliveries:
            item.status, item.reason = "duplicate", "same_delivery"
            continue
        deliveries.add(_key(item))
        content = item.verdict.content_key
        if item.to_apply and content:
            if (item.record.integration_id, content) in contents:
                item.status, item.reason = "duplicate", "same_content"
            contents.add((item.record.integration_id, content))
        claims.append(item)
    return claims


def _write_changes(conn: Connection, items: list[_Item]) -> None:
    """Write what the deliveries map to, one statement per kind of row, and their change events."""
    if not items:
        return
    _write_conversations(conn, items)
    _write_messages(conn, items)
    _write_contacts(conn, items)
    ChangeRepository(conn).append([event for item in items for event in item.events])


def _write_conversations(conn: Connection, items: list[_Item]) -> None:
    carriers = [item for item in items if item.verdict.state is not None]
    if not carriers:
        return
    outcomes = mirror_conversations(
        conn, [item.verdict.state for item in carriers if item.verdict.state], actor=ACTOR, mark_synced=False
    )
    # The newest version of a conversation is the one written; its delivery is credited with the change.
    newest: dict[int, _Item] = {}
    for item in carriers:
        state = item.verdict.state
        assert state is not None
        best = newest.get(state.conversation_id)
        if (
            best is None
            or best.verdict.state is None
            or state.chatwoot_updated_at > best.verdict.state.chatwoot_updated_at
        ):
            newest[state.conversation_id] = item
    for outcome in outcomes:
        newest[outcome.conversation_id].changes += 1


def _write_messages(conn: Connection, items: list[_Item]) -> None:
    repo = MessageRepository(conn)
    creations: dict[int, _Item] = {}
    for item in items:
        message = item.verdict.message
        if message is not None and not item.verdict.message_is_edit:
            creations.setdefault(message.message_id, item)
    inserted = repo.insert_new([item.verdict.message for item in creations.values() if item.verdict.message])
    for message_id, item in creations.items():
        if message_id in inserted:
            item.events.append(_message_event("message.created", item))
    # Edits after the creations: an edit of a message created in the same batch lands on it, as it would have
    # one delivery after the other (and deletions are sticky either way).
    for item in items:
        message = item.verdict.message
        if message is None or not item.verdict.message_is_edit:
            continue
        write = repo.upsert_edit(message)
        if write.inserted:
            item.events.append(_message_event("message.created", item))
        elif write.changed:
            item.events.append(_message_event("message.updated", item))


def _write_contacts(conn: Connection, items: list[_Item]) -> None:
    parties = PartyRepository(conn)
    snapshots: dict[tuple[int, int], _Item] = {}
    for item in items:
        contact = item.verdict.contact
        if contact is not None and not item.verdict.contact_overwrites:
            snapshots.setdefault((contact.account_id, contact.contact_id), item)
    new_ids = set(
        parties.insert_contacts([item.verdict.contact for item in snapshots.values() if item.verdict.contact])
    )
    for (_, contact_id), item in snapshots.items():
        if contact_id in new_ids:
            item.events.append(_contact_event("contact.created", item))
    # contact_updated is the only source that overwrites: applied in delivery order, after the snapshots.
    for item in items:
        contact = item.verdict.contact
        if contact is not None and item.verdict.contact_overwrites and parties.upsert_contact(contact):
            item.events.append(_contact_event("contact.updated", item))


def _message_event(change: str, item: _Item) -> NewChange:
    message = item.verdict.message
    assert message is not None
    item.changes += 1
    data: dict[str, Any] = {"message_id": message.message_id, "deleted": message.deleted}
    if change == "message.created":
        data.update(
            message_type=message.message_type,
            private=message.private,
            sender_type=message.sender_type,
            sender_id=message.sender_id,
            created_at=message.chatwoot_created_at.isoformat(),
        )
    return NewChange(
        account_id=message.account_id,
        type=change,
        actor=ACTOR,
        conversation_id=message.conversation_id,
        data=data,
    )


def _contact_event(change: str, item: _Item) -> NewChange:
    contact = item.verdict.contact
    assert contact is not None
    item.changes += 1
    return NewChange(account_id=contact.account_id, type=change, actor=ACTOR, data={"contact_id": contact.contact_id})


def _key(item: _Item) -> tuple[int, str]:
    return (item.record.integration_id, item.record.delivery_id)


def _report(result: DeliveryResult) -> None:
    rejected = result.status in {"rejected", "dropped"}
    if rejected:
        telemetry.count_rejected(result.reason or "invalid")
    else:
        telemetry.count(str(result.status))
    keys = telemetry.log_keys(
        integration_id=result.integration_id,
        delivery_id=result.delivery_id,
        account_id=result.account_id,
        conversation_id=result.conversation_id,
        event=result.event,
        status=result.status,
        reason=result.reason,
        changes=result.changes,
    )
    if rejected:
        logger.warning("delivery rejected", extra=keys)
    else:
        logger.info("delivery processed", extra=keys)


def _error_types(error: ValidationError) -> str:
    details = error.errors(include_url=False, include_input=False, include_context=False)
    return "invalid fields: " + ", ".join(
        f"{'.'.join(str(part) for part in d['loc']) or '<model>'} ({d['type']})" for d in details[:5]
    )


def _event_name_of(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    name = data.get("event") if isinstance(data, dict) else None
    return name[:_MAX_EVENT_CHARS] if isinstance(name, str) and name else None
