"""REST views exactly as Chatwoot renders them, and the ``push_event_data`` pieces webhooks share.

REST views (``rest_*``) are the jbuilder partials of ``app/views/api/v1``: conversation timestamps are
integers except ``updated_at`` (float); absent assignee/team keys are omitted, not null. The
``*_push_event_data`` shapes are the models' own, nested in REST views and in webhook payloads alike;
``in_request`` is what tells them apart (see chatwoot.md 1b and 1d). Webhook payloads themselves are
built in :mod:`chatwoot_simulator.webhook_data`.

Every function reads the :class:`Store` and must be called with the simulator's lock held.
"""

from __future__ import annotations

from typing import Any

from chatwoot_simulator.clock import to_iso, to_unix
from chatwoot_simulator.state import (
    MESSAGE_TYPE_CODES,
    Agent,
    Contact,
    Conversation,
    Inbox,
    Message,
    Team,
)
from chatwoot_simulator.store import Store

JSON = dict[str, Any]


# ---------------------------------------------------------------- people


def contact_push_event_data(contact: Contact) -> JSON:
    """``Contact#push_event_data``: the sender inside conversation and message payloads."""
    return {
        "additional_attributes": dict(contact.additional_attributes),
        "custom_attributes": dict(contact.custom_attributes),
        "email": contact.email,
        "id": contact.id,
        "identifier": contact.identifier,
        "name": contact.name,
        "phone_number": contact.phone_number,
        "thumbnail": "",
        "blocked": contact.blocked,
        "type": "contact",
    }


def user_push_event_data(agent: Agent, *, in_request: bool) -> JSON:
    """``User#push_event_data``. Availability needs ``Current.account``, which only a request sets."""
    return {
        "id": agent.id,
        "name": agent.name,
        "available_name": agent.available_name,
        "avatar_url": "",
        "type": "user",
        "availability_status": agent.availability if in_request else None,
        "thumbnail": "",
    }


def rest_agent(agent: Agent) -> JSON:
    """``api/v1/models/_agent.json.jbuilder`` (community edition: no ``custom_role_id``)."""
    return {
        "id": agent.id,
        "account_id": agent.account_id,
        "availability_status": agent.availability,
        "auto_offline": agent.auto_offline,
        "confirmed": agent.confirmed,
        "email": agent.email,
        "provider": "email",
        "available_name": agent.available_name,
        "name": agent.name,
        "role": agent.role,
        "thumbnail": "",
    }


def rest_contact(store: Store, contact: Contact, *, with_contact_inboxes: bool = False) -> JSON:
    """``api/v1/models/_contact.json.jbuilder``; ``contact_inboxes`` only on the /contacts endpoints."""
    data: JSON = {
        "additional_attributes": dict(contact.additional_attributes),
        "availability_status": "offline",
        "email": contact.email,
        "id": contact.id,
        "name": contact.name,
        "phone_number": contact.phone_number,
        "blocked": contact.blocked,
        "identifier": contact.identifier,
        "thumbnail": "",
        "custom_attributes": dict(contact.custom_attributes),
    }
    if contact.last_activity_at is not None:
        data["last_activity_at"] = to_unix(contact.last_activity_at)
    data["created_at"] = to_unix(contact.created_at)
    if with_contact_inboxes:
        links = sorted(
            (link for link in store.contact_inboxes.values() if link.contact_id == contact.id),
            key=lambda link: link.id,
        )
        data["contact_inboxes"] = [
            {"source_id": link.source_id, "inbox": rest_inbox_slim(store.inboxes[link.inbox_id])} for link in links
        ]
    return data


# ---------------------------------------------------------------- inboxes and teams


def rest_inbox_slim(inbox: Inbox) -> JSON:
    return {
        "id": inbox.id,
        "avatar_url": "",
        "channel_id": inbox.channel_id,
        "name": inbox.name,
        "channel_type": inbox.channel_type,
        "provider": inbox.settings.get("provider"),
    }


