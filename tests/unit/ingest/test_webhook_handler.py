"""The webhook function's handler: signature vectors, legacy tokens, size and body checks, metrics and logs.

The handler runs with an in-memory secret lookup and an in-memory queue, so these tests see exactly what
would have been queued; the database-backed path is covered in tests/integration/test_webhook_*.py.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import webhook.app as webhook_app

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.cache import IntegrationCache
from chatwoot_integration.ingest.queue import MemoryIngestQueue
from chatwoot_integration.ingest.receive import WebhookReceiver
from chatwoot_integration.ingest.record import derive_delivery_id
from chatwoot_integration.observability import SERVICE
from tests.fixtures.chatwoot_payloads import load_fixture, raw_body, webhook_headers
from tests.unit.ingest.support import (
    NOW,
    OTHER_SECRET,
    SECRET,
    LambdaContextStub,
    StaticSecrets,
    clock,
    emf_metrics,
    http_event,
    integration_secret,
    metric_total,
    response_body,
    signed_event,
)

LEGACY_TOKEN = "legacy-url-token-4Qm9sVxT2pLr8NcA"
BODY = raw_body(load_fixture("message_created_incoming"))
UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "the delivery could not be authenticated"}}


@pytest.fixture
def secrets() -> StaticSecrets:
    return StaticSecrets(
        {
            1: integration_secret(),
            2: integration_secret(active=False),
            3: integration_secret(webhook_secret=None, legacy_unsigned=True, legacy_token=LEGACY_TOKEN),
            4: integration_secret(
                webhook_secret=OTHER_SECRET,
                previous_webhook_secret=SECRET,
                previous_webhook_secret_until=datetime.fromtimestamp(NOW, UTC) + timedelta(hours=1),
            ),
            5: integration_secret(
                webhook_secret=OTHER_SECRET,
                previous_webhook_secret=SECRET,
                previous_webhook_secret_until=datetime.fromtimestamp(NOW, UTC) - timedelta(seconds=1),
            ),
        }
    )


@pytest.fixture
def queue() -> MemoryIngestQueue:
    return MemoryIngestQueue()


@pytest.fixture(autouse=True)
def receiver(secrets: StaticSecrets, queue: MemoryIngestQueue) -> Iterator[WebhookReceiver]:
    installed = WebhookReceiver(secrets, queue, tolerance_seconds=300, max_body_bytes=1024 * 1024, clock=clock)
    bootstrap().configure(receiver=installed)
    yield installed
    bootstrap().configure()


def call(event: dict[str, Any]) -> dict[str, Any]:
    response: dict[str, Any] = webhook_app.lambda_handler(event, LambdaContextStub())
    return response


def assert_refused(response: dict[str, Any], queue: MemoryIngestQueue) -> None:
    assert response["statusCode"] == 401
    assert response_body(response) == UNAUTHORIZED
    assert queue.drain() == []


def test_a_correctly_signed_delivery_is_queued_and_accepted(queue: MemoryIngestQueue) -> None:
    response = call(signed_event(BODY, delivery_id="5d0e1c9a-1111-4c39-9d3a-2f1f0c7e5a11"))

    assert response["statusCode"] == 202
    assert response["headers"]["content-type"] == "application/json"
    assert response_body(response) == {"status": "accepted", "delivery_id": "5d0e1c9a-1111-4c39-9d3a-2f1f0c7e5a11"}
    (record,) = queue.drain()
    assert (record.integration_id, record.delivery_id, record.body) == (1, "5d0e1c9a-1111-4c39-9d3a-2f1f0c7e5a11", BODY)
    assert record.received_at == datetime.fromtimestamp(NOW, UTC)


def test_a_base64_encoded_body_is_verified_on_its_decoded_bytes(queue: MemoryIngestQueue) -> None:
    headers = webhook_headers(BODY, SECRET, NOW)

    response = call(http_event(BODY, headers, base64_body=True))

    assert response["statusCode"] == 202
    assert queue.drain()[0].body == BODY


@pytest.mark.parametrize("offset", [-300, 300], ids=["300s-old", "300s-ahead"])
def test_timestamps_at_the_edge_of_the_tolerance_are_accepted(offset: int, queue: MemoryIngestQueue) -> None:
    assert call(signed_event(BODY, timestamp=NOW + offset))["statusCode"] == 202


def test_a_body_changed_by_one_byte_is_refused(queue: MemoryIngestQueue) -> None:
    headers = webhook_headers(BODY, SECRET, NOW)
    one_byte = bytearray(BODY)
    one_byte[len(one_byte) // 2] ^= 0x01

    assert_refused(call(http_event(bytes(one_byte), headers)), queue)


def test_a_signature_made_with_another_secret_is_refused(queue: MemoryIngestQueue) -> None:
    assert_refused(call(signed_event(BODY, secret=OTHER_SECRET)), queue)


@pytest.mark.parametrize("offset", [-301, 301, -86_400], ids=["stale", "future", "a-day-old"])
def test_timestamps_outside_the_tolerance_are_refused(offset: int, queue: MemoryIngestQueue) -> None:
    assert_refused(call(signed_event(BODY, timestamp=NOW + offset)), queue)


@pytest.mark.parametrize(
    "change",
    [
        {"X-Chatwoot-Signature": None},
        {"X-Chatwoot-Timestamp": None},
        {"X-Chatwoot-Signature": None, "X-Chatwoot-Timestamp": None},
        {"X-Chatwoot-Timestamp": "1781691200.0"},
        {"X-Chatwoot-Timestamp": "-1781691200"},
        {"X-Chatwoot-Timestamp": "yesterday"},
        {"X-Chatwoot-Signature": "sha1=0123456789abcdef0123456789abcdef01234567"},
        {"X-Chatwoot-Signature": "sha256=not-hex"},
        {"X-Chatwoot-Signature": ""},
    ],
    ids=[
        "no-signature",
        "no-timestamp",
        "no-headers",
        "float-timestamp",
        "negative-timestamp",
        "word-timestamp",
        "sha1",
        "not-hex",
        "empty-signature",
    ],
)
def test_missing_or_malformed_headers_are_refused(change: dict[str, str | None], queue: MemoryIngestQueue) -> None:
    headers: dict[str, str] = dict(webhook_headers(BODY, SECRET, NOW))
    for name, value in change.items():
        headers.pop(name)
        if value is not None:
            headers[name] = value

    assert_refused(call(http_event(BODY, headers)), queue)


def test_a_signature_with_upper_case_hex_is_accepted(queue: MemoryIngestQueue) -> None:
    headers = dict(webhook_headers(BODY, SECRET, NOW))
    headers["X-Chatwoot-Signature"] = "sha256=" + headers["X-Chatwoot-Signature"].removeprefix("sha256=").upper()

    assert call(http_event(BODY, headers))["statusCode"] == 202


@pytest.mark.parametrize("integration_id", ["404", "0", "abc", "1 OR 1=1", "", "99999999999999999999"])
def test_unknown_integrations_get_the_same_refusal(integration_id: str, queue: MemoryIngestQueue) -> None:
    assert_refused(call(signed_event(BODY, integration_id=integration_id)), queue)


def test_an_inactive_integration_gets_the_same_refusal(queue: MemoryIngestQueue) -> None:
    assert_refused(call(signed_event(BODY, integration_id=2)), queue)


def test_during_a_rotation_the_previous_secret_is_still_accepted(queue: MemoryIngestQueue) -> None:
    assert call(signed_event(BODY, integration_id=4, secret=SECRET))["statusCode"] == 202
    assert call(signed_event(BODY, integration_id=4, secret=OTHER_SECRET))["statusCode"] == 202


def test_after_the_rotation_the_previous_secret_is_refused(queue: MemoryIngestQueue) -> None:
    assert_refused(call(signed_event(BODY, integration_id=5, secret=SECRET)), queue)
    assert call(signed_event(BODY, integration_id=5, secret=OTHER_SECRET))["statusCode"] == 202


def test_a_legacy_delivery_with_the_right_token_is_accepted_under_a_derived_delivery_id(
    queue: MemoryIngestQueue,
) -> None:
    event = http_event(BODY, {"Content-Type": "application/json"}, integration_id=3, token=LEGACY_TOKEN)

    response = call(event)

    assert response["statusCode"] == 202
    assert response_body(response)["delivery_id"] == derive_delivery_id(BODY)
    assert queue.drain()[0].delivery_id == derive_delivery_id(BODY)


@pytest.mark.parametrize(
    "token", [None, "", "legacy-url-token-4Qm9sVxT2pLr8NcB", LEGACY_TOKEN[:-1]], ids=["none", "empty", "wrong", "short"]
)
def test_a_legacy_delivery_with_a_wrong_or_missing_token_is_refused(
    token: str | None, queue: MemoryIngestQueue
) -> None:
    event = http_event(BODY, {"Content-Type": "application/json"}, integration_id=3, token=token)

    assert_refused(call(event), queue)


def test_the_legacy_token_does_not_open_an_integration_that_requires_signatures(queue: MemoryIngestQueue) -> None:
    event = http_event(BODY, {"Content-Type": "application/json"}, integration_id=1, token=LEGACY_TOKEN)

    assert_refused(call(event), queue)


def test_a_signed_delivery_to_a_legacy_integration_must_still_verify(queue: MemoryIngestQueue) -> None:
    headers = webhook_headers(BODY, SECRET, NOW)

    assert_refused(call(http_event(BODY, headers, integration_id=3, token=LEGACY_TOKEN)), queue)


def test_a_body_over_the_limit_is_refused_with_413_before_anything_else(
    receiver: WebhookReceiver, secrets: StaticSecrets, queue: MemoryIngestQueue
) -> None:
    big = b'{"event":"message_created","content":"' + b"x" * (1024 * 1024) + b'"}'

    response = call(signed_event(big))

    assert response["statusCode"] == 413
    assert response_body(response)["error"]["code"] == "payload_too_large"
    assert queue.drain() == []
    assert secrets.lookups == 0


def test_a_base64_body_over_the_limit_is_refused_without_decoding(
    secrets: StaticSecrets, queue: MemoryIngestQueue
) -> None:
    event = http_event(b"", webhook_headers(b"", SECRET, NOW))
    event.update(isBase64Encoded=True, body=base64.b64encode(b"y" * (1024 * 1024 + 1)).decode())

    assert call(event)["statusCode"] == 413
    assert secrets.lookups == 0


def test_a_body_exactly_at_the_limit_is_accepted(queue: MemoryIngestQueue) -> None:
    prefix, suffix = b'{"event":"unknown_big","pad":"', b'"}'
    body = prefix + b"p" * (1024 * 1024 - len(prefix) - len(suffix)) + suffix
    assert len(body) == 1024 * 1024

    assert call(signed_event(body))["statusCode"] == 202


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (b'{"event": "message_created", "id": ', "not_json"),
        (b"[1, 2]", "not_an_object"),
        (b'{"id": 1}', "missing_event"),
        (b'{"event": ""}', "invalid_event"),
    ],
)
def test_a_signed_body_that_is_not_a_webhook_is_answered_400_and_still_queued(
    body: bytes, reason: str, queue: MemoryIngestQueue
) -> None:
    response = call(signed_event(body, delivery_id="bad-body-1"))

    assert response["statusCode"] == 400
    assert response_body(response)["error"]["code"] == "invalid_payload"
    (record,) = queue.drain()
    assert (record.delivery_id, record.body) == ("bad-body-1", body)


def test_an_unsigned_bad_body_is_refused_401_not_400(queue: MemoryIngestQueue) -> None:
    assert_refused(call(http_event(b"not json", {"Content-Type": "application/json"})), queue)


def test_an_absurd_delivery_header_gets_a_derived_id(queue: MemoryIngestQueue) -> None:
    headers = dict(webhook_headers(BODY, SECRET, NOW))
    headers["X-Chatwoot-Delivery"] = "x" * 500

    response = call(http_event(BODY, headers))

    assert response_body(response)["delivery_id"] == derive_delivery_id(BODY)


class FailingQueue:
    def send(self, record: object) -> None:
        raise ConnectionError("queue unreachable")


def test_a_queue_failure_is_a_500_without_detail(secrets: StaticSecrets) -> None:
    bootstrap().configure(receiver=WebhookReceiver(secrets, FailingQueue(), clock=clock))

    response = call(signed_event(BODY))

    assert response["statusCode"] == 500
    assert response_body(response) == {
        "error": {"code": "internal_error", "message": "the delivery could not be queued"}
    }


def test_the_secret_is_looked_up_once_per_cache_period(queue: MemoryIngestQueue, secrets: StaticSecrets) -> None:
    now = [100.0]
    cached = IntegrationCache(secrets.load, ttl_seconds=30, clock=lambda: now[0])
    bootstrap().configure(receiver=WebhookReceiver(cached, queue, clock=clock))

    for _ in range(3):
        assert call(signed_event(BODY))["statusCode"] == 202
    now[0] += 31
    assert call(signed_event(BODY))["statusCode"] == 202

    assert secrets.lookups == 2


def test_refusals_are_counted_by_reason_and_acceptances_as_received(capsys: pytest.CaptureFixture[str]) -> None:
    call(signed_event(BODY))
    call(signed_event(BODY, secret=OTHER_SECRET))
    call(signed_event(BODY, timestamp=NOW - 1000))
    call(signed_event(BODY, integration_id=404))
    call(signed_event(b"{" * 10 + b"x" * (1024 * 1024)))

    documents = emf_metrics(capsys.readouterr().out)

    assert metric_total(documents, "received") == 1
    assert metric_total(documents, "rejected", reason="bad_signature") == 1
    assert metric_total(documents, "rejected", reason="stale_timestamp") == 1
    assert metric_total(documents, "rejected", reason="unknown_integration") == 1
    assert metric_total(documents, "rejected", reason="too_large") == 1
    assert all(d["dimensions"].get("service") == SERVICE for d in documents)


def test_logs_carry_the_delivery_keys_but_never_a_secret_a_token_or_message_content(
    log_lines: list[dict[str, Any]],
) -> None:
    call(signed_event(BODY, delivery_id="d-logged"))
    call(signed_event(BODY, secret=OTHER_SECRET, delivery_id="d-forged"))
    call(http_event(BODY, {"Content-Type": "application/json"}, integration_id=3, token="wrong-" + LEGACY_TOKEN))
    call(signed_event(b'{"event": 1, "content": "secret content"}', delivery_id="d-bad"))

    text = json.dumps(log_lines)
    accepted = next(line for line in log_lines if line.get("delivery_id") == "d-logged")
    assert (accepted["integration_id"], accepted["message"]) == (1, "delivery queued")
    forged = next(line for line in log_lines if line.get("delivery_id") == "d-forged")
    assert forged["reason"] == "bad_signature"
    for forbidden in (SECRET, OTHER_SECRET, LEGACY_TOKEN, "charged twice", "secret content"):
        assert forbidden not in text
