"""Chatwoot's REST shapes mapped to what the mirror stores (conversations go through ``state_from_rest``).

Messages are read through the webhook package's nested-message model, the same shape (integer
``message_type``, unix ``created_at``), and become rows through the webhook processor's own mapping, so a message
stored by the sync and one stored from a webhook are the same row: the same sender vocabulary, the same deleted
rule.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from pydantic import ValidationError

from ..chatwoot import Agent, Conversation, Message, MessageType
from ..models.agent import AgentState
from ..models.party import Contact
from ..observability import logger
from ..repositories.messages import MessageRecord


def agent_states(account_id: int, agents: Iterable[Agent]) -> list[AgentState]:
    """The account's agents as the mirror keeps them; Chatwoot leaves role and availability out for some users."""
    return [
        AgentState(
            account_id=account_id,
            agent_id=agent.id,
            name=agent.name or agent.available_name or "",
            email=agent.email,
            role=agent.role or "agent",
            availability=agent.availability_status or "offline",
        )
        for agent in agents
        if agent.account_id in (None, account_id)
    ]


def contact_of(account_id: int, conversation: Conversation) -> Contact | None:
    sender = conversation.meta.sender
    if sender is None:
        return None
    return Contact.from_chatwoot(account_id, sender)


def last_message_id(conversation: Conversation) -> int | None:
    """Id of the conversation's newest message that is not an activity, as the list shows it.

    ``last_non_activity_message`` is that message (private notes included). Chatwoot versions without it still
    send ``messages[0]``, the newest message of any kind: it only counts when it is not an activity, because
    activities are never stored and would make every status change look like a missing message.
    """
    if conversation.last_non_activity_message is not None:
        return conversation.last_non_activity_message.id
    for message in conversation.messages:
        if message.message_type != MessageType.ACTIVITY:
            return message.id
    return None


def message_rows(
    account_id: int, display_id: int, messages: Sequence[Message], *, store_content: bool
) -> list[MessageRecord]:
    """The messages the mirror keeps (incoming, outgoing, template; private notes included; no activities), as the
    webhook processor would store them."""
    # The webhook models load on the first catch-up, not at cold start: many runs find no new message.
    from ..ingest.mapping import message_from_webhook  # noqa: PLC0415
    from ..webhooks.payloads import ConversationMessage  # noqa: PLC0415

    rows: list[MessageRecord] = []
    for message in messages:
        try:
            nested = ConversationMessage.model_validate(message.model_dump())
        except ValidationError:
            logger.warning(
                "message skipped: its REST shape cannot be read",
                extra={"account_id": account_id, "conversation_id": display_id, "message_id": message.id},
            )
            continue
        normal = nested.normalized(display_id)
        if normal.message_type == "activity":
            continue
        deleted = bool(nested.content_attributes.get("deleted"))
        rows.append(message_from_webhook(account_id, normal, deleted=deleted, store_content=store_content))
    return rows
