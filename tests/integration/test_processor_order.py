"""Order safety: any permutation and repetition of a conversation's deliveries ends in the ordered state."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatwoot_integration.db import Database
from chatwoot_integration.ingest.processor import DeliveryProcessor, DeliveryResult
from chatwoot_integration.ingest.record import IngestRecord
from chatwoot_integration.uow import unit_of_work_factory
from tests.factories import create_integration
from tests.fixtures.chatwoot_payloads import (
    DEFAULT_UPDATED_AT,
    contact_payload,
    conversation_payload,
    message_payload,
    raw_body,
)
from tests.unit.ingest.support import ACCOUNT_ID, SECRET, record

U = DEFAULT_UPDATED_AT
CREATED = 1781691130

# One conversation's life, as Chatwoot would report it: each version is the row at one updated_at.
_VERSIONS: dict[int, dict[str, Any]] = {
    0: {"status": "open", "unread_count": 0, "waiting_since": 0, "last_activity_at": CREATED},
    1: {"status": "open", "unread_count": 1, "waiting_since": CREATED + 1, "last_activity_at": CREATED + 1},
    2: {
        "status": "open",
        "unread_count": 1,
        "waiting_since": CREATED + 1,
        "last_activity_at": CREATED + 1,
        "assignee_id": 21,
        "labels": ["billing"],
    },
    3: {
        "status": "open",
        "unread_count": 0,
        "waiting_since": 0,
        "last_activity_at": CREATED + 3,
        "assignee_id": 21,
        "labels": ["billing"],
        "extra": {"first_reply_created_at": "2026-06-17T10:12:13.000Z"},
    },
    4: {
        "status": "resolved",
        "unread_count": 0,
        "waiting_since": 0,
        "last_activity_at": CREATED + 3,
        "assignee_id": 21,
        "labels": ["billing", "refund"],
        "extra": {"first_reply_created_at": "2026-06-17T10:12:13.000Z"},
    },
}


def version(n: int, event: str | None) -> dict[str, Any]:
    values = dict(_VERSIONS[n])
    return conversation_payload(event=event, updated_at=U + n, messages=[], **values)


def message(n: int, message_id: int, **values: Any) -> dict[str, Any]:
    return message_payload(message_id=message_id, conversation=version(n, None), **values)


SEQUENCE: list[bytes] = [
    raw_body(body)
    for body in (
        version(0, "conversation_created"),
        contact_payload(event="contact_created"),
        message(1, 55120, content="charged twice", created_at="2026-06-17T10:12:11.000Z"),
        version(1, "conversation_updated"),
        version(2, "conversation_updated"),
        message(
            3, 55131, message_type="outgoing", sender="user", content="on it", created_at="2026-06-17T10:12:13.000Z"
        ),
        message(
            3,
            55132,
            message_type="outgoing",
            sender="user",
            content="refund sent",
            created_at="2026-06-17T10:12:14.000Z",
        ),
        message(
            3,
            55140,
            message_type="outgoing",
            sender="user",
            private=True,
            content="RF-2231",
            created_at="2026-06-17T10:12:15.000Z",
        ),
        version(3, "conversation_updated"),
        message(
            3,
            55132,
            message_type="outgoing",
            sender="user",
            content="refund sent today",
            event="message_updated",
            created_at="2026-06-17T10:12:14.000Z",
        ),
        contact_payload(
            event="contact_updated",
            name="Maria Souza",
            email="maria@example.com",
            changed_attributes=[
                {"name": {"previous_value": "quiet-river-118", "current_value": "Maria Souza"}},
                {"email": {"previous_value": None, "current_value": "maria@example.com"}},
            ],
        ),
        message(
            4,
            55132,
            message_type="outgoing",
            sender="user",
            content="This message was deleted",
            event="message_updated",
            created_at="2026-06-17T10:12:14.000Z",
            content_attributes={"deleted": True},
        ),
        version(4, "conversation_status_changed"),
        version(4, "conversation_updated"),
    )
]


def mirror_state(conn: psycopg.Connection) -> dict[str, Any]:
    """The mirror as the platform reads it: rows without this product's own write stamps."""
    conversations = conn.execute("SELECT * FROM conversas_chatwoot ORDER BY integration_id, conversation_id").fetchall()
    messages = conn.execute("SELECT * FROM mensagens_chatwoot ORDER BY integration_id, message_id").fetchall()
    contacts = conn.execute("SELECT * FROM contatos_chatwoot ORDER BY integration_id, contact_id").fetchall()
    local = {"id", "created_at", "updated_at", "synced_at"}
    return {
        "conversations": [{k: v for k, v in row.items() if k not in local} for row in conversations],
        "messages": [{k: v for k, v in row.items() if k not in local} for row in messages],
        "contacts": [{k: v for k, v in row.items() if k not in local} for row in contacts],
    }