def rest_inbox(inbox: Inbox) -> JSON:
    """``api/v1/models/_inbox.json.jbuilder``: common keys plus the channel's own (never its secrets)."""
    data: JSON = {
        "id": inbox.id,
        "avatar_url": "",
        "channel_id": inbox.channel_id,
        "name": inbox.name,
        "channel_type": inbox.channel_type,
        "greeting_enabled": False,
        "greeting_message": None,
        "working_hours_enabled": False,
        "enable_email_collect": True,
        "csat_survey_enabled": False,
        "enable_auto_assignment": inbox.enable_auto_assignment,
        "auto_assignment_config": {},
        "out_of_office_message": None,
        "working_hours": [],
        "timezone": "America/Sao_Paulo",
        "callback_webhook_url": None,
        "allow_messages_after_resolved": True,
        "lock_to_single_conversation": False,
        "sender_name_type": "friendly",
        "business_name": None,
    }
    data.update(inbox.settings)
    return data


def rest_team(team: Team, *, viewer_id: int | None) -> JSON:
    """``api/v1/models/_team.json.jbuilder``; ``is_member`` is relative to the token's user."""
    return {
        "id": team.id,
        "name": team.name,
        "description": team.description,
        "allow_auto_assign": team.allow_auto_assign,
        "account_id": team.account_id,
        "is_member": viewer_id in team.member_ids,
    }


def team_record(team: Team) -> JSON:
    """``render json: @team``: the bare ActiveRecord row, as the team assignment endpoint answers."""
    return {
        "id": team.id,
        "name": team.name,
        "description": team.description,
        "allow_auto_assign": team.allow_auto_assign,
        "account_id": team.account_id,
        "created_at": to_iso(team.created_at),
        "updated_at": to_iso(team.updated_at),
    }


# ---------------------------------------------------------------- messages


def unread_count(store: Store, conversation: Conversation) -> int:
    """Incoming messages after the agent last looked (all of them if no agent ever looked)."""
    seen = conversation.agent_last_seen_at
    return sum(
        1
        for message in store.conversation_messages(conversation)
        if message.message_type == "incoming" and (seen is None or message.created_at > seen)
    )


def _sender_push(store: Store, message: Message, *, in_request: bool) -> JSON | None:
    if message.sender_type == "Contact" and message.sender_id in store.contacts:
        return contact_push_event_data(store.contacts[message.sender_id])
    if message.sender_type == "User" and message.sender_id in store.agents:
        return user_push_event_data(store.agents[message.sender_id], in_request=in_request)
    return None


def message_push_event_data(store: Store, message: Message, *, in_request: bool) -> JSON:
    """``Message#push_event_data``: the message inside conversation objects (integer ``message_type``)."""
    conversation = store.conversations[message.conversation_pk]
    contact_inbox = store.contact_inboxes[conversation.contact_inbox_id]
    data: JSON = {
        "id": message.id,
        "content": message.content,
        "account_id": message.account_id,
        "inbox_id": message.inbox_id,
        "conversation_id": conversation.display_id,
        "message_type": MESSAGE_TYPE_CODES[message.message_type],
        "created_at": to_unix(message.created_at),
        "updated_at": to_iso(message.updated_at),
        "private": message.private,
        "status": message.status,
        "source_id": message.source_id,
        "content_type": message.content_type,
        "content_attributes": dict(message.content_attributes),
        "sender_type": message.sender_type,
        "sender_id": message.sender_id,
        "external_source_ids": {},
        "additional_attributes": dict(message.additional_attributes),
        "processed_message_content": message.content,
        "sentiment": {},
        "conversation": {
            "assignee_id": conversation.assignee_id,
            "unread_count": unread_count(store, conversation),
            "last_activity_at": to_unix(conversation.last_activity_at),
            "contact_inbox": {"source_id": contact_inbox.source_id},
        },
    }
    sender = _sender_push(store, message, in_request=in_request)
    if sender is not None:
        data["sender"] = sender
    return data


