"""Webhook ingestion: signed deliveries through the webhook handler, the processor handler and PostgreSQL.

Measured in one run, on one database:

- ingest: 5,000 mixed signed events, the conversation lives of ``bench/workload.py`` (each created, messaged,
  assigned, answered with a private note, resolved, thanked and reopened, with the typing and ``contact_updated``
  noise Chatwoot sends along), 25 in progress at once. Each event goes
  through the webhook function's handler (signature check, enqueue) onto an in-memory queue; every 10 events
  (the SQS batch size of the template) the processor function's handler applies the batch (one transaction for
  the batch, record by record only when one fails). Per-event time = its webhook call + its share of the batch.
- the processor alone: events per second of time spent in the processor function's handler (the webhook
  handler's time is left out), compared with
- the limit: the same 5,000 conversation rows (one per event) upserted into ``conversas_chatwoot`` 10 rows per
  transaction (the processor's transaction shape: one SQS batch, one transaction), each batch one
  ``executemany`` in psycopg's pipeline mode (one round trip for the batch), on a connection with the same
  settings as the processor's (a plain ``INSERT … ON CONFLICT DO UPDATE``). Target: at least half of it.
- the limit of the same rows: everything the processor writes for those 5,000 events, written the cheapest way
  the database allows, 10 events per transaction: the deliveries' ledger rows, one conversation upsert per
  conversation-carrying event, the messages (their counter triggers fire as in the mirror) and one change event
  per event, each table one pipelined ``executemany``. The processor does more than this for the same rows (the
  ordering guard, deduplication against the ledger, mapping and validation); the ratio is what that costs.
  Target: at least half of it as well.
- for information, single-row upserts of those rows, each in its own transaction.
- the webhook handler alone (verify + enqueue to an in-memory queue): time per request.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import ModuleType
from typing import Any

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.cache import IntegrationCache
from chatwoot_integration.db import Database
from chatwoot_integration.ingest.queue import MemoryIngestQueue
from chatwoot_integration.ingest.receive import WebhookReceiver
from chatwoot_integration.ingest.record import sqs_event
from chatwoot_integration.secrets import DatabaseSecretStore
from chatwoot_integration.uow import unit_of_work_factory
from localdev.apigw import LocalLambdaContext
from tests.fixtures.chatwoot_payloads import (
    webhook_headers,
)

from .harness import (
    BenchContext,
    Result,
    create_integration,
    delivery_outcomes,
    load_function,
    median,
    percentile,
    quiet,
)
from .workload import interleaved_events

EVENTS = 5_000
CONVERSATIONS = 500  # rows the limit's upserts spread over, about as many as the events touch
BATCH_SIZE = 10
WEBHOOK_ONLY_REQUESTS = 3_000
ACCOUNT_ID = 3
SECRET = "bench-webhook-secret-5d1f0a"
NOW = 1781700000
BASE = datetime(2026, 6, 17, 10, 0, tzinfo=UTC)


def run(ctx: BenchContext) -> list[Result]:
    webhook = load_function("webhook")
    processor = load_function("processor")
    bodies = list(interleaved_events(EVENTS))
    with ctx.fresh_database("bench_ingest") as database, quiet():
        integration_id = create_integration(database, name="Bench", account_id=ACCOUNT_ID, webhook_secret=SECRET)
        ingest = _ingest(database, webhook, processor, integration_id, bodies)
        batched = _batched_upserts(database, integration_id, len(bodies))
        same_rows = _same_rows(database, integration_id, bodies)
        limit = _single_row_upserts(database, integration_id, len(bodies))
        webhook_alone = _webhook_alone(database, webhook, integration_id, bodies[:WEBHOOK_ONLY_REQUESTS])
        outcomes = delivery_outcomes(database, integration_id)
    if sum(outcomes.values()) < len(bodies) or outcomes.get("failed") or outcomes.get("rejected"):
        raise RuntimeError(f"unexpected delivery outcomes: {outcomes}")
    rate = len(bodies) / ingest.total_seconds
    processor_rate = len(bodies) / ingest.processor_seconds
    batched_rate = len(bodies) / batched
    same_rows_rate = len(bodies) / same_rows
    single_rate = len(bodies) / limit
    print(
        f"ingest: {rate:,.0f} events/s, p50 {ingest.p50_ms:.2f} ms, p99 {ingest.p99_ms:.2f} ms per event; "
        f"processor alone: {processor_rate:,.0f} events/s; limit: {batched_rate:,.0f} upserts/s 10 per "
        f"transaction, {same_rows_rate:,.0f} events/s writing the same rows batched, "
        f"{single_rate:,.0f} single-row upserts/s; webhook alone: p99 {webhook_alone:.3f} ms per request"
    )
    return [
        Result(name="ingest events/s (webhook + processor)", value=rate, unit="events/s"),
        Result(name="ingest p50 per event", value=ingest.p50_ms, unit="ms"),
        Result(name="ingest p99 per event", value=ingest.p99_ms, unit="ms"),
        Result(name="processor events/s (processor handler time)", value=processor_rate, unit="events/s"),
        Result(
            name="batched upserts/s into conversas_chatwoot (10 per transaction)", value=batched_rate, unit="upserts/s"
        ),
        Result(name="single-row upserts/s into conversas_chatwoot", value=single_rate, unit="upserts/s"),
        Result.compared("ingest events/s vs batched upserts/s", processor_rate, "events/s", batched_rate, ">= 0.5"),
        Result(name="the same rows written batched (10 events per transaction)", value=same_rows_rate, unit="events/s"),
        Result.compared(
            "ingest events/s vs the same rows written batched", processor_rate, "events/s", same_rows_rate, ">= 0.5"
        ),
        Result(name="webhook handler alone p99 (verify + enqueue)", value=webhook_alone, unit="ms"),
    ]


@dataclass
class _IngestTimes:
    total_seconds: float
    processor_seconds: float
    p50_ms: float
    p99_ms: float


def _ingest(
    database: Database, webhook: ModuleType, processor: ModuleType, integration_id: int, bodies: list[bytes]
) -> _IngestTimes:
    queue = MemoryIngestQueue()
    bootstrap().configure(database=database, receiver=_receiver(database, queue))
    context = LocalLambdaContext("bench", timeout_seconds=900)
    events = [_signed_event(body, integration_id, n) for n, body in enumerate(bodies)]
    per_event: list[float] = []
    processor_seconds = 0.0
    started = time.perf_counter()
    for start in range(0, len(events), BATCH_SIZE):
        chunk = events[start : start + BATCH_SIZE]
        webhook_times = []
        for event in chunk:
            before = time.perf_counter()
            response = webhook.lambda_handler(event, context)
            webhook_times.append(time.perf_counter() - before)
            if response["statusCode"] != 202:
                raise RuntimeError(f"webhook answered {response['statusCode']}: {response['body']}")
        batch = sqs_event(queue.drain())
        before = time.perf_counter()
        result = processor.lambda_handler(batch, context)
        batch_time = time.perf_counter() - before
        processor_seconds += batch_time
        if result["batchItemFailures"]:
            raise RuntimeError(f"processor reported failures: {result['batchItemFailures']}")
        per_event.extend(w + batch_time / len(chunk) for w in webhook_times)
    total = time.perf_counter() - started
    return _IngestTimes(total, processor_seconds, median(per_event) * 1000, percentile(per_event, 0.99) * 1000)


_LIMIT_UPSERT = """
INSERT INTO conversas_chatwoot AS c (integration_id, conversation_id, inbox_id, contact_id, status, assignee_id, labels,
    unread_count, last_activity_at, waiting_since, chatwoot_created_at, chatwoot_updated_at)
