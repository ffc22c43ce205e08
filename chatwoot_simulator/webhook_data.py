"""Webhook payloads exactly as Chatwoot builds them, from the simulator's records.

These are ``Conversations::EventDataPresenter`` and the models' ``webhook_data``, and they differ from the
REST views on purpose (see chatwoot.md 1b): mixed timestamp types, ``availability_status`` null (no
``Current.account`` in the job), ``messages`` holding at most the last public non-activity message.

Every function reads the :class:`Store` and must be called with the simulator's lock held.
"""

from __future__ import annotations

import copy
from typing import Any

from chatwoot_simulator.clock import to_iso, to_unix
from chatwoot_simulator.presenters import (
    contact_push_event_data,
    last_message,
    message_push_event_data,
    unread_count,
    user_push_event_data,
)
from chatwoot_simulator.state import Agent, Contact, Conversation, Message
from chatwoot_simulator.store import Store
from chatwoot_simulator.webhook_types import PendingEvent

JSON = dict[str, Any]


def event_payload(store: Store, event: PendingEvent, *, include_account: bool) -> JSON | None:
    """The body of one delivery as of now, or ``None`` when its subject was deleted (the job is discarded)."""
    data: JSON
    if event.subject == "conversation":
        conversation = store.conversations.get(event.subject_id)
        if conversation is None:
            return None
        data = conversation_webhook_data(store, conversation, include_account=include_account)
    elif event.subject == "message":
        message = store.messages.get(event.subject_id)
        if message is None:
            return None
        data = message_webhook_data(store, message, include_account=include_account)
    else:
        contact = store.contacts.get(event.subject_id)
        if contact is None:
            return None
        data = contact_webhook_data(store, contact)
    data["event"] = event.event
    if event.with_changed_attributes:
        data["changed_attributes"] = copy.deepcopy(event.changed_attributes)
    return data


def contact_webhook_data(store: Store, contact: Contact) -> JSON:
    """``Contact#webhook_data``: contact events and the contact sender of message events (no ``type``)."""
    account = store.account(contact.account_id)
    return {
        "account": {"id": account.id, "name": account.name},
        "additional_attributes": dict(contact.additional_attributes),
        "avatar": "",
        "custom_attributes": dict(contact.custom_attributes),
        "email": contact.email,
        "id": contact.id,
        "identifier": contact.identifier,
        "name": contact.name,
        "phone_number": contact.phone_number,
        "thumbnail": "",
        "blocked": contact.blocked,
    }


def user_webhook_data(agent: Agent) -> JSON:
    """``User#webhook_data``: the agent sender of message events."""
    return {"id": agent.id, "name": agent.name, "email": agent.email, "type": "user"}


def message_webhook_data(store: Store, message: Message, *, include_account: bool) -> JSON:
    """``Message#webhook_data``: string ``message_type``, ISO ``created_at``, full conversation inside."""
    account = store.account(message.account_id)
    conversation = store.conversations[message.conversation_pk]
    inbox = store.inboxes[message.inbox_id]
    sender: JSON | None = None
    if message.sender_type == "Contact" and message.sender_id in store.contacts:
        sender = contact_webhook_data(store, store.contacts[message.sender_id])
    elif message.sender_type == "User" and message.sender_id in store.agents:
        sender = user_webhook_data(store.agents[message.sender_id])
    return {
        "account": {"id": account.id, "name": account.name},
        "additional_attributes": dict(message.additional_attributes),
        "content_attributes": dict(message.content_attributes),
        "content_type": message.content_type,
        "content": message.content,
        "conversation": conversation_webhook_data(store, conversation, include_account=include_account),
        "created_at": to_iso(message.created_at),
        "id": message.id,
        "inbox": {"id": inbox.id, "name": inbox.name},
        "message_type": message.message_type,
        "private": message.private,
        "sender": sender,
        "source_id": message.source_id,
    }


def conversation_webhook_data(store: Store, conversation: Conversation, *, include_account: bool) -> JSON:
    """``Conversation#webhook_data`` (push_data + account), keys in Chatwoot's order."""
    contact = store.contacts[conversation.contact_id]
    inbox = store.inboxes[conversation.inbox_id]
    contact_inbox = store.contact_inboxes[conversation.contact_inbox_id]
    last_chat = last_message(store, conversation, public_chat_only=True)
    assignee = store.agents.get(conversation.assignee_id) if conversation.assignee_id is not None else None
    team = store.teams.get(conversation.team_id) if conversation.team_id is not None else None
    data: JSON = {
        "additional_attributes": dict(conversation.additional_attributes),
        "can_reply": True,
        "channel": inbox.channel_type,
        "contact_inbox": {
            "id": contact_inbox.id,
            "contact_id": contact_inbox.contact_id,
            "inbox_id": contact_inbox.inbox_id,
            "source_id": contact_inbox.source_id,
            "created_at": to_iso(contact_inbox.created_at),
            "updated_at": to_iso(contact_inbox.updated_at),
            "hmac_verified": contact_inbox.hmac_verified,
            "pubsub_token": contact_inbox.pubsub_token,
        },
        "id": conversation.display_id,
        "inbox_id": conversation.inbox_id,
        "messages": [message_push_event_data(store, last_chat, in_request=False)] if last_chat else [],
        "labels": list(conversation.labels),
        "meta": {
            "sender": contact_push_event_data(contact),
            "assignee": user_push_event_data(assignee, in_request=False) if assignee else None,
            "assignee_type": "User" if assignee else None,
            "team": {"id": team.id, "name": team.name} if team else None,
            "hmac_verified": contact_inbox.hmac_verified,
        },
        "status": conversation.status,
        "custom_attributes": dict(conversation.custom_attributes),
        "snoozed_until": to_iso(conversation.snoozed_until),
        "unread_count": unread_count(store, conversation),
        "first_reply_created_at": to_iso(conversation.first_reply_created_at),
        "priority": conversation.priority,
        "waiting_since": to_unix(conversation.waiting_since),
        "agent_last_seen_at": to_unix(conversation.agent_last_seen_at),
        "contact_last_seen_at": to_unix(conversation.contact_last_seen_at),
        "last_activity_at": to_unix(conversation.last_activity_at),
        "timestamp": to_unix(conversation.last_activity_at),
        "created_at": to_unix(conversation.created_at),
        "updated_at": conversation.updated_at,
    }
    if include_account:
        account = store.account(conversation.account_id)
        data["account"] = {"id": account.id, "name": account.name}
    return data
