"""Content keys: the same logical change dispatched twice gets one key; a different change another."""

from __future__ import annotations

import json
from typing import Any

import pytest

from chatwoot_integration.webhooks.keys import content_key
from chatwoot_integration.webhooks.payloads import parse_webhook
from tests.fixtures.chatwoot_payloads import (
    contact_payload,
    conversation_payload,
    load_fixture,
    message_payload,
    raw_body,
    webhook_headers,
)


def _key(body: dict[str, Any]) -> str | None:
    return content_key(parse_webhook(raw_body(body)))


def _reordered(body: dict[str, Any]) -> bytes:
    # A second dispatch is serialised independently; key order must not matter.
    return json.dumps(dict(reversed(list(body.items())))).encode()


@pytest.mark.parametrize(
    "fixture",
    [
        "conversation_created",
        "conversation_status_changed",
        "conversation_updated_assigned",
        "message_created_incoming",
        "message_updated_deleted",
        "contact_created",
        "contact_updated",
    ],
)
def test_same_change_delivered_twice_has_the_same_key(fixture: str) -> None:
    # Given the same body delivered under two different delivery ids
    body = load_fixture(fixture)
    first_delivery = webhook_headers(raw_body(body), "secret", 1781691200)["X-Chatwoot-Delivery"]
    second_delivery = webhook_headers(raw_body(body), "secret", 1781691200)["X-Chatwoot-Delivery"]
    assert first_delivery != second_delivery

    # When both are keyed
    first = content_key(parse_webhook(raw_body(body)))
    second = content_key(parse_webhook(_reordered(body)))

    # Then the keys match
    assert first is not None
    assert first == second


def test_conversation_key_names_event_account_display_id_and_precise_updated_at() -> None:
    key = _key(conversation_payload(account_id=3, conversation_id=1043, updated_at=1781691930.117406))

    assert key is not None
    assert key.startswith("conversation_created:3:1043:2026-06-17T10:25:30.117406+00:00:")


def test_newer_conversation_updated_at_gives_a_different_key() -> None:
    older = _key(conversation_payload(event="conversation_updated", updated_at=1781691930.117406))
    newer = _key(conversation_payload(event="conversation_updated", updated_at=1781691930.117407))

    assert older != newer


def test_status_changed_and_updated_for_the_same_change_differ() -> None:
    status_changed = _key(conversation_payload(event="conversation_status_changed", status="resolved"))
    updated = _key(conversation_payload(event="conversation_updated", status="resolved"))

    assert status_changed != updated


def test_two_changes_folded_into_one_snapshot_keep_distinct_keys() -> None:
    # Chatwoot builds payloads after the fact, so two changes can share updated_at;
    # changed_attributes is captured at dispatch time and tells them apart.
    label = [{"label_list": {"previous_value": [], "current_value": ["vip"]}}]
    assignee = [{"assignee_id": {"previous_value": None, "current_value": 21}}]

    first = _key(conversation_payload(event="conversation_updated", changed_attributes=label))
    second = _key(conversation_payload(event="conversation_updated", changed_attributes=assignee))

    assert first != second


def test_conversation_keys_are_scoped_by_account() -> None:
    account_three = _key(conversation_payload(account_id=3))
    account_four = _key(conversation_payload(account_id=4))
    no_account = _key(conversation_payload(with_account=False))

    assert account_three != account_four
    assert no_account is not None
    assert no_account.startswith("conversation_created:-:1043:")


def test_message_created_key_ignores_the_nested_conversation_snapshot() -> None:
    # Duplicate dispatches are built at different times, so the nested conversation may have moved on.
    first = _key(message_payload(message_id=55120, conversation_updated_at=1781691130.548213))
    second = _key(message_payload(message_id=55120, conversation_updated_at=1781691140.000001))

    assert first == second
    assert first == "message_created:3:55120:2026-06-17T10:12:10.512000+00:00"


def test_different_messages_have_different_keys() -> None:
    assert _key(message_payload(message_id=55120)) != _key(message_payload(message_id=55121))


def test_message_created_and_updated_for_one_message_differ() -> None:
    assert _key(message_payload(event="message_created")) != _key(message_payload(event="message_updated"))


def test_message_updated_with_new_content_gives_a_new_key() -> None:
    original = _key(message_payload(event="message_updated", content="Refund issued"))
    edited = _key(message_payload(event="message_updated", content="Refund issued today"))
    deleted = _key(
        message_payload(
            event="message_updated", content="This message was deleted", content_attributes={"deleted": True}
        )
    )

    assert len({original, edited, deleted}) == 3


def test_message_updated_back_to_earlier_text_is_a_new_change() -> None:
    first = _key(message_payload(event="message_updated", content="A", conversation_updated_at=1781691200.1))
    back_again = _key(message_payload(event="message_updated", content="A", conversation_updated_at=1781691300.2))

    assert first != back_again


def test_contact_updated_key_changes_with_fields() -> None:
    before = _key(contact_payload(event="contact_updated", email=None))
    after = _key(contact_payload(event="contact_updated", email="maria.souza@example.com"))

    assert before != after


def test_contact_value_changed_back_is_still_a_new_change() -> None:
    first = _key(contact_payload(event="contact_updated", name="Maria", updated_at="2026-06-17T10:15:31.207Z"))
    back_again = _key(contact_payload(event="contact_updated", name="Maria", updated_at="2026-06-17T10:20:00.001Z"))

    assert first != back_again


def test_contact_key_is_scoped_by_account_and_contact() -> None:
    keys = {
        _key(contact_payload(account_id=3, contact_id=812)),
        _key(contact_payload(account_id=4, contact_id=812)),
        _key(contact_payload(account_id=3, contact_id=813)),
    }

    assert len(keys) == 3


@pytest.mark.parametrize(
    "fixture",
    ["webwidget_triggered", "conversation_typing_on", "conversation_typing_off", "inbox_created", "inbox_updated"],
)
def test_recorded_only_events_have_no_key(fixture: str) -> None:
    assert _key(load_fixture(fixture)) is None


def test_unknown_event_has_no_key() -> None:
    assert _key({"event": "conversation_deleted", "id": 1043}) is None
