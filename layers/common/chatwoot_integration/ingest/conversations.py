"""The conversation family: ``conversation_created``, ``conversation_updated``, ``conversation_status_changed``.

Each maps to the conversation's state and its contact (``meta.sender``). The conversations of a batch are
written in one upsert through :func:`~chatwoot_integration.services.mirror.mirror_conversations`, whose
ordering guard on Chatwoot's ``updated_at`` keeps the newest version whatever the order of the deliveries;
the conversation state carried by message events goes the same way.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..mapping import conversation_contact, conversation_state
from ..models.change import NewChange
from ..models.integration import Integration
from ..services.mirror import upsert_conversations
from ..uow import UnitOfWork
from ..webhooks.payloads import ConversationCreated, ConversationStatusChanged, ConversationUpdated
from .delivery import ACTOR, PendingDelivery, Verdict

ConversationEvent = ConversationCreated | ConversationUpdated | ConversationStatusChanged
EVENTS: tuple[type[ConversationEvent], ...] = (ConversationCreated, ConversationUpdated, ConversationStatusChanged)


def verdict(event: ConversationEvent, integration: Integration) -> Verdict:
    """The rows a conversation event maps to (raises ``IncompleteConversation``/``ValidationError``)."""
    integration_id = integration.id
    return Verdict(
        status="applied",
        state=conversation_state(integration_id, event),
        contact=conversation_contact(integration_id, event),
    )


def write(uow: UnitOfWork, items: Sequence[PendingDelivery]) -> list[NewChange]:
    """Upsert the conversations the deliveries carry, in one statement; returns their change events (appended
    with the rest of the batch's).

    The newest version of a conversation is the one written, and its delivery is credited with the change.
    """
    carriers = [item for item in items if item.verdict.state is not None]
    if not carriers:
        return []
    outcomes, events = upsert_conversations(
        uow,
        [item.verdict.state for item in carriers if item.verdict.state is not None],
        actor=ACTOR,
        mark_synced=False,
    )
    # Conversation ids are per Chatwoot account: a batch may carry conversation 7 of two integrations.
    newest: dict[tuple[int, int], PendingDelivery] = {}
    for item in carriers:
        state = item.verdict.state
        assert state is not None
        key = (state.integration_id, state.conversation_id)
        best = newest.get(key)
        if (
            best is None
            or best.verdict.state is None
            or state.chatwoot_updated_at > best.verdict.state.chatwoot_updated_at
        ):
            newest[key] = item
    for outcome in outcomes:
        newest[outcome.integration_id, outcome.conversation_id].changes += 1
    written = {(o.integration_id, o.conversation_id) for o in outcomes}
    for item in carriers:
        state = item.verdict.state
        assert state is not None
        item.state_written = (state.integration_id, state.conversation_id) in written
    return events
