"""The message family: ``message_created`` and ``message_updated``.

A message event maps to the message's row, the state of its conversation (written by the conversation
family) and the conversation's contact. The counters and the conversation's last message are kept by
triggers when a message row is inserted, so each message id is inserted exactly once: creations in one
statement that skips the ids already stored, then edits, which insert a message not seen yet or change only
what an edit can change (deletion is sticky).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..mapping import conversation_contact, conversation_state, message_record
from ..models.integration import Integration
from ..models.message import MessageRecord
from ..uow import UnitOfWork
from ..webhooks.payloads import MessageCreated, MessageUpdated
from .delivery import PendingDelivery, Verdict

MessageEvent = MessageCreated | MessageUpdated
EVENTS: tuple[type[MessageEvent], ...] = (MessageCreated, MessageUpdated)


def verdict(event: MessageEvent, integration: Integration) -> Verdict:
    """The rows a message event maps to (raises ``IncompleteConversation``/``ValidationError``)."""
    integration_id = integration.id
    message = message_record(
        integration_id,
        event.message,
        deleted=bool(event.content_attributes.get("deleted")),
        store_content=integration.store_message_content,
    )
    return Verdict(
        status="applied",
        state=conversation_state(integration_id, event.conversation),
        message=message,
        message_is_edit=isinstance(event, MessageUpdated),
        contact=conversation_contact(integration_id, event.conversation),
    )


def write(uow: UnitOfWork, items: Sequence[PendingDelivery]) -> None:
    """Insert the new messages in one statement, then apply the edits; credit each change to its delivery."""
    # Message ids are per Chatwoot installation: a batch may carry message 9 of two integrations.
    creations: dict[tuple[int, int], PendingDelivery] = {}
    for item in items:
        message = item.verdict.message
        if message is not None and not item.verdict.message_is_edit:
            creations.setdefault((message.integration_id, message.message_id), item)
    if creations:
        inserted = uow.messages.insert_new([_message(item) for item in creations.values()])
        for key, item in creations.items():
            if key in inserted:
                _credit("message.created", item)
    # Edits after the creations: an edit of a message created in the same batch lands on it, as it would have
    # one delivery after the other (and deletions are sticky either way).
    for item in items:
        if item.verdict.message is None or not item.verdict.message_is_edit:
            continue
        write = uow.messages.upsert_edit(item.verdict.message)
        if write.inserted:
            _credit("message.created", item)
        elif write.changed:
            _credit("message.updated", item)


def _message(item: PendingDelivery) -> MessageRecord:
    assert item.verdict.message is not None
    return item.verdict.message


def _credit(change: str, item: PendingDelivery) -> None:
    message = _message(item)
    data: dict[str, Any] = {"message_id": message.message_id, "deleted": message.deleted}
    if change == "message.created":
        data.update(
            message_type=message.message_type,
            private=message.private,
            sender_type=message.sender_type,
            sender_id=message.sender_id,
            created_at=message.chatwoot_created_at.isoformat(),
        )
    item.credit(change, data, conversation_id=message.conversation_id)
