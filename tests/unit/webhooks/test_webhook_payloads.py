"""Parsing Chatwoot webhook bodies into the per-event models."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from chatwoot_integration.webhooks.payloads import (
    KNOWN_EVENTS,
    ContactCreated,
    ContactUpdated,
    ConversationCreated,
    ConversationData,
    ConversationStatusChanged,
    ConversationTypingOff,
    ConversationTypingOn,
    ConversationUpdated,
    InboxCreated,
    InboxUpdated,
    InvalidPayload,
    MessageCreated,
    MessageUpdated,
    RecordedOnlyEvent,
    UnknownEvent,
    WebwidgetTriggered,
    normalize_sender_type,
    parse_webhook,
)
from tests.fixtures.chatwoot_payloads import fixture_names, load_fixture, raw_body

EXPECTED_MODEL: dict[str, type[BaseModel]] = {
    "contact_created": ContactCreated,
    "contact_updated": ContactUpdated,
    "contact_updated_last_activity": ContactUpdated,
    "conversation_created": ConversationCreated,
    "conversation_created_without_account": ConversationCreated,
    "conversation_status_changed": ConversationStatusChanged,
    "conversation_typing_off": ConversationTypingOff,
    "conversation_typing_on": ConversationTypingOn,
    "conversation_updated_assigned": ConversationUpdated,
    "conversation_updated_enterprise_sla": ConversationUpdated,
    "inbox_created": InboxCreated,
    "inbox_updated": InboxUpdated,
    "message_created_agent_bot": MessageCreated,
    "message_created_attachment": MessageCreated,
    "message_created_incoming": MessageCreated,
    "message_created_outgoing_user": MessageCreated,
    "message_created_private_note": MessageCreated,
    "message_updated_deleted": MessageUpdated,
    "webwidget_triggered": WebwidgetTriggered,
}


def test_every_fixture_has_an_expected_model() -> None:
    assert set(fixture_names()) == set(EXPECTED_MODEL)


def test_fixtures_cover_every_known_event() -> None:
    assert {load_fixture(name)["event"] for name in fixture_names()} == KNOWN_EVENTS


@pytest.mark.parametrize(("name", "model"), sorted(EXPECTED_MODEL.items()))
def test_fixture_parses_into_its_event_model(name: str, model: type[BaseModel]) -> None:
    event = parse_webhook(raw_body(load_fixture(name)))

    assert type(event) is model
    assert event.event == load_fixture(name)["event"]


def test_dict_and_text_bodies_parse_like_bytes() -> None:
    body = load_fixture("conversation_created")

    from_dict = parse_webhook(body)
    from_text = parse_webhook(json.dumps(body))
    from_bytes = parse_webhook(raw_body(body))

    assert from_dict == from_text == from_bytes


# --- conversation events ------------------------------------------------------------------------


def test_conversation_created_fields_are_typed_and_normalised() -> None:
    event = parse_webhook(raw_body(load_fixture("conversation_created")))

    assert isinstance(event, ConversationCreated)
    assert event.id == 1043  # the display id
    assert event.account_id == 3
    assert event.inbox_id == 7
    assert event.status == "open"
    assert event.priority is None
    assert event.labels == []
    assert event.unread_count == 1
    assert event.waiting_since == datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)
    assert event.created_at == datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)
    assert event.agent_last_seen_at is None  # 0 means never
    assert event.contact_last_seen_at is None
    assert event.first_reply_created_at is None
    assert event.snoozed_until is None
    assert event.changed_attributes is None
    assert event.changes == {}
    assert event.conversation is event
    assert event.message is None


def test_updated_at_keeps_microseconds() -> None:
    event = parse_webhook(raw_body(load_fixture("conversation_created")))

    assert isinstance(event, ConversationCreated)
    assert event.updated_at == datetime(2026, 6, 17, 10, 12, 10, 548213, tzinfo=UTC)


def test_updated_at_one_microsecond_apart_stays_apart() -> None:
    event = parse_webhook(raw_body(load_fixture("conversation_updated_enterprise_sla")))

    assert isinstance(event, ConversationUpdated)
    assert event.updated_at.microsecond == 1


def test_nested_message_integer_type_is_normalised() -> None:
    event = parse_webhook(raw_body(load_fixture("conversation_created")))

    assert isinstance(event, ConversationCreated)
    assert event.messages[0].message_type == "incoming"
    last = event.last_message
    assert last is not None
    assert last.id == 55120
    assert last.conversation_id == 1043
    assert last.account_id == 3
    assert last.message_type == "incoming"
    assert last.created_at == datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)
    assert last.sender_type == "contact"
    assert last.sender_id == 812
    assert last.private is False


def test_meta_sender_is_the_contact() -> None:
    event = parse_webhook(raw_body(load_fixture("conversation_created")))

    contact = event.contact
    assert contact is not None
    assert contact.id == 812
    assert contact.name == "quiet-river-118"
    assert contact.email is None


def test_status_changed_has_null_changed_attributes_and_user_assignee() -> None:
    event = parse_webhook(raw_body(load_fixture("conversation_status_changed")))

    assert isinstance(event, ConversationStatusChanged)
    assert event.status == "resolved"
    assert event.changed_attributes is None
    assert event.changes == {}
    assert event.priority == "high"
    assert event.labels == ["billing"]
    assert event.assignee_kind == "user"
    assert event.assigned_user_id == 21
    assert event.assigned_agent_bot_id is None
    assert event.team_id == 2
    assert event.first_reply_created_at == datetime(2026, 6, 17, 10, 21, 47, 904000, tzinfo=UTC)
    assert event.waiting_since is None
    assert event.last_message is not None
    assert event.last_message.message_type == "outgoing"
    assert event.last_message.sender_type == "user"
    assert event.last_message.sender_id == 21


def test_conversation_without_account_and_without_messages() -> None:
    # Given a body from Chatwoot < 4.14.2 (no account object) whose message was not committed yet
    event = parse_webhook(raw_body(load_fixture("conversation_created_without_account")))

    assert isinstance(event, ConversationCreated)
    assert event.account_id is None
    assert event.account is None
    assert event.messages == []
    assert event.last_message is None
    assert event.id == 1044


def test_conversation_updated_changes_are_flattened() -> None:
    event = parse_webhook(raw_body(load_fixture("conversation_updated_assigned")))

    assert isinstance(event, ConversationUpdated)
    assert set(event.changes) == {"assignee_id", "team_id", "updated_at", "label_list"}
    assert event.changes["assignee_id"].previous_value is None
    assert event.changes["assignee_id"].current_value == 21
    assert event.changes["label_list"].current_value == ["billing"]
    assert event.assigned_user_id == 21


def test_enterprise_sla_keys_are_ignored_and_bot_assignee_is_recognised() -> None:
    body = load_fixture("conversation_updated_enterprise_sla")
    assert {"applied_sla", "sla_events", "sla_policy_id"} <= set(body)

    event = parse_webhook(raw_body(body))

    assert isinstance(event, ConversationUpdated)
    assert not hasattr(event, "applied_sla")
    assert not hasattr(event, "sla_policy_id")
    assert event.status == "snoozed"
    assert event.snoozed_until == datetime(2026, 6, 18, 9, 0, 0, tzinfo=UTC)
    assert event.priority == "urgent"
    assert event.assignee_kind == "agent_bot"
    assert event.assigned_agent_bot_id == 4
    assert event.assigned_user_id is None
    assert event.team_id is None
    assert event.custom_attributes == {"case_number": "0012345-67.2026.8.26.0100"}
    assert event.last_message is not None
    assert event.last_message.message_type == "template"
    assert event.last_message.sender_type == "agent_bot"


def test_pubsub_token_of_contact_inbox_is_not_kept() -> None:
    event = parse_webhook(raw_body(load_fixture("conversation_created")))

    assert isinstance(event, ConversationCreated)
    assert event.contact_inbox is not None
    assert event.contact_inbox.source_id == "5b0e6c1e-8f7a-4c39-9d3a-2f1f0c7e5a11"
    assert "x8QwYq3ZkT7nVb2LmP4rJs9D" not in repr(event)


def test_new_fields_from_chatwoot_are_ignored() -> None:
    body = load_fixture("conversation_created")
    body["brand_new_field"] = {"nested": [1, 2, 3]}
    body["meta"]["something_else"] = True

    event = parse_webhook(raw_body(body))

    assert isinstance(event, ConversationCreated)
    assert not hasattr(event, "brand_new_field")


def test_events_are_immutable() -> None:
    event = parse_webhook(raw_body(load_fixture("conversation_created")))
    assert isinstance(event, ConversationCreated)

    with pytest.raises(ValidationError):
        event.status = "resolved"  # type: ignore[misc]


# --- message events -----------------------------------------------------------------------------


def test_incoming_message_from_contact_is_normalised() -> None:
    event = parse_webhook(raw_body(load_fixture("message_created_incoming")))

    assert isinstance(event, MessageCreated)
    assert event.message_type == "incoming"
    assert event.created_at == datetime(2026, 6, 17, 10, 12, 10, 512000, tzinfo=UTC)
    assert event.sender is not None
    assert event.sender.type is None  # Contact#webhook_data has no type key
    assert event.sender.kind == "contact"
    message = event.message
    assert message.id == 55120
    assert message.conversation_id == 1043
    assert message.account_id == 3
    assert message.inbox_id == 7
    assert message.message_type == "incoming"
    assert message.private is False
    assert message.content == "Hi, I was charged twice for my June invoice."
    assert message.content_type == "text"
    assert message.sender_type == "contact"
    assert message.sender_id == 812


def test_message_event_exposes_conversation_and_contact() -> None:
    event = parse_webhook(raw_body(load_fixture("message_created_incoming")))

    assert isinstance(event, MessageCreated)
    assert isinstance(event.conversation, ConversationData)
    assert event.conversation.id == 1043
    assert event.conversation.updated_at == datetime(2026, 6, 17, 10, 12, 10, 548213, tzinfo=UTC)
    assert event.conversation.messages[0].message_type == "incoming"  # integer 0 inside the conversation
    assert event.account_id == 3
    assert event.contact is not None
    assert event.contact.id == 812


@pytest.mark.parametrize(
    ("fixture", "message_type", "sender_type", "sender_id", "private"),
    [
        ("message_created_outgoing_user", "outgoing", "user", 21, False),
        ("message_created_private_note", "outgoing", "user", 21, True),
        ("message_created_agent_bot", "outgoing", "agent_bot", 4, False),
        ("message_created_incoming", "incoming", "contact", 812, False),
    ],
)
def test_sender_shapes_are_normalised(
    fixture: str, message_type: str, sender_type: str, sender_id: int, private: bool
) -> None:
    event = parse_webhook(raw_body(load_fixture(fixture)))

    assert isinstance(event, MessageCreated)
    assert event.message.message_type == message_type
    assert event.message.sender_type == sender_type
    assert event.message.sender_id == sender_id
    assert event.message.private is private


def test_private_note_leaves_last_public_message_in_conversation() -> None:
    event = parse_webhook(raw_body(load_fixture("message_created_private_note")))

    assert isinstance(event, MessageCreated)
    assert event.conversation.last_message is not None
    assert event.conversation.last_message.id != event.id


def test_message_with_attachment_and_no_text() -> None:
    event = parse_webhook(raw_body(load_fixture("message_created_attachment")))

    assert isinstance(event, MessageCreated)
    assert event.content is None
    assert event.message.content is None
    assert event.source_id == "wamid.HBgNNTUxMTk5OTk5OTk5ORUCABIYFjNFQjBDMDk3QjQ3"
    # The null entry (an attachment without a file type) is dropped.
    assert [attachment.file_type for attachment in event.attachments] == ["image"]
    assert event.attachments[0].file_size == 184211
    assert event.message.inbox_id == 9


def test_message_updated_parses_deleted_message() -> None:
    event = parse_webhook(raw_body(load_fixture("message_updated_deleted")))

    assert isinstance(event, MessageUpdated)
    assert event.content_attributes == {"deleted": True}
    assert event.message.message_type == "outgoing"


@pytest.mark.parametrize("raw_type", ["activity", 2, "2"])
def test_activity_message_type_does_not_crash(raw_type: Any) -> None:
    body = load_fixture("message_created_incoming")
    body["message_type"] = raw_type

    event = parse_webhook(raw_body(body))

    assert isinstance(event, MessageCreated)
    assert event.message.message_type == "activity"


@pytest.mark.parametrize(
    ("raw_type", "expected"), [("template", "template"), (3, "template"), ("Outgoing", "outgoing")]
)
def test_message_type_string_or_integer_is_accepted(raw_type: Any, expected: str) -> None:
    body = load_fixture("message_created_incoming")
    body["message_type"] = raw_type

    event = parse_webhook(raw_body(body))

    assert isinstance(event, MessageCreated)
    assert event.message.message_type == expected


def test_message_without_sender_has_no_sender_type() -> None:
    body = load_fixture("message_created_outgoing_user")
    body["sender"] = None

    event = parse_webhook(raw_body(body))

    assert isinstance(event, MessageCreated)
    assert event.message.sender_type is None
    assert event.message.sender_id is None


def test_message_account_falls_back_to_conversation_account() -> None:
    body = load_fixture("message_created_incoming")
    del body["account"]

    event = parse_webhook(raw_body(body))

    assert event.account_id == 3


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Contact", "contact"),
        ("contact", "contact"),
        ("User", "user"),
        ("AgentBot", "agent_bot"),
        ("agent_bot", "agent_bot"),
        ("Captain::Assistant", "captain_assistant"),
        ("captain_assistant", "captain_assistant"),
        ("", None),
        (None, None),
    ],
)
def test_sender_type_spellings_are_unified(raw: str | None, expected: str | None) -> None:
    assert normalize_sender_type(raw) == expected


# --- contact events -----------------------------------------------------------------------------


def test_contact_created_exposes_contact_and_account() -> None:
    event = parse_webhook(raw_body(load_fixture("contact_created")))

    assert isinstance(event, ContactCreated)
    assert event.account_id == 3
    assert event.contact is event
    assert event.id == 812
    assert event.blocked is False
    assert event.additional_attributes["created_at_ip"] == "203.0.113.24"
    assert event.conversation is None
    assert event.message is None


def test_contact_updated_carries_changes() -> None:
    event = parse_webhook(raw_body(load_fixture("contact_updated")))

    assert isinstance(event, ContactUpdated)
    assert event.email == "maria.souza@example.com"
    assert event.phone_number == "+5511999999999"
    assert event.changes["name"].previous_value == "quiet-river-118"
    assert event.changes["name"].current_value == "Maria Souza"
    assert event.custom_attributes == {"cpf_informed": True}


# --- events recorded without effect ---------------------------------------------------------------


@pytest.mark.parametrize(
    "fixture",
    ["webwidget_triggered", "conversation_typing_on", "conversation_typing_off", "inbox_created", "inbox_updated"],
)
def test_recorded_only_events_expose_account_and_nothing_to_apply(fixture: str) -> None:
    event = parse_webhook(raw_body(load_fixture(fixture)))

    assert isinstance(event, RecordedOnlyEvent)
    assert event.account_id == 3
    assert event.conversation is None
    assert event.message is None
    assert event.contact is None


@pytest.mark.parametrize("event_name", ["conversation_typing_on", "inbox_updated", "webwidget_triggered"])
def test_recorded_only_events_accept_any_shape(event_name: str) -> None:
    event = parse_webhook({"event": event_name, "account": "not-an-object", "conversation": 12})

    assert isinstance(event, RecordedOnlyEvent)
    assert event.account_id is None


@pytest.mark.parametrize("event_name", ["conversation_deleted", "agent_added", "message_reacted", "Message_Created"])
def test_unknown_event_parses_as_unknown(event_name: str) -> None:
    event = parse_webhook(raw_body({"event": event_name, "id": "anything", "account": {"id": 3, "name": "Acme"}}))

    assert isinstance(event, UnknownEvent)
    assert isinstance(event, RecordedOnlyEvent)
    assert event.event == event_name
    assert event.account_id == 3
    assert event.conversation is None


def test_unknown_event_with_malformed_account_still_parses() -> None:
    event = parse_webhook(raw_body({"event": "something_new", "account": {"id": "three"}}))

    assert isinstance(event, UnknownEvent)
    assert event.account_id is None


# --- invalid bodies -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b"not json at all", "not_json"),
        (b"", "not_json"),
        (b"\xff\xfe{}", "not_json"),
        (b'{"event": "message_created"', "not_json"),
        (b"[1, 2, 3]", "not_an_object"),
        (b'[{"event": "message_created"}]', "not_an_object"),
        (b'"message_created"', "not_an_object"),
        (b"null", "not_an_object"),
        (b"{}", "missing_event"),
        (b'{"event": null}', "missing_event"),
        (b'{"id": 1043, "status": "open"}', "missing_event"),
        (b'{"event": 5}', "invalid_event"),
        (b'{"event": ["message_created"]}', "invalid_event"),
        (b'{"event": {"name": "message_created"}}', "invalid_event"),
        (b'{"event": ""}', "invalid_event"),
    ],
)
def test_bad_bodies_raise_invalid_payload(body: bytes, reason: str) -> None:
    with pytest.raises(InvalidPayload) as caught:
        parse_webhook(body)

    assert caught.value.reason == reason


def _with(fixture: str, path: tuple[str | int, ...], value: Any) -> dict[str, Any]:
    body = load_fixture(fixture)
    target: Any = body
    for key in path[:-1]:
        target = target[key]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return body


_DELETE = object()


@pytest.mark.parametrize(
    ("fixture", "path", "value", "problem"),
    [
        ("conversation_created", ("id",), "SECRET-CONTENT-1043", "id (int_parsing)"),
        ("conversation_created", ("status",), "SECRET-CONTENT-closed", "status (literal_error)"),
        ("conversation_created", ("updated_at",), "SECRET-CONTENT-yesterday", "updated_at (value_error)"),
        ("conversation_created", ("updated_at",), _DELETE, "updated_at (missing)"),
        ("conversation_created", ("inbox_id",), _DELETE, "inbox_id (missing)"),
        ("conversation_created", ("messages",), "SECRET-CONTENT-messages", "messages (list_type)"),
        ("conversation_created", ("meta", "sender", "id"), "SECRET-CONTENT-x", "meta.sender.id (int_parsing)"),
        ("conversation_updated_assigned", ("changed_attributes",), {"a": 1}, "changed_attributes (list_type)"),
        ("conversation_created", ("priority",), "SECRET-CONTENT-p", "priority (literal_error)"),
        ("message_created_incoming", ("conversation",), _DELETE, "conversation (missing)"),
        ("message_created_incoming", ("created_at",), "SECRET-CONTENT-date", "created_at (value_error)"),
        ("message_created_incoming", ("message_type",), "SECRET-CONTENT-reaction", "message_type (literal_error)"),
        ("message_created_incoming", ("conversation", "id"), [1], "conversation.id (int_type)"),
        ("message_created_incoming", ("private",), "SECRET-CONTENT-maybe", "private (bool_parsing)"),
        ("contact_updated", ("id",), _DELETE, "id (missing)"),
        ("contact_created", ("email",), ["SECRET-CONTENT-mail"], "email (string_type)"),
    ],
)
def test_known_event_with_wrong_fields_raises_safe_invalid_payload(
    fixture: str, path: tuple[str | int, ...], value: Any, problem: str
) -> None:
    body = _with(fixture, path, value)

    with pytest.raises(InvalidPayload) as caught:
        parse_webhook(raw_body(body))

    error = caught.value
    assert error.reason == "invalid_fields"
    assert error.event == body["event"]
    assert problem in error.problems
    assert problem in str(error)
    assert "SECRET-CONTENT" not in str(error)
    assert "SECRET-CONTENT" not in repr(error.problems)
    # The pydantic error, which embeds input values, is not chained onto the exception.
    assert error.__cause__ is None
    assert error.__suppress_context__ is True


def test_invalid_payload_message_lists_a_bounded_number_of_problems() -> None:
    body = {"event": "conversation_updated", "meta": 1, "labels": 2, "messages": 3, "status": 4, "id": "x"}

    with pytest.raises(InvalidPayload) as caught:
        parse_webhook(body)

    assert len(caught.value.problems) > 5
    assert "more)" in str(caught.value)
