"""The webhook function as ``make run`` runs it: secrets from the integration row, no queue, so each accepted
delivery goes straight through the processor's SQS entry point into PostgreSQL."""

from __future__ import annotations

import json
import time
from typing import Any

import psycopg
import pytest
import webhook.app as webhook_app

from chatwoot_integration.db import Database
from chatwoot_integration.repositories.conversations import ConversationRepository
from chatwoot_integration.repositories.deliveries import DeliveryRepository
from chatwoot_integration.repositories.integrations import IntegrationRepository
from tests.factories import create_integration
from tests.fixtures.chatwoot_payloads import conversation_payload, load_fixture, raw_body, webhook_headers
from tests.unit.ingest.support import (
    ACCOUNT_ID,
    OTHER_SECRET,
    SECRET,
    LambdaContextStub,
    emf_metrics,
    http_event,
    metric_total,
    response_body,
)

LEGACY_TOKEN = "legacy-token-Zr8Qp2Lm5Vx9Tb3N"


@pytest.fixture(autouse=True)
def local_settings(handler_environment: None, db: Database) -> None:
    """No ingest queue and secrets in the database, as in ``make run``; a receiver built from those settings."""


def post(body: bytes, integration_id: int, *, secret: str = SECRET, delivery_id: str | None = None) -> dict[str, Any]:
    headers = webhook_headers(body, secret, int(time.time()), delivery_id)
    response: dict[str, Any] = webhook_app.lambda_handler(
        http_event(body, headers, integration_id=integration_id), LambdaContextStub()
    )
    return response


def ledger(conn: psycopg.Connection, integration_id: int) -> list[tuple[str, str, str | None]]:
    return [(d.delivery_id, d.status, d.reason) for d in DeliveryRepository(conn).list_for_integration(integration_id)]


def mirrored(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return list(conn.execute("SELECT conversation_id, status, messages_count FROM conversas_chatwoot ORDER BY 1"))


def test_an_accepted_delivery_is_in_the_mirror_when_the_webhook_answers(
    conn: psycopg.Connection, integration_id: int
) -> None:
    response = post(raw_body(load_fixture("message_created_incoming")), integration_id, delivery_id="d-1")

    assert response["statusCode"] == 202
    assert response_body(response) == {"status": "accepted", "delivery_id": "d-1"}
    assert mirrored(conn) == [{"conversation_id": 1043, "status": "open", "messages_count": 1}]
    assert ledger(conn, integration_id) == [("d-1", "applied", None)]
    events = conn.execute("SELECT type, published_at FROM eventos_chatwoot ORDER BY id").fetchall()
    assert [e["type"] for e in events] == ["conversation.created", "message.created", "contact.created"]
    assert all(e["published_at"] is None for e in events)  # no bus locally: the change feed is the consumer


def test_the_same_delivery_three_times_is_accepted_three_times_and_applied_once(
    conn: psycopg.Connection, integration_id: int
) -> None:
    body = raw_body(load_fixture("message_created_incoming"))

    statuses = [post(body, integration_id, delivery_id="same")["statusCode"] for _ in range(3)]

    assert statuses == [202, 202, 202]
    assert ledger(conn, integration_id) == [("same", "applied", None)]
    assert mirrored(conn)[0]["messages_count"] == 1


def test_a_signed_body_that_is_not_json_is_answered_400_and_recorded_as_rejected_only(
    conn: psycopg.Connection, integration_id: int
) -> None:
    body = b'{"event": "conversation_created", "id": 1043,'

    response = post(body, integration_id, delivery_id="broken")

    assert response["statusCode"] == 400
    assert response_body(response)["error"]["code"] == "invalid_payload"
    (delivery,) = DeliveryRepository(conn).list_for_integration(integration_id)
    assert (delivery.delivery_id, delivery.status, delivery.reason, delivery.body) == (
        "broken",
        "rejected",
        "not_json",
        body,
    )
    assert mirrored(conn) == []
    assert conn.execute("SELECT count(*) AS n FROM eventos_chatwoot").fetchone() == {"n": 0}


def test_an_oversized_body_is_answered_413_and_nothing_is_stored(conn: psycopg.Connection, integration_id: int) -> None:
    body = json.dumps({"event": "message_created", "content": "x" * (1024 * 1024)}).encode()

    response = post(body, integration_id)

    assert response["statusCode"] == 413
    assert ledger(conn, integration_id) == []


def test_a_forged_delivery_is_answered_401_and_nothing_is_stored(conn: psycopg.Connection, integration_id: int) -> None:
    response = post(raw_body(conversation_payload()), integration_id, secret=OTHER_SECRET)

    assert response["statusCode"] == 401
    assert ledger(conn, integration_id) == []
    assert mirrored(conn) == []


def test_a_switched_off_integration_is_answered_401(conn: psycopg.Connection, integration_id: int) -> None:
    with conn.transaction():
        IntegrationRepository(conn).update(integration_id, {"active": False})

    assert post(raw_body(conversation_payload()), integration_id)["statusCode"] == 401
    assert mirrored(conn) == []


def test_a_legacy_integration_accepts_its_url_token(conn: psycopg.Connection) -> None:
    integration_id = create_integration(
        conn,
        account_id=ACCOUNT_ID,
        credentials={"api_token": "t", "webhook_secret": None, "legacy_token": LEGACY_TOKEN},
        legacy_unsigned=True,
    )
    body = raw_body(conversation_payload())
    event = http_event(body, {"Content-Type": "application/json"}, integration_id=integration_id, token=LEGACY_TOKEN)
    wrong = http_event(body, {"Content-Type": "application/json"}, integration_id=integration_id, token="nope")

    accepted = webhook_app.lambda_handler(event, LambdaContextStub())
    refused = webhook_app.lambda_handler(wrong, LambdaContextStub())

    assert (accepted["statusCode"], refused["statusCode"]) == (202, 401)
    assert [c["conversation_id"] for c in mirrored(conn)] == [1043]


def test_a_delivery_for_another_account_is_accepted_then_rejected_and_stored_under_neither(
    conn: psycopg.Connection, integration_id: int
) -> None:
    response = post(raw_body(conversation_payload(account_id=77)), integration_id, delivery_id="foreign")

    assert response["statusCode"] == 202
    assert ledger(conn, integration_id) == [("foreign", "rejected", "account_mismatch")]
    assert ConversationRepository(conn).get(77, 1043) is None
    assert mirrored(conn) == []


def test_the_whole_path_logs_keys_and_counts_outcomes_without_content_or_secrets(
    conn: psycopg.Connection,
    integration_id: int,
    log_lines: list[dict[str, Any]],
    capsys: pytest.CaptureFixture[str],
) -> None:
    message = load_fixture("message_created_incoming")
    post(raw_body(message), integration_id, delivery_id="logged")
    post(raw_body(message), integration_id, delivery_id="logged")
    post(raw_body(conversation_payload(account_id=77)), integration_id, delivery_id="foreign")

    processed = next(line for line in log_lines if line["message"] == "delivery processed")
    assert {k: processed[k] for k in ("integration_id", "account_id", "conversation_id", "delivery_id")} == {
        "integration_id": integration_id,
        "account_id": ACCOUNT_ID,
        "conversation_id": 1043,
        "delivery_id": "logged",
    }
    text = json.dumps(log_lines)
    assert message["content"] not in text
    assert SECRET not in text
    documents = emf_metrics(capsys.readouterr().out)
    assert metric_total(documents, "received") == 3
    assert metric_total(documents, "applied") == 1
    assert metric_total(documents, "duplicate") == 1
    assert metric_total(documents, "rejected", reason="account_mismatch") == 1