def rest_message(store: Store, message: Message) -> JSON:
    """``api/v1/models/_message.json.jbuilder``: one element of the messages endpoint's payload."""
    conversation = store.conversations[message.conversation_pk]
    data: JSON = {
        "id": message.id,
        "content": message.content,
        "inbox_id": message.inbox_id,
        "conversation_id": conversation.display_id,
        "message_type": MESSAGE_TYPE_CODES[message.message_type],
        "content_type": message.content_type,
        "status": message.status,
        "content_attributes": dict(message.content_attributes),
        "created_at": to_unix(message.created_at),
        "private": message.private,
        "source_id": message.source_id,
    }
    sender = _sender_push(store, message, in_request=True)
    if sender is not None:
        data["sender"] = sender
    return data


# ---------------------------------------------------------------- conversations


def last_message(store: Store, conversation: Conversation, *, public_chat_only: bool) -> Message | None:
    """The latest message that is not an activity (and, with ``public_chat_only``, not a private note)."""
    for message_id in reversed(conversation.message_ids):
        message = store.messages[message_id]
        if message.message_type == "activity":
            continue
        if public_chat_only and message.private:
            continue
        return message
    return None


def rest_conversation(store: Store, conversation: Conversation, *, viewer_id: int | None) -> JSON:
    """``api/v1/conversations/partials/_conversation.json.jbuilder`` (list and show)."""
    contact = store.contacts[conversation.contact_id]
    inbox = store.inboxes[conversation.inbox_id]
    contact_inbox = store.contact_inboxes[conversation.contact_inbox_id]
    meta: JSON = {"sender": rest_contact(store, contact), "channel": inbox.channel_type}
    if conversation.assignee_id is not None and conversation.assignee_id in store.agents:
        meta["assignee"] = rest_agent(store.agents[conversation.assignee_id])
        meta["assignee_type"] = "User"
    if conversation.team_id is not None and conversation.team_id in store.teams:
        meta["team"] = rest_team(store.teams[conversation.team_id], viewer_id=viewer_id)
    meta["hmac_verified"] = contact_inbox.hmac_verified

    # The list shows the very last message of any kind; the preview skips activity messages only.
    last_any = store.messages[conversation.message_ids[-1]] if conversation.message_ids else None
    last_non_activity = last_message(store, conversation, public_chat_only=False)
    return {
        "meta": meta,
        "id": conversation.display_id,
        "messages": [message_push_event_data(store, last_any, in_request=True)] if last_any else [],
        "account_id": conversation.account_id,
        "uuid": conversation.uuid,
        "additional_attributes": dict(conversation.additional_attributes),
        "agent_last_seen_at": to_unix(conversation.agent_last_seen_at),
        "assignee_last_seen_at": to_unix(conversation.assignee_last_seen_at),
        "can_reply": True,
        "contact_last_seen_at": to_unix(conversation.contact_last_seen_at),
        "custom_attributes": dict(conversation.custom_attributes),
        "inbox_id": conversation.inbox_id,
        "labels": list(conversation.labels),
        "muted": conversation.muted,
        "snoozed_until": to_iso(conversation.snoozed_until),
        "status": conversation.status,
        "created_at": to_unix(conversation.created_at),
        "updated_at": conversation.updated_at,
        "timestamp": to_unix(conversation.last_activity_at),
        "first_reply_created_at": to_unix(conversation.first_reply_created_at),
        "unread_count": unread_count(store, conversation),
        "last_non_activity_message": (
            message_push_event_data(store, last_non_activity, in_request=True) if last_non_activity else None
        ),
        "last_activity_at": to_unix(conversation.last_activity_at),
        "priority": conversation.priority,
        "waiting_since": to_unix(conversation.waiting_since),
        "sla_policy_id": None,
    }
