"""Duplicates (same delivery id, same content under fresh ids) and refused bodies, against PostgreSQL."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from chatwoot_integration.db import Database
from chatwoot_integration.ingest.processor import DeliveryProcessor, DeliveryResult
from chatwoot_integration.ingest.record import IngestRecord
from chatwoot_integration.repositories.conversations import ConversationRepository
from chatwoot_integration.repositories.deliveries import DeliveryRepository
from chatwoot_integration.repositories.integrations import IntegrationRepository
from chatwoot_integration.uow import unit_of_work_factory
from tests.factories import create_integration
from tests.fixtures.chatwoot_payloads import (
    DEFAULT_UPDATED_AT,
    conversation_payload,
    load_fixture,
    message_payload,
    raw_body,
)
from tests.unit.ingest.support import INTEGRATION_ID, record


class OneTransactionOnly(DeliveryProcessor):
    """Fails the test if a batch falls back to one transaction per delivery."""

    def handle(self, record: IngestRecord, *, attempt: int = 1) -> DeliveryResult:
        raise AssertionError("the batch was not applied in one transaction")


def snapshot(conn: psycopg.Connection) -> dict[str, Any]:
    """Everything a delivery can change, except the ledger."""
    return {
        "conversations": list(
            conn.execute(
                "SELECT integration_id, conversation_id, status, assignee_id, messages_count, private_notes_count,"
                " last_message_id, last_message_preview, chatwoot_updated_at, updated_at FROM conversas_chatwoot"
                " ORDER BY integration_id, conversation_id"
            )
        ),
        "messages": list(conn.execute("SELECT * FROM mensagens_chatwoot ORDER BY integration_id, message_id")),
        "contacts": list(conn.execute("SELECT * FROM contatos_chatwoot ORDER BY integration_id, contact_id")),
        "events": list(conn.execute("SELECT id, type, conversation_id, data FROM eventos_chatwoot ORDER BY id")),
    }


def statuses(conn: psycopg.Connection, integration_id: int) -> list[tuple[str, str, str | None]]:
    return [(d.delivery_id, d.status, d.reason) for d in DeliveryRepository(conn).list_for_integration(integration_id)]


def test_the_same_delivery_three_times_is_applied_once(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    delivery = record(load_fixture("message_created_incoming"), integration_id=integration_id, delivery_id="d-same")
    first = processor.process(delivery)
    after_first = snapshot(conn)

    repeats = [processor.process(delivery) for _ in range(2)]

    assert first.status == "applied"
    assert [(r.status, r.reason) for r in repeats] == [("duplicate", "same_delivery")] * 2
    assert snapshot(conn) == after_first
    assert statuses(conn, integration_id) == [("d-same", "applied", None)]
    conversation = ConversationRepository(conn).get(INTEGRATION_ID, 1043)
    assert conversation is not None and conversation.messages_count == 1


def test_the_same_message_under_fresh_delivery_ids_is_applied_once(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    body = raw_body(load_fixture("message_created_incoming"))
    processor.process(record(body, integration_id=integration_id, delivery_id="d-1"))
    after_first = snapshot(conn)

    results = [processor.process(record(body, integration_id=integration_id, delivery_id=f"d-{n}")) for n in (2, 3)]

    assert [(r.status, r.reason) for r in results] == [("duplicate", "same_content")] * 2
    assert snapshot(conn) == after_first
    assert statuses(conn, integration_id) == [
        ("d-1", "applied", None),
        ("d-2", "duplicate", "same_content"),
        ("d-3", "duplicate", "same_content"),
    ]


def test_a_conversation_change_dispatched_twice_is_applied_once(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    change = conversation_payload(event="conversation_updated", labels=["vip"], updated_at=DEFAULT_UPDATED_AT + 3)

    first = processor.process(record(change, integration_id=integration_id, delivery_id="a"))
    second = processor.process(record(change, integration_id=integration_id, delivery_id="b"))

    assert (first.status, second.status) == ("applied", "duplicate")
    assert [e["type"] for e in snapshot(conn)["events"]] == ["conversation.created", "contact.created"]


def test_the_status_event_and_the_update_of_one_change_apply_once_and_the_second_is_stale(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    # Chatwoot sends conversation_status_changed and conversation_updated for one status change: two changes
    # by content, one state.
    updated_at = DEFAULT_UPDATED_AT + 9
    processor.process(record(conversation_payload(event="conversation_created"), integration_id=integration_id))

    results = [
        processor.process(
            record(
                conversation_payload(event=name, status="resolved", updated_at=updated_at),
                integration_id=integration_id,
            )
        )
        for name in ("conversation_status_changed", "conversation_updated")
    ]

    # The second carries the state the first wrote: the guard keeps it, and the ledger says so.
    assert [(r.status, r.reason) for r in results] == [("applied", None), ("stale", "not_newer")]
    assert [r.changes for r in results] == [1, 0]
    conversation = ConversationRepository(conn).get(INTEGRATION_ID, 1043)
    assert conversation is not None and conversation.status == "resolved"


def test_an_ignored_event_delivered_twice_is_a_duplicate(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    typing = record(load_fixture("conversation_typing_on"), integration_id=integration_id, delivery_id="t-1")

    results = [processor.process(typing) for _ in range(2)]

    assert [r.status for r in results] == ["ignored", "duplicate"]
    assert statuses(conn, integration_id) == [("t-1", "ignored", "not_mirrored")]


def test_a_payload_of_another_account_is_rejected_and_stored_under_neither(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    other_integration = create_integration(conn, account_id=5, credentials={"api_token": "t", "webhook_secret": "s"})
    body = raw_body(message_payload(account_id=5))

    result = processor.process(record(body, integration_id=integration_id, delivery_id="foreign"))

    assert (result.status, result.reason) == ("rejected", "account_mismatch")
    assert snapshot(conn) == {"conversations": [], "messages": [], "contacts": [], "events": []}
    (delivery,) = DeliveryRepository(conn).list_for_integration(integration_id)
    assert (delivery.status, delivery.reason, delivery.account_id, delivery.conversation_id) == (
        "rejected",
        "account_mismatch",
        None,
        None,
    )
    assert delivery.body == body
    assert DeliveryRepository(conn).list_for_integration(other_integration) == []


def test_a_conversation_event_of_another_account_is_rejected(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    result = processor.process(record(conversation_payload(account_id=99), integration_id=integration_id))

    assert (result.status, result.reason) == ("rejected", "account_mismatch")
    assert snapshot(conn)["conversations"] == []


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"event": "message_created", "id": ', "not_json"),
        (b"\xff\xfe not utf-8", "not_json"),
        (b'["event", "message_created"]', "not_an_object"),
        (b'{"id": 5}', "missing_event"),
        (b'{"event": 12}', "invalid_event"),
        (b'{"event": "message_created", "id": 5}', "invalid_fields"),
    ],
)
def test_a_body_that_is_not_a_webhook_is_rejected_with_its_body_kept(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor, body: bytes, reason: str
) -> None:
    result = processor.process(record(body, integration_id=integration_id, delivery_id="bad"))

    assert (result.status, result.reason) == ("rejected", reason)
    (delivery,) = DeliveryRepository(conn).list_for_integration(integration_id)
    assert (delivery.status, delivery.reason, delivery.body) == ("rejected", reason, body)
    assert delivery.error
    assert snapshot(conn) == {"conversations": [], "messages": [], "contacts": [], "events": []}


def test_a_delivery_for_an_integration_that_no_longer_exists_is_dropped(
    conn: psycopg.Connection, processor: DeliveryProcessor
) -> None:
    result = processor.process(record(load_fixture("conversation_created"), integration_id=404))

    assert (result.status, result.reason) == ("dropped", "unknown_integration")
    assert snapshot(conn)["conversations"] == []


def test_duplicates_inside_one_batch_are_settled_like_duplicates_across_batches(
    conn: psycopg.Connection, db: Database, integration_id: int
) -> None:
    body = raw_body(load_fixture("message_created_incoming"))
    batch = [
        (record(body, integration_id=integration_id, delivery_id="d-1"), 1),
        (record(body, integration_id=integration_id, delivery_id="d-2"), 1),
        (record(body, integration_id=integration_id, delivery_id="d-1"), 1),
    ]

    outcomes = OneTransactionOnly(unit_of_work_factory(db)).handle_many(batch)

    assert [(o.status, o.reason) for o in outcomes if not isinstance(o, Exception)] == [
        ("applied", None),
        ("duplicate", "same_content"),
        ("duplicate", "same_delivery"),
    ]
    assert statuses(conn, integration_id) == [("d-1", "applied", None), ("d-2", "duplicate", "same_content")]
    conversation = ConversationRepository(conn).get(INTEGRATION_ID, 1043)
    assert conversation is not None and conversation.messages_count == 1


def test_a_batch_is_applied_as_its_deliveries_one_after_the_other(
    conn: psycopg.Connection, db: Database, integration_id: int
) -> None:
    bodies = [
        conversation_payload(event="conversation_created"),
        message_payload(message_id=1, created_at="2026-06-17T10:12:11.000Z"),
        conversation_payload(event="conversation_updated", assignee_id=21, updated_at=DEFAULT_UPDATED_AT + 2),
        message_payload(message_id=2, message_type="outgoing", sender="user", created_at="2026-06-17T10:12:12.000Z"),
        load_fixture("contact_updated"),
        conversation_payload(event="conversation_updated", status="resolved", updated_at=DEFAULT_UPDATED_AT + 4),
    ]
    one_by_one = DeliveryProcessor(unit_of_work_factory(db))
    for n, body in enumerate(bodies):
        one_by_one.process(record(body, integration_id=integration_id, delivery_id=f"single-{n}"))
    expected = snapshot(conn)
    with conn.transaction():
        conn.execute("DELETE FROM eventos_chatwoot")
        conn.execute("DELETE FROM entregas_webhook_chatwoot")
        conn.execute("DELETE FROM conversas_chatwoot")
        conn.execute("DELETE FROM contatos_chatwoot")

    together = OneTransactionOnly(unit_of_work_factory(db))
    outcomes = together.handle_many(
        [(record(body, integration_id=integration_id, delivery_id=f"batch-{n}"), 1) for n, body in enumerate(bodies)]
    )

    assert [getattr(o, "status", o) for o in outcomes] == ["applied"] * len(bodies)
    state = snapshot(conn)
    for table in ("conversations", "messages", "contacts"):
        assert strip_stamps(state[table]) == strip_stamps(expected[table])


def strip_stamps(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in row.items() if k not in {"created_at", "updated_at"}} for row in rows]


def test_a_delivery_for_an_integration_switched_off_meanwhile_is_ignored(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    with conn.transaction():
        IntegrationRepository(conn).update(integration_id, {"active": False})

    result = processor.process(record(load_fixture("conversation_created"), integration_id=integration_id))

    assert (result.status, result.reason) == ("ignored", "integration_inactive")
    assert snapshot(conn)["conversations"] == []


def test_values_the_mirror_cannot_hold_reject_the_delivery(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    body = conversation_payload(unread_count=-1)

    result = processor.process(record(body, integration_id=integration_id, delivery_id="odd"))

    assert (result.status, result.reason) == ("rejected", "invalid_fields")
    (delivery,) = DeliveryRepository(conn).list_for_integration(integration_id)
    assert delivery.error is not None and "unread_count" in delivery.error and "-1" not in delivery.error
    assert snapshot(conn)["conversations"] == []


def test_an_older_state_delivered_late_is_recorded_stale_and_changes_nothing(
    conn: psycopg.Connection, integration_id: int, processor: DeliveryProcessor
) -> None:
    processor.process(record(conversation_payload(event="conversation_created"), integration_id=integration_id))
    newer = conversation_payload(event="conversation_updated", status="resolved", updated_at=DEFAULT_UPDATED_AT + 9)
    older = conversation_payload(event="conversation_updated", status="pending", updated_at=DEFAULT_UPDATED_AT + 5)
    processor.process(record(newer, integration_id=integration_id, delivery_id="newer"))
    events_before = conn.execute("SELECT count(*) AS n FROM eventos_chatwoot").fetchone()

    late = processor.process(record(older, integration_id=integration_id, delivery_id="older"))

    assert (late.status, late.reason, late.changes) == ("stale", "not_newer", 0)
    row = DeliveryRepository(conn).get(integration_id, "older")
    assert row is not None and (row.status, row.reason, row.body) == ("stale", "not_newer", None)
    assert DeliveryRepository(conn).get(integration_id, "newer").status == "applied"  # type: ignore[union-attr]
    conversation = ConversationRepository(conn).get(INTEGRATION_ID, 1043)
    assert conversation is not None and conversation.status == "resolved"
    assert conn.execute("SELECT count(*) AS n FROM eventos_chatwoot").fetchone() == events_before
