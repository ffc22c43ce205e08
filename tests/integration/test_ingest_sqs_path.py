"""The AWS path end to end: webhook function (secret from Secrets Manager) → SQS → processor function →
PostgreSQL, with the dead-letter queue and ``make replay-dlq`` (SQS and Secrets Manager through moto)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import processor.app as processor_app
import psycopg
import pytest
import webhook.app as webhook_app
from moto import mock_aws

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.db import Database
from chatwoot_integration.ingest.record import IngestRecord
from chatwoot_integration.repositories.conversations import ConversationRepository
from chatwoot_integration.repositories.deliveries import DeliveryRepository
from localdev.replay_dlq import move_messages
from tests.factories import create_integration
from tests.fixtures.chatwoot_payloads import DEFAULT_UPDATED_AT, conversation_payload, load_fixture, raw_body
from tests.fixtures.chatwoot_payloads import webhook_headers as signed_headers
from tests.unit.ingest.support import ACCOUNT_ID, INTEGRATION_ID, SECRET, LambdaContextStub, http_event, response_body

REGION = "us-east-1"
PREFIX = "chatwoot-integration-test/"


class Aws:
    def __init__(self, sqs: Any, queue_url: str, dlq_url: str) -> None:
        self.sqs = sqs
        self.queue_url = queue_url
        self.dlq_url = dlq_url

    def lambda_sqs_event(self, max_messages: int = 10) -> tuple[dict[str, Any], dict[str, str]]:
        """Receive like the event source mapping: the Lambda event, and each message's receipt handle."""
        messages = self.sqs.receive_message(
            QueueUrl=self.queue_url,
            MaxNumberOfMessages=max_messages,
            AttributeNames=["All"],
            VisibilityTimeout=0,
        ).get("Messages", [])
        records = [
            {
                "messageId": m["MessageId"],
                "receiptHandle": m["ReceiptHandle"],
                "body": m["Body"],
                "attributes": m["Attributes"],
                "messageAttributes": {},
                "md5OfBody": m["MD5OfBody"],
                "eventSource": "aws:sqs",
                "eventSourceARN": f"arn:aws:sqs:{REGION}:123456789012:ingest",
                "awsRegion": REGION,
            }
            for m in messages
        ]
        return {"Records": records}, {m["MessageId"]: m["ReceiptHandle"] for m in messages}

    def run_processor(self) -> dict[str, Any]:
        """One processor invocation; successes are deleted from the queue, as the event source mapping does."""
        event, receipts = self.lambda_sqs_event()
        response: dict[str, Any] = processor_app.lambda_handler(event, LambdaContextStub())
        failed = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        for message_id, receipt in receipts.items():
            if message_id not in failed:
                self.sqs.delete_message(QueueUrl=self.queue_url, ReceiptHandle=receipt)
        return response

    def waiting(self, queue_url: str) -> int:
        attributes = self.sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["All"])["Attributes"]
        return int(attributes["ApproximateNumberOfMessages"]) + int(attributes["ApproximateNumberOfMessagesNotVisible"])


@pytest.fixture
def integration_id(conn: psycopg.Connection) -> int:
    # The row's own credentials are not used on this path: the webhook reads Secrets Manager.
    return create_integration(conn, account_id=ACCOUNT_ID, credentials={"api_token": "t", "webhook_secret": "unused"})


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, db: Database, integration_id: int) -> Iterator[Aws]:
    for name, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "SECRETS_BACKEND": "secretsmanager",
        "INTEGRATION_SECRETS_PREFIX": PREFIX,
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("EVENT_BUS_NAME", raising=False)
    with mock_aws():
        sqs = boto3.client("sqs", region_name=REGION)
        dlq_url = sqs.create_queue(QueueName="ingest-dlq")["QueueUrl"]
        dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        queue_url = sqs.create_queue(
            QueueName="ingest",
            Attributes={"RedrivePolicy": json.dumps({"deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2"})},
        )["QueueUrl"]
        boto3.client("secretsmanager", region_name=REGION).create_secret(
            Name=f"{PREFIX}{integration_id}",
            SecretString=json.dumps({"api_token": "t", "webhook_secret": SECRET, "account_id": ACCOUNT_ID}),
        )
        monkeypatch.setenv("INGEST_QUEUE_URL", queue_url)
        # The handlers' graph, built again from this environment, on the test's database.
        bootstrap().configure(database=db)
        try:
            yield Aws(sqs, queue_url, dlq_url)
        finally:
            bootstrap().configure(database=db)


