"""Chatwoot's shapes mapped to the mirror's state: the one mapping the webhook processor and the sync share.

Chatwoot describes a conversation, a contact and a message in two shapes: the webhook payloads
(``webhooks.shapes``) and the REST responses (``chatwoot.models``). Both models expose the same accessors
(``assigned_user_id``, ``assigned_agent_bot_id``, ``contact``, ``contact_id``, ``team_id``,
``updated_at_datetime``), so each function here reads either shape the same way, and a webhook and the sync
write identical rows for the same Chatwoot state:

- an agent bot assignee goes to ``agent_bot_id`` and leaves ``assignee_id`` empty;
- ``last_activity_at`` falls back to the creation time, and the creation time to ``timestamp``;
- ``chatwoot_updated_at`` keeps Chatwoot's float ``updated_at`` to the microsecond (it is the ordering guard);
- a deleted message keeps no content (Chatwoot's placeholder text is not the message), activities are not kept.

The shapes are imported for annotations only: a function loads the models of the shapes it actually reads.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import ValidationError

from .models.agent import AgentState
from .models.conversation import ConversationState
from .models.message import MessageRecord
from .models.party import Contact
from .observability import logger

if TYPE_CHECKING:
    from .chatwoot.models import Agent as RestAgent
    from .chatwoot.models import Conversation as RestConversation
    from .chatwoot.models import Message as RestMessage
    from .webhooks.shapes import NormalizedMessage


class IncompleteConversation(ValueError):
    """A conversation without the times the mirror needs (``created_at``/``timestamp``, ``updated_at``)."""


class ChatwootContact(Protocol):
    """What every contact shape Chatwoot sends has: a webhook's contact or sender, a REST ``meta.sender``."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone_number(self) -> str | None: ...
    @property
    def identifier(self) -> str | None: ...


class ChatwootConversation(Protocol):
    """What both conversation shapes (a webhook's ``ConversationData``, a REST ``Conversation``) expose."""

    @property
    def id(self) -> int: ...
    @property
    def inbox_id(self) -> int: ...
    @property
    def status(self) -> Any: ...
    @property
    def priority(self) -> Any: ...
    @property
    def labels(self) -> list[str]: ...
    @property
    def custom_attributes(self) -> dict[str, Any]: ...
    @property
    def unread_count(self) -> int: ...
    @property
    def last_activity_at(self) -> datetime | None: ...
    @property
    def waiting_since(self) -> datetime | None: ...
    @property
    def snoozed_until(self) -> datetime | None: ...
    @property
    def first_reply_created_at(self) -> datetime | None: ...
    @property
    def created_at(self) -> datetime | None: ...
    @property
    def timestamp(self) -> datetime | None: ...
    @property
    def team_id(self) -> int | None: ...
    @property
    def contact_id(self) -> int | None: ...
    @property
    def contact(self) -> ChatwootContact | None: ...
    @property
    def assigned_user_id(self) -> int | None: ...
    @property
    def assigned_agent_bot_id(self) -> int | None: ...
    @property
    def updated_at_datetime(self) -> datetime | None: ...


def conversation_state(integration_id: int, conversation: ChatwootConversation) -> ConversationState:
    """The mirror's view of a conversation, from a webhook body, ``message.conversation`` or a REST read."""
    created_at = conversation.created_at or conversation.timestamp
    updated_at = conversation.updated_at_datetime
    if created_at is None or updated_at is None:
        raise IncompleteConversation(f"conversation {conversation.id} lacks created_at or updated_at")
    return ConversationState(
        integration_id=integration_id,
        conversation_id=conversation.id,
        inbox_id=conversation.inbox_id,
        contact_id=conversation.contact_id,
        status=conversation.status,
        priority=conversation.priority,
        assignee_id=conversation.assigned_user_id,
        agent_bot_id=conversation.assigned_agent_bot_id,
        team_id=conversation.team_id,
        labels=tuple(conversation.labels),
        custom_attributes=dict(conversation.custom_attributes),
        unread_count=conversation.unread_count,
        last_activity_at=conversation.last_activity_at or created_at,
        waiting_since=conversation.waiting_since,
        snoozed_until=conversation.snoozed_until,
        first_reply_created_at=conversation.first_reply_created_at,
        chatwoot_created_at=created_at,
        chatwoot_updated_at=updated_at,
    )


def contact_record(integration_id: int, contact: ChatwootContact) -> Contact:
    """The fields kept for linking a contact to the platform's parties, from whichever shape carries them."""
    return Contact(
        integration_id=integration_id,
        contact_id=contact.id,
        name=contact.name,
        email=contact.email,
        phone_number=contact.phone_number,
        identifier=contact.identifier,
    )


def conversation_contact(integration_id: int, conversation: ChatwootConversation) -> Contact | None:
    """The conversation's contact (``meta.sender``), when it names one."""
    contact = conversation.contact
    return contact_record(integration_id, contact) if contact is not None else None


def message_record(
    integration_id: int, message: NormalizedMessage, *, deleted: bool, store_content: bool
) -> MessageRecord:
    """A message row, from a message event or a message nested in a conversation (normalised first)."""
    keep_content = store_content and not deleted
    return MessageRecord(
        integration_id=integration_id,
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


def rest_message_records(
    integration_id: int, display_id: int, messages: Sequence[RestMessage], *, store_content: bool
) -> list[MessageRecord]:
    """The messages the mirror keeps from a REST messages page (incoming, outgoing, template; private notes
    included; no activities). A REST message has the shape of the message nested in a webhook's conversation
    (integer ``message_type``, unix ``created_at``), so it is read through that model: the same sender
    vocabulary, the same deleted rule as a webhook."""
    # The webhook models load on the first catch-up, not at cold start: many sync runs find no new message.
    from .webhooks.shapes import ConversationMessage  # noqa: PLC0415

    rows: list[MessageRecord] = []
    for message in messages:
        try:
            nested = ConversationMessage.model_validate(message.model_dump())
        except ValidationError:
            logger.warning(
                "message skipped: its REST shape cannot be read",
                extra={"integration_id": integration_id, "conversation_id": display_id, "message_id": message.id},
            )
            continue
        normal = nested.normalized(display_id)
        if normal.message_type == "activity":
            continue
        deleted = bool(nested.content_attributes.get("deleted"))
        rows.append(message_record(integration_id, normal, deleted=deleted, store_content=store_content))
    return rows


def last_message_id(conversation: RestConversation) -> int | None:
    """Id of the conversation's newest message that is not an activity, as the REST list shows it.

    ``last_non_activity_message`` is that message (private notes included). Chatwoot versions without it still
    send ``messages[0]``, the newest message of any kind: it only counts when it is not an activity, because
    activities are never stored and would make every status change look like a missing message.
    """
    from .chatwoot.models import MessageType  # noqa: PLC0415

    if conversation.last_non_activity_message is not None:
        return conversation.last_non_activity_message.id
    for message in conversation.messages:
        if message.message_type != MessageType.ACTIVITY:
            return message.id
    return None


def agent_states(integration_id: int, account_id: int, agents: Iterable[RestAgent]) -> list[AgentState]:
    """The agents of the integration's Chatwoot account (``account_id``) as the mirror keeps them; Chatwoot leaves
    role and availability out for some users."""
    return [
        AgentState(
            integration_id=integration_id,
            agent_id=agent.id,
            name=agent.name or agent.available_name or "",
            email=agent.email,
            role=agent.role or "agent",
            availability=agent.availability_status or "offline",
        )
        for agent in agents
        if agent.account_id in (None, account_id)
    ]