def reset(conn: psycopg.Connection) -> None:
    # DELETE, not TRUNCATE: these tables hold a few rows, and TRUNCATE costs far more per example.
    with conn.transaction():
        for table in ("eventos_chatwoot", "entregas_webhook_chatwoot", "conversas_chatwoot", "contatos_chatwoot"):
            conn.execute(f"DELETE FROM {table}")


class WatchedProcessor(DeliveryProcessor):
    """Counts deliveries applied one by one, to tell whether a batch took the single-transaction path."""

    one_by_one = 0

    def handle(self, record: IngestRecord, *, attempt: int = 1) -> DeliveryResult:
        self.one_by_one += 1
        return super().handle(record, attempt=attempt)


Order = list[tuple[int, bool]]


@st.composite
def deliveries(draw: st.DrawFn) -> tuple[Order, list[int]]:
    """Every delivery at least once, some again (half of the repeats under the same delivery id), any order,
    cut into SQS batches of 1 to 10 records.

    Each item is ``(index into SEQUENCE, reuse the delivery id of an earlier delivery of that index)``.
    """
    repeats = draw(st.lists(st.sampled_from(range(len(SEQUENCE))), max_size=len(SEQUENCE)))
    items = [(index, False) for index in range(len(SEQUENCE))]
    items += [(index, draw(st.booleans())) for index in repeats]
    order = draw(st.permutations(items))
    sizes = draw(st.lists(st.integers(min_value=1, max_value=10), min_size=len(order), max_size=len(order)))
    return order, sizes


Run = Callable[[Order, list[int] | None], dict[str, Any]]


@pytest.fixture
def run(conn: psycopg.Connection, db: Database) -> Run:
    """Apply deliveries in batches of the given sizes (one at a time without sizes); return the mirror state."""
    integration_id = create_integration(
        conn, account_id=ACCOUNT_ID, credentials={"api_token": "t", "webhook_secret": SECRET}
    )
    processor = WatchedProcessor(unit_of_work_factory(db))

    def apply(order: Order, sizes: list[int] | None = None) -> dict[str, Any]:
        reset(conn)
        delivery_ids: dict[int, str] = {}
        records = []
        for index, same_delivery in order:
            delivery_id = delivery_ids.get(index) if same_delivery else None
            delivery_id = delivery_id or str(uuid.uuid4())
            delivery_ids.setdefault(index, delivery_id)
            records.append((record(SEQUENCE[index], integration_id=integration_id, delivery_id=delivery_id), 1))
        batches = iter(sizes or [1] * len(records))
        start = 0
        while start < len(records):
            batch = records[start : start + next(batches, 10)]
            start += len(batch)
            processor.one_by_one = 0
            outcomes = processor.handle_many(batch)
            assert processor.one_by_one == (1 if len(batch) == 1 else 0), "the batch fell back to one by one"
            for outcome in outcomes:
                assert not isinstance(outcome, Exception), outcome
                assert outcome.status in {"applied", "stale", "duplicate"}
        return mirror_state(conn)

    return apply


def test_the_ordered_sequence_gives_the_expected_state(run: Run) -> None:
    state = run([(index, False) for index in range(len(SEQUENCE))], None)

    (conversation,) = state["conversations"]
    assert (conversation["status"], conversation["assignee_id"], conversation["labels"]) == (
        "resolved",
        21,
        ["billing", "refund"],
    )
    assert (conversation["messages_count"], conversation["private_notes_count"]) == (3, 1)
    assert (conversation["last_message_id"], conversation["last_message_preview"]) == (55132, None)
    assert [(m["message_id"], m["deleted"]) for m in state["messages"]] == [
        (55120, False),
        (55131, False),
        (55132, True),
        (55140, False),
    ]
    (contact,) = state["contacts"]
    assert (contact["name"], contact["email"]) == ("Maria Souza", "maria@example.com")


@pytest.fixture
def ordered_state(run: Run) -> dict[str, Any]:
    return run([(index, False) for index in range(len(SEQUENCE))], None)


@settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(drawn=deliveries())
def test_any_permutation_and_repetition_in_any_batches_ends_in_the_ordered_state(
    run: Run, ordered_state: dict[str, Any], drawn: tuple[Order, list[int]]
) -> None:
    order, sizes = drawn

    assert run(order, sizes) == ordered_state


def test_the_whole_sequence_in_one_batch_ends_in_the_ordered_state(run: Run, ordered_state: dict[str, Any]) -> None:
    reversed_order = [(index, False) for index in reversed(range(len(SEQUENCE)))]

    assert run(reversed_order + reversed_order, [len(SEQUENCE) * 2]) == ordered_state
