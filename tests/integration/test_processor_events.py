"""Every Chatwoot event through the processor, against PostgreSQL: what the mirror, the ledger and the outbox hold."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import psycopg
import pytest

from chatwoot_integration.db import Database
from chatwoot_integration.ingest.processor import DeliveryProcessor
from chatwoot_integration.mapping import conversation_state
from chatwoot_integration.models.conversation import Conversation
from chatwoot_integration.repositories.conversations import ConversationRepository
from chatwoot_integration.repositories.deliveries import Delivery, DeliveryRepository
from chatwoot_integration.repositories.messages import MessageRepository
from chatwoot_integration.repositories.parties import PartyRepository
from chatwoot_integration.services.mirror import mirror_conversations
from chatwoot_integration.uow import UnitOfWork
from chatwoot_integration.webhooks.payloads import ConversationUpdated, parse_webhook
from tests.factories import create_integration
from tests.fixtures.chatwoot_payloads import (
    DEFAULT_UPDATED_AT,
    contact_payload,
    conversation_payload,
    load_fixture,
    message_payload,
)
from tests.unit.ingest.support import ACCOUNT_ID, INTEGRATION_ID, SECRET, record

CONVERSATION_ID = 1043


def conversation(conn: psycopg.Connection, conversation_id: int = CONVERSATION_ID) -> Conversation:
    found = ConversationRepository(conn).get(INTEGRATION_ID, conversation_id)
    assert found is not None, f"conversation {conversation_id} is not mirrored"
    return found


def ledger(conn: psycopg.Connection, integration_id: int) -> list[Delivery]:
    return DeliveryRepository(conn).list_for_integration(integration_id)


def outbox(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return list(conn.execute("SELECT type, actor, conversation_id, data FROM eventos_chatwoot ORDER BY id"))


def conversation_count(conn: psycopg.Connection) -> int:
    row = conn.execute("SELECT count(*) AS n FROM conversas_chatwoot").fetchone()
    assert row is not None
    return int(row["n"])


def test_conversation_created_is_mirrored_with_its_contact_and_a_change_event(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    body = load_fixture("conversation_created")

    result = processor.process(record(body, integration_id=integration_id, delivery_id="d-1"))

    assert (result.status, result.event, result.conversation_id) == ("applied", "conversation_created", 1043)
    stored = conversation(conn)
    assert (stored.status, stored.inbox_id, stored.contact_id, stored.assignee_id) == ("open", 7, 812, None)
    assert stored.chatwoot_updated_at == datetime.fromtimestamp(DEFAULT_UPDATED_AT, UTC)
    assert stored.chatwoot_updated_at.microsecond == 548213
    assert stored.waiting_since == datetime.fromtimestamp(1781691130, UTC)
    assert stored.sync_status == "pending"
    contact = PartyRepository(conn).get_contact(INTEGRATION_ID, 812)
    assert contact is not None and contact.name == "quiet-river-118"
    assert [(e["type"], e["actor"], e["conversation_id"]) for e in outbox(conn)] == [
        ("conversation.created", "chatwoot", 1043),
        ("contact.created", "chatwoot", None),
    ]
    (delivery,) = ledger(conn, integration_id)
    assert (delivery.delivery_id, delivery.status, delivery.event) == ("d-1", "applied", "conversation_created")
    assert delivery.content_key is not None and delivery.content_key.startswith("conversation_created:3:1043:")
    assert (delivery.account_id, delivery.conversation_id, delivery.body) == (ACCOUNT_ID, 1043, None)


def test_a_conversation_event_without_account_is_stored_under_the_integrations_account(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    body = load_fixture("conversation_created_without_account")
    assert "account" not in body

    result = processor.process(record(body, integration_id=integration_id))

    assert result.status == "applied"
    assert conversation(conn, body["id"]).integration_id == INTEGRATION_ID


def test_a_status_change_with_null_changed_attributes_updates_the_status(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    processor.process(record(load_fixture("conversation_created"), integration_id=integration_id))
    status_changed = load_fixture("conversation_status_changed")
    assert status_changed["changed_attributes"] is None

    result = processor.process(record(status_changed, integration_id=integration_id))

    assert result.status == "applied"
    stored = conversation(conn)
    assert (stored.status, stored.assignee_id) == ("resolved", 21)
    update = outbox(conn)[-1]
    assert update["type"] == "conversation.updated"
    assert update["data"]["changes"]["status"] == {"from": "open", "to": "resolved"}


def test_an_assignment_update_sets_the_assignee(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    processor.process(record(load_fixture("conversation_created"), integration_id=integration_id))

    processor.process(record(load_fixture("conversation_updated_assigned"), integration_id=integration_id))

    stored = conversation(conn)
    assert (stored.assignee_id, stored.agent_bot_id) == (21, None)
    assert outbox(conn)[-1]["data"]["changes"]["assignee_id"] == {"from": None, "to": 21}


def test_an_agent_bot_assignee_goes_to_agent_bot_id_and_enterprise_keys_are_ignored(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    body = load_fixture("conversation_updated_enterprise_sla")

    result = processor.process(record(body, integration_id=integration_id))

    assert result.status == "applied"
    stored = conversation(conn, body["id"])
    assert (stored.status, stored.assignee_id, stored.agent_bot_id) == ("snoozed", None, 4)
    assert stored.snoozed_until is not None


def test_a_message_for_an_unmirrored_conversation_creates_it_and_counts_the_message(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    body = load_fixture("message_created_incoming")

    result = processor.process(record(body, integration_id=integration_id))

    assert (result.status, result.conversation_id) == ("applied", 1043)
    stored = conversation(conn)
    assert (stored.messages_count, stored.private_notes_count) == (1, 0)
    assert stored.last_message_preview == body["content"]
    message = MessageRepository(conn).get(INTEGRATION_ID, body["id"])
    assert message is not None
    assert (message.message_type, message.sender_type, message.sender_id) == ("incoming", "contact", 812)
    assert message.content == body["content"]
    events = outbox(conn)
    assert [e["type"] for e in events] == ["conversation.created", "message.created", "contact.created"]
    message_event = events[1]
    assert message_event["data"]["message_id"] == body["id"]
    assert "content" not in message_event["data"]
    assert body["content"] not in str(events)


@pytest.mark.parametrize(
    ("fixture", "sender_type", "sender_id"),
    [("message_created_outgoing_user", "user", 21), ("message_created_agent_bot", "agent_bot", 4)],
)
def test_outgoing_messages_keep_their_sender(
    conn: psycopg.Connection,
    integration_id: int,
    processor: DeliveryProcessor,
    fixture: str,
    sender_type: str,
    sender_id: int,
) -> None:
    body = load_fixture(fixture)

    processor.process(record(body, integration_id=integration_id))

    message = MessageRepository(conn).get(INTEGRATION_ID, body["id"])
    assert message is not None
    assert (message.message_type, message.sender_type, message.sender_id) == ("outgoing", sender_type, sender_id)
    assert conversation(conn).messages_count == 1


def test_a_message_with_attachments_is_stored_once(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    body = load_fixture("message_created_attachment")

    result = processor.process(record(body, integration_id=integration_id))

    assert result.status == "applied"
    assert MessageRepository(conn).get(INTEGRATION_ID, body["id"]) is not None
    assert conversation(conn, body["conversation"]["id"]).messages_count == 1


def test_a_private_note_is_counted_apart_and_never_becomes_the_preview(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    incoming = load_fixture("message_created_incoming")
    processor.process(record(incoming, integration_id=integration_id))

    processor.process(record(load_fixture("message_created_private_note"), integration_id=integration_id))

    stored = conversation(conn)
    assert (stored.messages_count, stored.private_notes_count) == (1, 1)
    assert stored.last_message_preview == incoming["content"]


def test_message_content_is_not_stored_when_the_integration_turns_it_off(
    conn: psycopg.Connection, processor: DeliveryProcessor
) -> None:
    integration_id = create_integration(
        conn,
        account_id=ACCOUNT_ID,
        credentials={"api_token": "t", "webhook_secret": SECRET},
        store_message_content=False,
    )
    body = load_fixture("message_created_incoming")

    processor.process(record(body, integration_id=integration_id))

    message = MessageRepository(conn).get(INTEGRATION_ID, body["id"])
    assert message is not None and message.content is None
    stored = conversation(conn)
    assert stored.messages_count == 1
    assert stored.last_message_preview is None


def test_a_deleted_message_update_marks_it_deleted_and_clears_content_and_preview(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    created = load_fixture("message_created_outgoing_user")
    processor.process(record(created, integration_id=integration_id))
    deleted = load_fixture("message_updated_deleted")
    assert deleted["id"] == created["id"]

    result = processor.process(record(deleted, integration_id=integration_id))

    assert result.status == "applied"
    message = MessageRepository(conn).get(INTEGRATION_ID, created["id"])
    assert message is not None
    assert (message.deleted, message.content) == (True, None)
    stored = conversation(conn)
    assert (stored.messages_count, stored.last_message_preview) == (1, None)
    assert outbox(conn)[-1]["type"] == "message.updated"


def test_an_edit_changes_the_content_and_the_preview(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    processor.process(record(message_payload(content="first words"), integration_id=integration_id))

    processor.process(
        record(
            message_payload(
                content="edited words", event="message_updated", conversation_updated_at=DEFAULT_UPDATED_AT + 1
            ),
            integration_id=integration_id,
        )
    )

    message = MessageRepository(conn).get(INTEGRATION_ID, 55120)
    assert message is not None and message.content == "edited words"
    assert conversation(conn).last_message_preview == "edited words"


def test_contact_events_keep_the_identifying_fields(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    processor.process(record(load_fixture("contact_created"), integration_id=integration_id))

    result = processor.process(record(load_fixture("contact_updated"), integration_id=integration_id))

    assert result.status == "applied"
    contact = PartyRepository(conn).get_contact(INTEGRATION_ID, 812)
    assert contact is not None
    assert (contact.name, contact.email, contact.phone_number) == (
        "Maria Souza",
        "maria.souza@example.com",
        "+5511999999999",
    )
    assert [e["type"] for e in outbox(conn)] == ["contact.created", "contact.updated"]


def test_a_contact_identifier_is_kept(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    processor.process(
        record(contact_payload(identifier="cliente-88", email="x@example.com"), integration_id=integration_id)
    )

    contact = PartyRepository(conn).get_contact(INTEGRATION_ID, 812)
    assert contact is not None and (contact.identifier, contact.email) == ("cliente-88", "x@example.com")


def test_contact_updated_noise_changes_nothing(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    processor.process(record(load_fixture("contact_created"), integration_id=integration_id))
    before = PartyRepository(conn).get_contact(INTEGRATION_ID, 812)
    events_before = outbox(conn)

    result = processor.process(record(load_fixture("contact_updated_last_activity"), integration_id=integration_id))

    assert (result.status, result.reason) == ("ignored", "activity_only")
    assert PartyRepository(conn).get_contact(INTEGRATION_ID, 812) == before
    assert outbox(conn) == events_before


@pytest.mark.parametrize(
    "fixture",
    ["conversation_typing_on", "conversation_typing_off", "webwidget_triggered", "inbox_created", "inbox_updated"],
)
def test_events_the_mirror_does_not_act_on_are_recorded_and_change_nothing(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor, fixture: str
) -> None:
    body = load_fixture(fixture)

    result = processor.process(record(body, integration_id=integration_id, delivery_id="d-typing"))

    assert (result.status, result.reason) == ("ignored", "not_mirrored")
    (delivery,) = ledger(conn, integration_id)
    assert (delivery.status, delivery.event, delivery.body) == ("ignored", body["event"], None)
    assert conversation_count(conn) == 0
    assert outbox(conn) == []


def test_an_unknown_event_is_recorded_and_ignored_never_an_error(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    body = {"event": "conversation_translated", "id": 9, "account": {"id": ACCOUNT_ID}}

    result = processor.process(record(body, integration_id=integration_id))

    assert (result.status, result.reason, result.event) == ("ignored", "unknown_event", "conversation_translated")
    assert [d.status for d in ledger(conn, integration_id)] == ["ignored"]
    assert conversation_count(conn) == 0


def test_the_echo_of_our_own_write_changes_nothing(
    conn: psycopg.Connection, db: Database, integration_id: int, processor: DeliveryProcessor
) -> None:
    # Given a mirrored conversation, and the API wrote an assignment through to Chatwoot and mirrored the answer.
    processor.process(record(load_fixture("conversation_created"), integration_id=integration_id))
    assigned = conversation_payload(event="conversation_updated", assignee_id=21, updated_at=DEFAULT_UPDATED_AT + 30)
    parsed = parse_webhook(assigned)
    assert isinstance(parsed, ConversationUpdated)
    with UnitOfWork(db) as uow:
        mirror_conversations(uow, [conversation_state(INTEGRATION_ID, parsed)], actor="user:42", mark_synced=True)
    before = conversation(conn)
    events_before = outbox(conn)

    # When Chatwoot's webhook for that very write arrives, and an older one after it.
    echo = processor.process(record(assigned, integration_id=integration_id))
    older = processor.process(
        record(
            conversation_payload(event="conversation_updated", assignee_id=None, updated_at=DEFAULT_UPDATED_AT + 10),
            integration_id=integration_id,
        )
    )

    # Then the mirror and the change feed are untouched.
    assert (echo.status, older.status) == ("stale", "stale")  # the guard kept what the mirror held
    assert (echo.changes, older.changes) == (0, 0)
    assert conversation(conn) == before
    assert outbox(conn) == events_before


def test_a_newer_state_wins_and_an_older_one_arriving_late_is_ignored(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    newer = conversation_payload(event="conversation_updated", status="resolved", updated_at=DEFAULT_UPDATED_AT + 60)
    older = conversation_payload(event="conversation_updated", status="pending", updated_at=DEFAULT_UPDATED_AT + 5)

    processor.process(record(newer, integration_id=integration_id))
    processor.process(record(older, integration_id=integration_id))

    assert conversation(conn).status == "resolved"


def test_an_older_contact_snapshot_in_a_conversation_never_overwrites_contact_updated(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    processor.process(record(load_fixture("contact_updated"), integration_id=integration_id))

    processor.process(record(load_fixture("conversation_created"), integration_id=integration_id))

    contact = PartyRepository(conn).get_contact(INTEGRATION_ID, 812)
    assert contact is not None and (contact.name, contact.email) == ("Maria Souza", "maria.souza@example.com")
