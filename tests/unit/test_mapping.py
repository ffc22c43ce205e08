"""The one mapping: webhook shapes and REST shapes give the mirror the same state for the same Chatwoot state."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chatwoot_integration.chatwoot.models import Conversation as RestConversation
from chatwoot_integration.mapping import (
    IncompleteConversation,
    contact_record,
    conversation_contact,
    conversation_state,
    message_record,
)
from chatwoot_integration.webhooks.payloads import (
    ContactCreated,
    ContactUpdated,
    ConversationCreated,
    ConversationData,
    ConversationStatusChanged,
    ConversationUpdated,
    MessageCreated,
    MessageUpdated,
    RecordedOnlyEvent,
    parse_webhook,
)
from tests.fixtures.chatwoot_payloads import conversation_payload, fixture_names, load_fixture, message_payload

CONVERSATION_FIXTURES = [
    "conversation_created",
    "conversation_created_without_account",
    "conversation_status_changed",
    "conversation_updated_assigned",
    "conversation_updated_enterprise_sla",
]


def webhook_conversation(body: dict[str, Any]) -> ConversationData:
    return ConversationData.model_validate(body)


@pytest.mark.parametrize("fixture", CONVERSATION_FIXTURES)
def test_a_webhook_and_the_rest_api_showing_the_same_conversation_give_the_same_state(fixture: str) -> None:
    body = load_fixture(fixture)

    from_webhook = conversation_state(3, webhook_conversation(body))
    from_rest = conversation_state(3, RestConversation.model_validate(body))

    assert from_webhook == from_rest


@pytest.mark.parametrize(
    "overrides",
    [
        {"assignee_id": 21, "labels": ["vip", "billing"], "priority": "urgent", "team_id": 2},
        {"assignee_id": 4, "assignee_type": "AgentBot"},
        {"status": "snoozed", "snoozed_until": "2026-06-18T09:00:00.000Z"},
        {"waiting_since": 0, "last_activity_at": 0, "unread_count": 4, "custom_attributes": {"cpf": "123"}},
    ],
    ids=["assigned", "bot", "snoozed", "zeros"],
)
def test_the_same_state_through_both_mappings_for_built_bodies(overrides: dict[str, Any]) -> None:
    body = conversation_payload(event=None, updated_at=1781691999.000001, **overrides)

    assert conversation_state(3, webhook_conversation(body)) == conversation_state(
        3, RestConversation.model_validate(body)
    )


def test_an_agent_bot_assignee_is_kept_apart_from_agents() -> None:
    body = conversation_payload(event=None, assignee_id=4, assignee_type="AgentBot")

    state = conversation_state(3, webhook_conversation(body))

    assert (state.assignee_id, state.agent_bot_id) == (None, 4)


def test_updated_at_keeps_its_microseconds_and_zero_times_are_empty() -> None:
    body = conversation_payload(event=None, updated_at=1781691130.548213, waiting_since=0, last_activity_at=0)

    state = conversation_state(3, webhook_conversation(body))

    assert state.chatwoot_updated_at == datetime(2026, 6, 17, 10, 12, 10, 548213, tzinfo=UTC)
    assert state.waiting_since is None
    assert state.last_activity_at == state.chatwoot_created_at == datetime.fromtimestamp(1781691130, UTC)


def test_the_mirror_key_is_the_integration_given_not_the_payloads_account() -> None:
    body = conversation_payload(event=None, account_id=99)

    assert conversation_state(3, webhook_conversation(body)).integration_id == 3


def test_a_conversation_without_any_creation_time_cannot_be_mapped() -> None:
    body = conversation_payload(event=None)
    body.update(created_at=0, timestamp=0)

    with pytest.raises(IncompleteConversation):
        conversation_state(3, webhook_conversation(body))


def test_the_conversations_contact_keeps_its_identifying_fields() -> None:
    body = conversation_payload(event=None, contact_id=900)
    body["meta"]["sender"].update(name="Maria", email="maria@example.com", phone_number="+55119", identifier="c-9")

    sender = webhook_conversation(body).meta.sender
    assert sender is not None

    contact = contact_record(3, sender)

    assert contact.model_dump() == {
        "integration_id": 3,
        "contact_id": 900,
        "name": "Maria",
        "email": "maria@example.com",
        "phone_number": "+55119",
        "identifier": "c-9",
    }


def test_a_message_keeps_its_content_only_when_allowed_and_never_once_deleted() -> None:
    event = parse_webhook(message_payload(content="hello"))
    assert isinstance(event, MessageCreated)

    kept = message_record(3, event.message, deleted=False, store_content=True)
    withheld = message_record(3, event.message, deleted=False, store_content=False)
    deleted = message_record(3, event.message, deleted=True, store_content=True)

    assert (kept.content, withheld.content, deleted.content) == ("hello", None, None)
    assert (kept.message_type, kept.sender_type, kept.sender_id, kept.conversation_id) == (
        "incoming",
        "contact",
        812,
        1043,
    )
    assert deleted.deleted is True


@pytest.mark.parametrize("fixture", fixture_names())
def test_every_stored_body_maps_to_the_mirror_state_it_describes(fixture: str) -> None:
    body = load_fixture(fixture)
    event = parse_webhook(body)

    if isinstance(event, ConversationCreated | ConversationUpdated | ConversationStatusChanged):
        state = conversation_state(3, event)
        assert (state.integration_id, state.conversation_id, state.status) == (3, body["id"], body["status"])
        assert state.inbox_id == body["inbox_id"] and list(state.labels) == (body.get("labels") or [])
        assert state == conversation_state(3, RestConversation.model_validate(body))
        contact = conversation_contact(3, event)
        assert (contact.contact_id if contact else None) == (body["meta"].get("sender") or {}).get("id")
    elif isinstance(event, MessageCreated | MessageUpdated):
        deleted = bool((body.get("content_attributes") or {}).get("deleted"))
        record = message_record(3, event.message, deleted=deleted, store_content=True)
        assert (record.integration_id, record.message_id, record.conversation_id) == (
            3,
            body["id"],
            body["conversation"]["id"],
        )
        assert record.content == (None if deleted else body.get("content"))
        assert conversation_state(3, event.conversation).conversation_id == body["conversation"]["id"]
    elif isinstance(event, ContactCreated | ContactUpdated):
        contact = contact_record(3, event)
        assert contact.model_dump() == {
            "integration_id": 3,
            "contact_id": body["id"],
            "name": body.get("name"),
            "email": body.get("email"),
            "phone_number": body.get("phone_number"),
            "identifier": body.get("identifier"),
        }
    else:
        assert isinstance(event, RecordedOnlyEvent)
        assert (event.conversation, event.message, event.contact) == (None, None, None)
