"""Failures: only the failed records of a batch are reported, the rest commit, failures are kept for replay."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from chatwoot_integration.db import Database
from chatwoot_integration.ingest.processor import DeliveryProcessor, Publisher
from chatwoot_integration.ingest.record import IngestRecord, sqs_event, sqs_event_record
from chatwoot_integration.repositories.conversations import ConversationRepository
from chatwoot_integration.repositories.deliveries import DeliveryRepository
from chatwoot_integration.services.changes import ChangePublisher
from chatwoot_integration.uow import unit_of_work_factory
from localdev.replay import ReplayOptions, replay
from tests.fixtures.chatwoot_payloads import DEFAULT_UPDATED_AT, conversation_payload
from tests.graph import graph
from tests.unit.ingest.support import INTEGRATION_ID, record


@pytest.fixture
def impatient_db(database_url: str) -> Iterator[Database]:
    """The processor's database, giving up on a row lock after 300 ms (the failure a busy database causes)."""
    url = psycopg.conninfo.make_conninfo(database_url, options="-c lock_timeout=300")
    database = Database(lambda: url)
    yield database
    database.close()


def processor_on(database: Database, publisher: Publisher | None = None) -> DeliveryProcessor:
    """A processor applying deliveries on ``database``, publishing through ``publisher``."""
    return DeliveryProcessor(unit_of_work_factory(database), publisher=publisher)


def no_bus(database: Database) -> ChangePublisher:
    return ChangePublisher(unit_of_work_factory(database), None)


def created(conversation_id: int, delivery_id: str, integration_id: int) -> IngestRecord:
    return record(
        conversation_payload(conversation_id=conversation_id, event="conversation_created"),
        integration_id=integration_id,
        delivery_id=delivery_id,
    )


def resolved(conversation_id: int, delivery_id: str, integration_id: int) -> IngestRecord:
    body = conversation_payload(
        conversation_id=conversation_id,
        event="conversation_status_changed",
        status="resolved",
        updated_at=DEFAULT_UPDATED_AT + 60,
    )
    return record(body, integration_id=integration_id, delivery_id=delivery_id)


def failures(response: dict[str, Any]) -> list[str]:
    return [item["itemIdentifier"] for item in response["batchItemFailures"]]


def status_of(conn: psycopg.Connection, conversation_id: int) -> str | None:
    conversation = ConversationRepository(conn).get(INTEGRATION_ID, conversation_id)
    return conversation.status if conversation else None


def test_a_database_failure_in_the_middle_of_a_batch_reports_only_that_record_and_its_retry_succeeds(
    conn: psycopg.Connection, db: Database, impatient_db: Database, database_url: str, integration_id: int
) -> None:
    # Given conversation 2 exists, and another session holds its row locked.
    processor_on(db).process(created(2, "setup", integration_id))
    batch = [created(1, "d-1", integration_id), resolved(2, "d-2", integration_id), created(3, "d-3", integration_id)]
    event = sqs_event(batch)
    ids = [r["messageId"] for r in event["Records"]]
    with psycopg.connect(database_url, autocommit=True) as blocker, blocker.transaction():
        blocker.execute(
            "SELECT 1 FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = 2 FOR UPDATE",
            (INTEGRATION_ID,),
        )
        # When the processor handles the batch.
        response = processor_on(impatient_db, no_bus(db)).handle_batch(event)

    # Then only the middle record is reported; the others are committed.
    assert failures(response) == [ids[1]]
    assert (status_of(conn, 1), status_of(conn, 2), status_of(conn, 3)) == ("open", "open", "open")
    failed = DeliveryRepository(conn).get(integration_id, "d-2")
    assert failed is not None
    assert (failed.status, failed.attempts, failed.event) == ("failed", 1, "conversation_status_changed")
    assert failed.body == batch[1].body
    assert failed.error is not None and failed.error.startswith("LockNotAvailable")

    # When SQS delivers the failed record again.
    retry = processor_on(impatient_db, no_bus(db)).handle_batch(
        {"Records": [sqs_event_record(batch[1], receive_count=2)]}
    )

    # Then it is applied, and its ledger row holds the outcome without the body.
    assert failures(retry) == []
    assert status_of(conn, 2) == "resolved"
    applied = DeliveryRepository(conn).get(integration_id, "d-2")
    assert applied is not None
    assert (applied.status, applied.attempts, applied.body, applied.error) == ("applied", 2, None, None)
    assert applied.content_key is not None


def test_with_the_database_down_every_record_is_reported_and_nothing_raises(db: Database, integration_id: int) -> None:
    unreachable = Database(lambda: "host=127.0.0.1 port=9 dbname=nowhere connect_timeout=2")
    event = sqs_event([created(1, "a", integration_id), created(2, "b", integration_id)])

    response = processor_on(unreachable, no_bus(db)).handle_batch(event)

    assert failures(response) == [r["messageId"] for r in event["Records"]]


def test_a_message_that_is_not_an_ingest_record_is_reported_and_the_rest_applied(
    conn: psycopg.Connection, db: Database, integration_id: int
) -> None:
    event = sqs_event([created(1, "a", integration_id)])
    event["Records"].append({**event["Records"][0], "messageId": "poison", "body": '{"not": "a record"}'})

    response = processor_on(db, no_bus(db)).handle_batch(event)

    assert failures(response) == ["poison"]
    assert status_of(conn, 1) == "open"


