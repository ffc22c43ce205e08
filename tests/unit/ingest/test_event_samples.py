"""The sample events in events/ (for ``sam local invoke``) are what the functions really receive."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import webhook.app as webhook_app

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.ingest.queue import MemoryIngestQueue
from chatwoot_integration.ingest.receive import WebhookReceiver
from chatwoot_integration.ingest.record import IngestRecord
from chatwoot_integration.webhooks.payloads import parse_webhook
from tests.unit.ingest.support import LambdaContextStub, StaticSecrets, integration_secret

EVENTS = Path(__file__).resolve().parents[3] / "events"
# The secret the sample webhook event is signed with (configure it on integration 1 to invoke it locally).
SAMPLE_SECRET = "sample-webhook-secret-change-me"


def load(name: str) -> dict[str, Any]:
    event: dict[str, Any] = json.loads((EVENTS / name).read_text())
    return event


def test_the_webhook_sample_is_a_correctly_signed_http_api_event() -> None:
    event = load("webhook.json")
    signed_at = float(event["headers"]["x-chatwoot-timestamp"])
    queue = MemoryIngestQueue()
    secrets = StaticSecrets({1: integration_secret(webhook_secret=SAMPLE_SECRET)})
    bootstrap().configure(receiver=WebhookReceiver(secrets, queue, clock=lambda: signed_at + 2))
    response = webhook_app.lambda_handler(event, LambdaContextStub())

    assert event["version"] == "2.0" and event["routeKey"] == "POST /webhooks/chatwoot/{integration_id}"
    assert response["statusCode"] == 202
    (record,) = queue.drain()
    assert record.delivery_id == event["headers"]["x-chatwoot-delivery"]
    assert parse_webhook(record.body).event == "conversation_created"


def test_the_processor_sample_is_an_sqs_batch_of_ingest_records() -> None:
    event = load("processor.json")

    records = [IngestRecord.from_message(r["body"]) for r in event["Records"]]

    assert all(r["eventSource"] == "aws:sqs" for r in event["Records"])
    assert [parse_webhook(r.body).event for r in records] == ["conversation_created", "message_created"]
    assert {r.integration_id for r in records} == {1}
    assert records[0].body.decode() == load("webhook.json")["body"]
