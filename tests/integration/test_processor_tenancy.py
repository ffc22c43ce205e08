"""One SQS batch carrying deliveries of two integrations whose Chatwoot ids collide (account 3 on two servers,
the same conversation and message ids): each delivery lands in its own integration, counted and announced there."""

from __future__ import annotations

import psycopg

from chatwoot_integration.ingest.processor import DeliveryProcessor
from tests.factories import create_integration
from tests.fixtures.chatwoot_payloads import message_payload
from tests.unit.ingest.support import ACCOUNT_ID, SECRET, record


def test_colliding_ids_of_two_integrations_in_one_batch_stay_apart(
    conn: psycopg.Connection, processor: DeliveryProcessor
) -> None:
    credentials = {"api_token": "t", "webhook_secret": SECRET}
    first = create_integration(conn, account_id=ACCOUNT_ID, base_url="https://one.example", credentials=credentials)
    second = create_integration(conn, account_id=ACCOUNT_ID, base_url="https://two.example", credentials=credentials)
    batch = [
        (record(message_payload(content="do primeiro"), integration_id=first), 1),
        (record(message_payload(content="do segundo"), integration_id=second), 1),
    ]

    results = processor.handle_many(batch)

    assert [(r.integration_id, r.status, r.changes) for r in results] == [(first, "applied", 3), (second, "applied", 3)]
    messages = conn.execute(
        "SELECT integration_id, message_id, content FROM mensagens_chatwoot ORDER BY integration_id"
    ).fetchall()
    assert messages == [
        {"integration_id": first, "message_id": 55120, "content": "do primeiro"},
        {"integration_id": second, "message_id": 55120, "content": "do segundo"},
    ]
    conversations = conn.execute(
        "SELECT integration_id, conversation_id, messages_count, last_message_preview FROM conversas_chatwoot"
        " ORDER BY integration_id"
    ).fetchall()
    assert conversations == [
        {"integration_id": first, "conversation_id": 1043, "messages_count": 1, "last_message_preview": "do primeiro"},
        {"integration_id": second, "conversation_id": 1043, "messages_count": 1, "last_message_preview": "do segundo"},
    ]
    events = conn.execute("SELECT integration_id, type FROM eventos_chatwoot ORDER BY integration_id, id").fetchall()
    by_integration = {iid: [e["type"] for e in events if e["integration_id"] == iid] for iid in (first, second)}
    assert by_integration[first] == by_integration[second]
    assert sorted(by_integration[first]) == ["contact.created", "conversation.created", "message.created"]
