"""Chatwoot's webhook shapes mapped to what the mirror stores.

:func:`state_from_webhook` has the semantics of :func:`~chatwoot_integration.services.mirror.state_from_rest`
field for field, so a webhook and the scheduled sync write identical rows for the same Chatwoot state.
"""

from __future__ import annotations

from ..models.conversation import ConversationState
from ..repositories.messages import MessageRecord
from ..webhooks.payloads import ConversationData, NormalizedMessage


class IncompleteConversation(ValueError):
    """A conversation payload without the times the mirror needs (``created_at``/``timestamp``)."""


def state_from_webhook(account_id: int, conversation: ConversationData) -> ConversationState:
    """The mirror's view of a conversation as a webhook carries it (the event body or ``message.conversation``).

    Like the REST mapping: an agent bot assignee goes to ``agent_bot_id`` and leaves ``assignee_id`` empty,
    ``last_activity_at`` falls back to the creation time, and ``chatwoot_updated_at`` keeps Chatwoot's float
    ``updated_at`` to the microsecond (it is the ordering guard).
    """
    created_at = conversation.created_at or conversation.timestamp
    if created_at is None:
        raise IncompleteConversation(f"conversation {conversation.id} has no created_at")
    assignee = conversation.meta.assignee
    # REST reads meta.assignee_type only and takes a missing one as a user; the webhook shape also says it in
    # meta.assignee.type, which assignee_kind consults when assignee_type is absent.
    assignee_is_bot = conversation.assignee_kind == "agent_bot"
    contact = conversation.contact
    return ConversationState(
        account_id=account_id,
        conversation_id=conversation.id,
        inbox_id=conversation.inbox_id,
        contact_id=contact.id if contact is not None else None,
        status=conversation.status,
        priority=conversation.priority,
        assignee_id=assignee.id if assignee is not None and not assignee_is_bot else None,
        agent_bot_id=assignee.id if assignee is not None and assignee_is_bot else None,
        team_id=conversation.team_id,
        labels=tuple(conversation.labels),
        custom_attributes=dict(conversation.custom_attributes),
        unread_count=conversation.unread_count,
        last_activity_at=conversation.last_activity_at or created_at,
        waiting_since=conversation.waiting_since,
        snoozed_until=conversation.snoozed_until,
        first_reply_created_at=conversation.first_reply_created_at,
        chatwoot_created_at=created_at,
        chatwoot_updated_at=conversation.updated_at,
    )


def message_from_webhook(
    account_id: int, message: NormalizedMessage, *, deleted: bool, store_content: bool
) -> MessageRecord:
    """A message row. A deleted message keeps no content: Chatwoot's placeholder text is not the message."""
    keep_content = store_content and not deleted
    return MessageRecord(
        account_id=account_id,
        message_id=message.id,
        conversation_id=message.conversation_id,
        message_type=message.message_type,
        private=message.private,
        content_type=message.content_type,
        content=message.content if keep_content else None,
        sender_type=message.sender_type,
        sender_id=message.sender_id,
        deleted=deleted,
        chatwoot_created_at=message.created_at,
    )
