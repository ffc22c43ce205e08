"""Webhook shapes map to the mirror's models with the same meaning as the REST sync's mapping."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chatwoot_integration.chatwoot.models import Conversation as RestConversation
from chatwoot_integration.ingest.mapping import (
    IncompleteConversation,
    message_from_webhook,
    state_from_webhook,
)
from chatwoot_integration.models.party import Contact
from chatwoot_integration.services.mirror import state_from_rest
from chatwoot_integration.webhooks.payloads import ConversationData, MessageCreated, parse_webhook
from tests.fixtures.chatwoot_payloads import conversation_payload, load_fixture, message_payload

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

    from_webhook = state_from_webhook(3, webhook_conversation(body))
    from_rest = state_from_rest(3, RestConversation.model_validate(body))

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

    assert state_from_webhook(3, webhook_conversation(body)) == state_from_rest(
        3, RestConversation.model_validate(body)
    )


def test_an_agent_bot_assignee_is_kept_apart_from_agents() -> None:
    body = conversation_payload(event=None, assignee_id=4, assignee_type="AgentBot")

    state = state_from_webhook(3, webhook_conversation(body))

    assert (state.assignee_id, state.agent_bot_id) == (None, 4)


def test_updated_at_keeps_its_microseconds_and_zero_times_are_empty() -> None:
    body = conversation_payload(event=None, updated_at=1781691130.548213, waiting_since=0, last_activity_at=0)

    state = state_from_webhook(3, webhook_conversation(body))

    assert state.chatwoot_updated_at == datetime(2026, 6, 17, 10, 12, 10, 548213, tzinfo=UTC)
    assert state.waiting_since is None
    assert state.last_activity_at == state.chatwoot_created_at == datetime.fromtimestamp(1781691130, UTC)


def test_the_account_is_the_one_given_not_the_payloads() -> None:
    body = conversation_payload(event=None, account_id=99)

    assert state_from_webhook(3, webhook_conversation(body)).account_id == 3


def test_a_conversation_without_any_creation_time_cannot_be_mapped() -> None:
    body = conversation_payload(event=None)
    body.update(created_at=0, timestamp=0)

    with pytest.raises(IncompleteConversation):
        state_from_webhook(3, webhook_conversation(body))


def test_the_conversations_contact_keeps_its_identifying_fields() -> None:
    body = conversation_payload(event=None, contact_id=900)
    body["meta"]["sender"].update(name="Maria", email="maria@example.com", phone_number="+55119", identifier="c-9")

    sender = webhook_conversation(body).meta.sender
    assert sender is not None

    contact = Contact.from_chatwoot(3, sender)

    assert contact.model_dump() == {
        "account_id": 3,
        "contact_id": 900,
        "name": "Maria",
        "email": "maria@example.com",
        "phone_number": "+55119",
        "identifier": "c-9",
    }


def test_a_message_keeps_its_content_only_when_allowed_and_never_once_deleted() -> None:
    event = parse_webhook(message_payload(content="hello"))
    assert isinstance(event, MessageCreated)

    kept = message_from_webhook(3, event.message, deleted=False, store_content=True)
    withheld = message_from_webhook(3, event.message, deleted=False, store_content=False)
    deleted = message_from_webhook(3, event.message, deleted=True, store_content=True)

    assert (kept.content, withheld.content, deleted.content) == ("hello", None, None)
    assert (kept.message_type, kept.sender_type, kept.sender_id, kept.conversation_id) == (
        "incoming",
        "contact",
        812,
        1043,
    )
    assert deleted.deleted is True
