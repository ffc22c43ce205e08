"""The queued record survives the trip through SQS byte for byte, within SQS's size limit."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from chatwoot_integration.ingest.record import (
    SQS_MAX_MESSAGE_BYTES,
    IngestRecord,
    MalformedRecord,
    derive_delivery_id,
    sqs_event,
)
from tests.fixtures.chatwoot_payloads import load_fixture, raw_body

RECEIVED = datetime(2026, 6, 17, 10, 13, 20, 123456, tzinfo=UTC)


def make(body: bytes) -> IngestRecord:
    return IngestRecord(integration_id=7, delivery_id="9b1f0c8e-delivery", received_at=RECEIVED, body=body)


def test_a_json_body_travels_as_text_and_comes_back_identical() -> None:
    body = raw_body(load_fixture("message_created_incoming"))

    message = make(body).to_message()

    envelope = json.loads(message)
    assert envelope["body_encoding"] == "text"
    assert envelope["integration_id"] == 7 and envelope["delivery_id"] == "9b1f0c8e-delivery"
    assert IngestRecord.from_message(message) == make(body)


@pytest.mark.parametrize(
    "body",
    [
        b"\xff\xfe\x00 not utf-8",
        '{"event":"message_created","content":"ol\u00e1 \ufffe"}'.encode(),
        b"",
    ],
    ids=["not-utf8", "character-sqs-refuses", "empty"],
)
def test_bodies_sqs_cannot_carry_as_text_are_compressed_and_restored(body: bytes) -> None:
    message = make(body).to_message()

    restored = IngestRecord.from_message(message)

    assert restored.body == body
    if body:
        assert json.loads(message)["body_encoding"] == "gzip+base64"


def test_a_body_at_the_webhook_limit_still_fits_in_one_sqs_message() -> None:
    # 1 MiB of JSON full of quotes: escaping them would take the envelope past SQS's limit.
    filler = '"' * (SQS_MAX_MESSAGE_BYTES - 40)
    body = json.dumps({"event": "message_created", "content": filler}, ensure_ascii=False).encode()[
        :SQS_MAX_MESSAGE_BYTES
    ]

    message = make(body).to_message()

    assert len(message.encode()) <= SQS_MAX_MESSAGE_BYTES
    assert IngestRecord.from_message(message).body == body


def test_random_bytes_round_trip() -> None:
    body = os.urandom(4096)

    assert IngestRecord.from_message(make(body).to_message()).body == body


@pytest.mark.parametrize(
    "message",
    [
        "not json",
        "{}",
        '{"version": 1, "integration_id": 0, "delivery_id": "x", "received_at": "2026-06-17T10:00:00Z",'
        ' "body": "{}", "body_encoding": "text"}',
        '{"version": 1, "integration_id": 1, "delivery_id": "x", "received_at": "2026-06-17T10:00:00Z",'
        ' "body": "%%%", "body_encoding": "gzip+base64"}',
        '{"version": 1, "integration_id": 1, "delivery_id": "x", "received_at": "2026-06-17T10:00:00",'
        ' "body": "{}", "body_encoding": "text"}',
    ],
    ids=["not-json", "empty-object", "bad-integration", "bad-base64", "naive-time"],
)
def test_a_message_that_is_not_an_ingest_record_is_refused(message: str) -> None:
    with pytest.raises(MalformedRecord):
        IngestRecord.from_message(message)


def test_a_derived_delivery_id_is_stable_per_body_and_distinct_between_bodies() -> None:
    first = derive_delivery_id(b'{"event":"a"}')

    assert first == derive_delivery_id(b'{"event":"a"}')
    assert first != derive_delivery_id(b'{"event":"b"}')
    assert len(first) <= 200


def test_an_sqs_event_carries_one_record_per_message() -> None:
    records = [make(b'{"event":"a"}'), make(b'{"event":"b"}')]

    event = sqs_event(records, receive_count=3)

    assert [IngestRecord.from_message(r["body"]) for r in event["Records"]] == records
    assert {r["attributes"]["ApproximateReceiveCount"] for r in event["Records"]} == {"3"}
    assert len({r["messageId"] for r in event["Records"]}) == 2
    assert all(r["eventSource"] == "aws:sqs" for r in event["Records"])