VALUES (%(integration_id)s, %(conversation_id)s, 7, %(contact_id)s, %(status)s, NULL, %(labels)s, 1,
    %(at)s, %(at)s, %(created)s, %(at)s)
ON CONFLICT (integration_id, conversation_id) DO UPDATE SET
    status = EXCLUDED.status, labels = EXCLUDED.labels, unread_count = EXCLUDED.unread_count,
    last_activity_at = EXCLUDED.last_activity_at, waiting_since = EXCLUDED.waiting_since,
    chatwoot_updated_at = EXCLUDED.chatwoot_updated_at
"""


def _limit_rows(integration_id: int, count: int, first_conversation: int) -> list[dict[str, Any]]:
    """``count`` conversation rows, one per event, over ``CONVERSATIONS`` conversations (new ones, then updates)."""
    statuses = ("open", "pending", "resolved")
    return [
        {
            "integration_id": integration_id,
            "conversation_id": first_conversation + n % CONVERSATIONS,
            "contact_id": 800_000 + n % CONVERSATIONS,
            "status": statuses[n % 3],
            "labels": ["billing"] if n % 2 else [],
            "at": BASE + timedelta(seconds=n),
            "created": BASE,
        }
        for n in range(count)
    ]


def _batched_upserts(database: Database, integration_id: int, count: int) -> float:
    """Seconds for ``count`` upserts, ``BATCH_SIZE`` per transaction, each batch one pipelined ``executemany``."""
    rows = _limit_rows(integration_id, count, 600_000)
    conn = database.connection()
    started = time.perf_counter()
    for start in range(0, count, BATCH_SIZE):
        with conn.transaction(), conn.cursor() as cursor:
            # psycopg sends an executemany in pipeline mode: the batch's statements go in one round trip.
            cursor.executemany(_LIMIT_UPSERT, rows[start : start + BATCH_SIZE])
    return time.perf_counter() - started


_SAME_ROWS_LEDGER = """
INSERT INTO entregas_webhook_chatwoot (integration_id, delivery_id, event, status, account_id, conversation_id,
    received_at)
