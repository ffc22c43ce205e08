"""The processor's sample SQS batch (events/processor.json) applies to the mirror."""

from __future__ import annotations

import json
from pathlib import Path

import processor.app as processor_app
import psycopg

from chatwoot_integration.repositories.conversations import ConversationRepository
from tests.factories import create_integration
from tests.unit.ingest.support import LambdaContextStub

SAMPLE = Path(__file__).resolve().parents[2] / "events" / "processor.json"


def test_the_sample_batch_is_applied(conn: psycopg.Connection) -> None:
    integration_id = create_integration(conn, account_id=3)
    assert integration_id == 1  # the integration the sample's records name
    event = json.loads(SAMPLE.read_text())

    response = processor_app.lambda_handler(event, LambdaContextStub())

    assert response == {"batchItemFailures": []}
    conversation = ConversationRepository(conn).get(integration_id, 1043)
    assert conversation is not None
    assert (conversation.status, conversation.messages_count) == ("open", 1)