def test_the_batch_response_is_sqs_partial_batch_response_naming_only_the_failed_records(
    conn: psycopg.Connection, db: Database, integration_id: int
) -> None:
    # Given a batch whose second record is not an ingest record.
    event = sqs_event([created(1, "a", integration_id), created(2, "b", integration_id)])
    event["Records"].insert(1, {**event["Records"][0], "messageId": "poison", "body": "not a record"})

    # When the processor handles it.
    response = processor_on(db, no_bus(db)).handle_batch(event)

    # Then the answer is exactly SQS's partial batch response, and the other records are applied.
    assert response == {"batchItemFailures": [{"itemIdentifier": "poison"}]}
    assert (status_of(conn, 1), status_of(conn, 2)) == ("open", "open")


class BrokenBus:
    def publish_pending(self, *, max_events: int = 500) -> int:
        raise ConnectionError("bus unreachable")


def test_a_publication_failure_never_fails_the_batch(
    conn: psycopg.Connection, db: Database, integration_id: int
) -> None:
    event = sqs_event([created(1, "a", integration_id), created(2, "b", integration_id)])

    response = processor_on(db, BrokenBus()).handle_batch(event)

    assert failures(response) == []
    assert (status_of(conn, 1), status_of(conn, 2)) == ("open", "open")
    row = conn.execute("SELECT count(*) AS n FROM eventos_chatwoot WHERE published_at IS NULL").fetchone()
    assert row is not None and row["n"] > 0


class RecordingBus:
    """An EventBridge client that accepts every entry."""

    def __init__(self) -> None:
        self.entries: list[dict[str, str]] = []

    def put_events(self, Entries: list[dict[str, str]]) -> dict[str, list[dict[str, str]]]:
        self.entries.extend(Entries)
        return {"Entries": [{"EventId": str(len(self.entries) + n)} for n in range(len(Entries))]}


def test_change_events_are_published_after_the_batch(
    conn: psycopg.Connection, db: Database, integration_id: int
) -> None:
    event = sqs_event([created(1, "a", integration_id)])
    bus = RecordingBus()

    processor_on(db, ChangePublisher(unit_of_work_factory(db), "changes", lambda: bus)).handle_batch(event)

    rows = conn.execute("SELECT type, published_at FROM eventos_chatwoot ORDER BY id").fetchall()
    assert [r["type"] for r in rows] == ["conversation.created", "contact.created"]
    assert all(r["published_at"] is not None for r in rows)
    assert [e["DetailType"] for e in bus.entries] == ["conversation.created", "contact.created"]


def test_a_failed_delivery_whose_content_was_applied_meanwhile_becomes_a_duplicate(
    conn: psycopg.Connection, db: Database, integration_id: int
) -> None:
    processor = processor_on(db)
    first = created(1, "first", integration_id)
    processor.record_failure(first, RuntimeError("boom"))
    processor.process(created(1, "second", integration_id))

    result = processor.process(first, attempt=2)

    assert (result.status, result.reason) == ("duplicate", "same_content")
    row = DeliveryRepository(conn).get(integration_id, "first")
    assert row is not None and (row.status, row.body) == ("duplicate", None)


def test_recording_a_failure_never_overwrites_a_final_outcome(
    conn: psycopg.Connection, db: Database, integration_id: int
) -> None:
    processor = processor_on(db)
    delivery = created(1, "done", integration_id)
    processor.process(delivery)

    recorded = processor.record_failure(delivery, RuntimeError("late failure report"))

    assert recorded is False
    row = DeliveryRepository(conn).get(integration_id, "done")
    assert row is not None and (row.status, row.body, row.error) == ("applied", None, None)


def test_make_replay_reprocesses_recorded_failures(conn: psycopg.Connection, db: Database, integration_id: int) -> None:
    processor = processor_on(db)
    for delivery in (created(1, "x", integration_id), resolved(1, "y", integration_id)):
        processor.record_failure(delivery, psycopg.OperationalError("server closed the connection"))
    out = io.StringIO()

    results = replay(graph(db), ReplayOptions(), out)

    assert [(r.delivery_id, r.status) for r in results] == [("x", "applied"), ("y", "applied")]
    assert status_of(conn, 1) == "resolved"
    assert DeliveryRepository(conn).failed() == []
    assert "replay: 2 applied" in out.getvalue()
    assert replay(graph(db), ReplayOptions(), io.StringIO()) == []


def test_make_replay_keeps_a_delivery_that_fails_again(
    conn: psycopg.Connection, db: Database, impatient_db: Database, database_url: str, integration_id: int
) -> None:
    processor_on(db).record_failure(created(1, "x", integration_id), RuntimeError("first"))
    # The contacts the delivery writes are locked by a session that does not let go.
    with psycopg.connect(database_url, autocommit=True) as blocker, blocker.transaction():
        blocker.execute("LOCK TABLE contatos_chatwoot IN EXCLUSIVE MODE")
        results = replay(graph(impatient_db), ReplayOptions(integration_id=integration_id), io.StringIO())

    assert [r.status for r in results] == ["failed"]
    row = DeliveryRepository(conn).get(integration_id, "x")
    assert row is not None and (row.status, row.attempts) == ("failed", 2)
    assert row.error is not None and row.error.startswith("LockNotAvailable")
