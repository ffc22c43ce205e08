"""The payload builders other tests rely on produce bodies the parser reads as intended."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from chatwoot_integration.webhooks.payloads import (
    ContactCreated,
    ContactUpdated,
    ConversationCreated,
    ConversationData,
    ConversationStatusChanged,
    ConversationUpdated,
    MessageCreated,
    MessageUpdated,
    parse_webhook,
)
from chatwoot_integration.webhooks.signature import verify_signature
from tests.fixtures.chatwoot_payloads import (
    contact_payload,
    conversation_payload,
    load_fixture,
    message_payload,
    raw_body,
    webhook_headers,
)


def test_default_conversation_payload_is_the_stored_conversation_created() -> None:
    assert conversation_payload() == load_fixture("conversation_created")


def test_conversation_payload_honours_its_arguments() -> None:
    body = conversation_payload(
        account_id=5,
        conversation_id=77,
        status="pending",
        updated_at=datetime(2026, 6, 17, 12, 0, 0, 123456, tzinfo=UTC),
        assignee_id=21,
        labels=["vip", "billing"],
        event="conversation_updated",
        inbox_id=9,
        priority="high",
        team_id=2,
        contact_id=900,
    )

    event = parse_webhook(raw_body(body))

    assert isinstance(event, ConversationUpdated)
    assert event.account_id == 5
    assert event.id == 77
    assert event.status == "pending"
    assert event.updated_at == datetime(2026, 6, 17, 12, 0, 0, 123456, tzinfo=UTC)
    assert event.assigned_user_id == 21
    assert event.labels == ["vip", "billing"]
    assert event.inbox_id == 9
    assert event.priority == "high"
    assert event.team_id == 2
    assert event.contact is not None
    assert event.contact.id == 900
    last = event.last_message
    assert last is not None
    assert (last.account_id, last.conversation_id, last.inbox_id, last.sender_id) == (5, 77, 9, 900)
    assert body["messages"][0]["conversation"]["assignee_id"] == 21


def test_conversation_payload_changed_attributes_follow_chatwoot_per_event() -> None:
    assert "changed_attributes" not in conversation_payload(event="conversation_created")
    assert conversation_payload(event="conversation_status_changed")["changed_attributes"] is None
    updated = conversation_payload(event="conversation_updated", updated_at=1781691930.117406)
    assert updated["changed_attributes"] == [
        {"updated_at": {"previous_value": None, "current_value": "2026-06-17T10:25:30.117Z"}}
    ]


@pytest.mark.parametrize(
    ("event_name", "model"),
    [
        ("conversation_created", ConversationCreated),
        ("conversation_updated", ConversationUpdated),
        ("conversation_status_changed", ConversationStatusChanged),
    ],
)
def test_conversation_payload_event_selects_the_model(event_name: str, model: type) -> None:
    assert type(parse_webhook(conversation_payload(event=event_name))) is model


def test_conversation_payload_variants_for_old_chatwoot_and_bots() -> None:
    body = conversation_payload(with_account=False, messages=[], assignee_id=4, assignee_type="AgentBot")

    event = parse_webhook(raw_body(body))

    assert isinstance(event, ConversationCreated)
    assert "account" not in body
    assert event.account_id is None
    assert event.messages == []
    assert event.assigned_agent_bot_id == 4
    assert event.assigned_user_id is None


def test_conversation_payload_without_event_is_bare_webhook_data() -> None:
    body = conversation_payload(event=None)

    assert "event" not in body
    assert ConversationData.model_validate(body).id == 1043


def test_conversation_payload_extra_keys_are_merged() -> None:
    body = conversation_payload(extra={"sla_policy_id": 4, "applied_sla": {"id": 1}})

    assert body["sla_policy_id"] == 4
    assert isinstance(parse_webhook(body), ConversationCreated)


@pytest.mark.parametrize(
    ("sender", "kind", "sender_id"),
    [("contact", "contact", 812), ("user", "user", 21), ("agent_bot", "agent_bot", 4), (None, None, None)],
)
def test_message_payload_sender_shapes(sender: str | None, kind: str | None, sender_id: int | None) -> None:
    body = message_payload(sender=sender, message_type="incoming" if sender == "contact" else "outgoing")

    event = parse_webhook(raw_body(body))

    assert isinstance(event, MessageCreated)
    assert event.message.sender_type == kind
    assert event.message.sender_id == sender_id
    if sender == "contact":
        assert "type" not in body["sender"]


def test_message_payload_honours_its_arguments() -> None:
    body = message_payload(
        account_id=5,
        conversation_id=77,
        message_id=90001,
        message_type="outgoing",
        content="Olá",
        private=True,
        created_at=datetime(2026, 6, 17, 12, 0, 0, 250000, tzinfo=UTC),
        sender="user",
        event="message_updated",
        inbox_id=9,
    )

    event = parse_webhook(raw_body(body))

    assert isinstance(event, MessageUpdated)
    assert body["created_at"] == "2026-06-17T12:00:00.250Z"
    message = event.message
    assert (message.id, message.conversation_id, message.account_id, message.inbox_id) == (90001, 77, 5, 9)
    assert message.message_type == "outgoing"
    assert message.private is True
    assert message.content == "Olá"
    assert event.conversation.account_id == 5


def test_message_payload_without_account_drops_only_the_nested_one() -> None:
    body = message_payload(with_account=False)

    assert "account" not in body["conversation"]
    assert body["account"]["id"] == 3


def test_contact_payload_created_and_updated() -> None:
    created = parse_webhook(contact_payload(contact_id=900, email="a@example.com"))
    updated_body = contact_payload(event="contact_updated", name="Maria Souza")
    updated = parse_webhook(raw_body(updated_body))

    assert isinstance(created, ContactCreated)
    assert created.id == 900
    assert created.email == "a@example.com"
    assert isinstance(updated, ContactUpdated)
    assert updated.name == "Maria Souza"
    assert updated.changes["updated_at"].current_value == "2026-06-17T10:15:31.207Z"


def test_builders_return_fresh_copies() -> None:
    first = conversation_payload()
    first["meta"]["sender"]["name"] = "changed"

    assert conversation_payload()["meta"]["sender"]["name"] == "quiet-river-118"


def test_webhook_headers_verify_with_the_production_verifier() -> None:
    body = raw_body(message_payload())

    headers = webhook_headers(body, "s3cret", 1781691200, delivery_id="6f1c7c1e-3c5e-4a55-9b43-0f6f3f6f4a10")

    assert headers["X-Chatwoot-Delivery"] == "6f1c7c1e-3c5e-4a55-9b43-0f6f3f6f4a10"
    assert verify_signature(
        "s3cret", headers["X-Chatwoot-Timestamp"], headers["X-Chatwoot-Signature"], body, now=1781691200
    )


def test_webhook_headers_without_secret_are_unsigned() -> None:
    headers = webhook_headers(b"{}", None, 1781691200)

    assert "X-Chatwoot-Signature" not in headers
    assert "X-Chatwoot-Timestamp" not in headers
    assert headers["X-Chatwoot-Delivery"]


def test_raw_body_is_compact_utf8() -> None:
    assert raw_body({"content": "Olá", "id": 1}) == '{"content":"Olá","id":1}'.encode()