VALUES (%(integration_id)s, %(delivery_id)s, %(event)s, 'applied', %(account_id)s, %(conversation_id)s, %(at)s)
"""
_SAME_ROWS_MESSAGE = """
INSERT INTO mensagens_chatwoot (integration_id, message_id, conversation_id, message_type, private, content_type, content,
    sender_type, sender_id, deleted, chatwoot_created_at)
VALUES (%(integration_id)s, %(message_id)s, %(conversation_id)s, %(message_type)s, %(private)s, 'text', %(content)s,
    'contact', 1, false, %(at)s)
ON CONFLICT (integration_id, message_id) DO NOTHING
"""
_SAME_ROWS_EVENT = """
INSERT INTO eventos_chatwoot (integration_id, type, actor, conversation_id, data)
VALUES (%(integration_id)s, %(type)s, 'chatwoot', %(conversation_id)s, %(data)s)
"""
_SAME_ROWS_OFFSET = 900_000  # conversation and message ids of the limit, apart from the ingest's own


def _same_rows(database: Database, integration_id: int, bodies: list[bytes]) -> float:
    """Seconds to write what the processor writes for ``bodies``, 10 events per transaction, batched per table."""
    batches = [
        _rows_of(integration_id, bodies[start : start + BATCH_SIZE], start)
        for start in range(0, len(bodies), BATCH_SIZE)
    ]
    conn = database.connection()
    started = time.perf_counter()
    for ledger, conversations, messages, events in batches:
        with conn.transaction(), conn.cursor() as cursor:
            cursor.executemany(_SAME_ROWS_LEDGER, ledger)
            if conversations:
                cursor.executemany(_LIMIT_UPSERT, conversations)
            if messages:
                cursor.executemany(_SAME_ROWS_MESSAGE, messages)
            cursor.executemany(_SAME_ROWS_EVENT, events)
    return time.perf_counter() - started


def _rows_of(integration_id: int, bodies: list[bytes], first: int) -> tuple[list[dict[str, Any]], ...]:
    ledger, conversations, messages, events = [], [], [], []
    statuses = ("open", "pending", "resolved", "snoozed")
    for n, raw in enumerate(bodies, start=first):
        body = json.loads(raw)
        name = body["event"]
        conversation = body.get("conversation") if name.startswith("message_") else body
        if name.startswith("contact_"):
            conversation = None
        conversation_id = conversation["id"] + _SAME_ROWS_OFFSET if conversation and "id" in conversation else None
        at = BASE + timedelta(seconds=n)
        ledger.append(
            {
                "integration_id": integration_id,
                "delivery_id": f"same-rows-{n:08d}",
                "event": name,
                "account_id": ACCOUNT_ID,
                "conversation_id": conversation_id,
                "at": at,
            }
        )
        if conversation_id is None or not name.startswith(
            ("conversation_created", "conversation_updated", "conversation_status", "message_")
        ):
            continue
        conversations.append(
            {
                "integration_id": integration_id,
                "conversation_id": conversation_id,
                "contact_id": 800_000,
                "status": conversation.get("status") if conversation.get("status") in statuses else "open",
                "labels": conversation.get("labels") or [],
                "at": at,
                "created": BASE,
            }
        )
        if name == "message_created":
            messages.append(
                {
                    "integration_id": integration_id,
                    "message_id": body["id"] + _SAME_ROWS_OFFSET,
                    "conversation_id": conversation_id,
                    "message_type": body.get("message_type")
                    if isinstance(body.get("message_type"), str)
                    else "incoming",
                    "private": bool(body.get("private")),
                    "content": body.get("content"),
                    "at": at,
                }
            )
        events.append(
            {
                "integration_id": integration_id,
                "type": "message.created" if name.startswith("message_") else "conversation.updated",
                "conversation_id": conversation_id,
                "data": json.dumps({"event": name}),
            }
        )
    return ledger, conversations, messages, events


def _single_row_upserts(database: Database, integration_id: int, count: int) -> float:
    """Seconds for ``count`` single-row upserts, each its own transaction (new conversations and updates)."""
    rows = _limit_rows(integration_id, count, 500_000)
    conn = database.connection()
    started = time.perf_counter()
    for row in rows:
        with conn.transaction():
            conn.execute(_LIMIT_UPSERT, row)
    return time.perf_counter() - started


def _webhook_alone(database: Database, webhook: ModuleType, integration_id: int, bodies: list[bytes]) -> float:
    """p99 in milliseconds of the webhook handler with an in-memory queue (no processor)."""
    queue = MemoryIngestQueue()
    bootstrap().configure(database=database, receiver=_receiver(database, queue))
    context = LocalLambdaContext("bench", timeout_seconds=900)
    events = [_signed_event(body, integration_id, n + 10_000_000) for n, body in enumerate(bodies)]
    times = []
    for event in events:
        before = time.perf_counter()
        webhook.lambda_handler(event, context)
        times.append(time.perf_counter() - before)
    if len(queue.drain()) != len(events):
        raise RuntimeError("the webhook did not queue every delivery")
    bootstrap().configure(database=database)
    return percentile(times, 0.99) * 1000


def _receiver(database: Database, queue: MemoryIngestQueue) -> WebhookReceiver:
    """The container's receiver with the benchmark's queue, and a clock at the time the deliveries were signed."""
    secrets = IntegrationCache(DatabaseSecretStore(unit_of_work_factory(database)).load, ttl_seconds=300)
    return WebhookReceiver(secrets, queue, clock=lambda: float(NOW))


def _signed_event(body: bytes, integration_id: int, n: int) -> dict[str, Any]:
    headers = webhook_headers(body, SECRET, NOW, delivery_id=f"bench-{n:08d}")
    return {
        "version": "2.0",
        "routeKey": "POST /webhooks/chatwoot/{integration_id}",
        "rawPath": f"/webhooks/chatwoot/{integration_id}",
        "rawQueryString": "",
        "headers": {name.lower(): value for name, value in headers.items()},
        "pathParameters": {"integration_id": str(integration_id)},
        "requestContext": {"http": {"method": "POST", "path": f"/webhooks/chatwoot/{integration_id}"}},
        "isBase64Encoded": False,
        "body": body.decode(),
    }