def post(body: bytes, integration_id: int, delivery_id: str) -> dict[str, Any]:
    headers = signed_headers(body, SECRET, int(time.time()), delivery_id)
    response: dict[str, Any] = webhook_app.lambda_handler(
        http_event(body, headers, integration_id=integration_id), LambdaContextStub()
    )
    return response


def status_of(conn: psycopg.Connection, conversation_id: int) -> str | None:
    conversation = ConversationRepository(conn).get(INTEGRATION_ID, conversation_id)
    return conversation.status if conversation else None


def test_deliveries_travel_through_sqs_to_the_mirror(aws: Aws, conn: psycopg.Connection, integration_id: int) -> None:
    created = raw_body(load_fixture("conversation_created"))
    resolved = raw_body(
        conversation_payload(event="conversation_status_changed", status="resolved", updated_at=DEFAULT_UPDATED_AT + 5)
    )

    answers = [post(created, integration_id, "d-1"), post(resolved, integration_id, "d-2")]

    # The webhook only queued: nothing is in the database yet.
    assert [a["statusCode"] for a in answers] == [202, 202]
    assert [response_body(a)["delivery_id"] for a in answers] == ["d-1", "d-2"]
    assert status_of(conn, 1043) is None
    queued, _ = aws.lambda_sqs_event()
    assert [IngestRecord.from_message(r["body"]).delivery_id for r in queued["Records"]] == ["d-1", "d-2"]

    response = aws.run_processor()

    assert response == {"batchItemFailures": []}
    assert status_of(conn, 1043) == "resolved"
    assert [d.status for d in DeliveryRepository(conn).list_for_integration(integration_id)] == ["applied", "applied"]
    assert aws.waiting(aws.queue_url) == 0


def test_a_redelivered_message_changes_nothing(aws: Aws, conn: psycopg.Connection, integration_id: int) -> None:
    post(raw_body(load_fixture("message_created_incoming")), integration_id, "once")
    event, _ = aws.lambda_sqs_event()

    first = processor_app.lambda_handler(event, LambdaContextStub())
    again = processor_app.lambda_handler(event, LambdaContextStub())

    assert first == again == {"batchItemFailures": []}
    conversation = ConversationRepository(conn).get(INTEGRATION_ID, 1043)
    assert conversation is not None and conversation.messages_count == 1
    assert [(d.status) for d in DeliveryRepository(conn).list_for_integration(integration_id)] == ["applied"]


def test_a_delivery_failing_every_retry_reaches_the_dead_letter_queue_and_replay_dlq_brings_it_back(
    aws: Aws, db: Database, conn: psycopg.Connection, integration_id: int
) -> None:
    post(raw_body(load_fixture("conversation_created")), integration_id, "unlucky")
    # The database is unreachable for the processor while SQS retries (maxReceiveCount 2 in this test).
    down = Database(lambda: "host=127.0.0.1 port=9 dbname=nowhere connect_timeout=2")
    bootstrap().configure(database=down)
    try:
        reports = [aws.run_processor() for _ in range(2)]
    finally:
        bootstrap().configure(database=db)
    assert [len(r["batchItemFailures"]) for r in reports] == [1, 1]
    third_receive, _ = aws.lambda_sqs_event()
    assert third_receive["Records"] == []  # SQS moved it on the receive after the last allowed one
    assert aws.waiting(aws.dlq_url) == 1
    assert status_of(conn, 1043) is None

    # When the cause is fixed, make replay-dlq moves it back and the processor applies it.
    summary = move_messages(aws.sqs, aws.dlq_url, aws.queue_url, wait_seconds=0)
    response = aws.run_processor()

    assert summary.moved == 1
    assert response == {"batchItemFailures": []}
    assert status_of(conn, 1043) == "open"
    assert aws.waiting(aws.dlq_url) == aws.waiting(aws.queue_url) == 0
