"""Memory of one processor container over 50,000 webhook events: resident memory must stay flat after warm-up.

One process plays one Lambda container: the processor function's handler (``functions/processor/app.py``, so
the container's ``DeliveryProcessor`` from ``bootstrap`` and the per-invocation metric flush, exactly as deployed) gets SQS
events of 10 records (the template's batch size) against one database. The events are the conversation lives of
``bench/workload.py`` (created, first message, the ``contact_updated`` and typing noise Chatwoot sends along,
assignment, reply, private note, resolution, a follow-up that reopens), 25 conversations interleaved, built one
batch at a time so the benchmark itself holds nothing that grows.

Resident memory (RSS) is sampled every 5,000 events, after a garbage collection (so a sample shows what is
retained, not garbage waiting for the next cycle). Reported: RSS after the first 5,000 events (warm-up: imports,
connection, caches, allocator arenas), RSS at the end, and the growth per 10,000 events after warm-up, the slope
of a least-squares line through the samples from 5,000 on (less sensitive to one noisy sample than end minus
start).

Bound: 2 MB per 10,000 events, about 200 bytes per event. Keeping anything per delivery (a body of 1 to 3 KB, a
parsed model, a result, a log record) would exceed it several times over, while allocator noise (arenas reused
or not) stays well below. At that rate a container, which lives hours and handles far fewer than a million
events, would gain less than 200 MB over a million events: a slow leak, but below the bound a leak cannot hide.
"""

from __future__ import annotations

import gc
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from types import ModuleType

import psutil

from chatwoot_integration.ingest.record import IngestRecord, sqs_event
from localdev.apigw import LocalLambdaContext

from .harness import BenchContext, Result, create_integration, delivery_outcomes, load_function, quiet
from .workload import START, interleaved_events

EVENTS = 50_000
WARM_UP_EVENTS = 5_000
SAMPLE_EVERY = 5_000
BATCH_SIZE = 10
GROWTH_LIMIT_MB_PER_10K = 2.0
ACCOUNT_ID = 3  # the account of the payload builders
MB = 1024 * 1024
SECRET = "bench-memory-secret"


@dataclass
class Samples:
    """RSS in bytes after each ``SAMPLE_EVERY`` events (``events`` says after how many), and the run's time."""

    events: list[int]
    rss: list[int]
    seconds: float


def run(ctx: BenchContext) -> list[Result]:
    processor = load_function("processor")
    with ctx.fresh_database("bench_memory") as database, quiet():
        integration_id = create_integration(database, name="Bench memory", account_id=ACCOUNT_ID, webhook_secret=SECRET)
        samples = _process(processor, integration_id)
        outcomes = delivery_outcomes(database, integration_id)
    if sum(outcomes.values()) != EVENTS or outcomes.get("failed") or outcomes.get("rejected"):
        raise RuntimeError(f"unexpected delivery outcomes: {outcomes}")
    warm = samples.rss[samples.events.index(WARM_UP_EVENTS)] / MB
    end = samples.rss[-1] / MB
    growth = growth_per_10k(samples) / MB
    print(
        f"memory: {EVENTS:,} events in {samples.seconds:.0f} s; RSS MB every {SAMPLE_EVERY:,} events: "
        + ", ".join(f"{rss / MB:.1f}" for rss in samples.rss)
    )
    return [
        Result(name="processor RSS after warm-up (5,000 events)", value=warm, unit="MB"),
        Result(name="processor RSS after 50,000 events", value=end, unit="MB"),
        Result.compared(
            "processor RSS growth per 10,000 events after warm-up",
            growth,
            "MB",
            GROWTH_LIMIT_MB_PER_10K,
            "<= 1.0",
        ),
    ]


def growth_per_10k(samples: Samples) -> float:
    """Bytes per 10,000 events: the least-squares slope of RSS over the samples taken after warm-up."""
    points = [(e, r) for e, r in zip(samples.events, samples.rss, strict=True) if e >= WARM_UP_EVENTS]
    mean_e = sum(e for e, _ in points) / len(points)
    mean_r = sum(r for _, r in points) / len(points)
    covariance = sum((e - mean_e) * (r - mean_r) for e, r in points)
    variance = sum((e - mean_e) ** 2 for e, _ in points)
    return covariance / variance * 10_000


def _process(processor: ModuleType, integration_id: int) -> Samples:
    context = LocalLambdaContext("processor", timeout_seconds=900)
    process = psutil.Process()
    events_done = 0
    samples = Samples(events=[], rss=[], seconds=0.0)
    started = time.perf_counter()
    batch: list[IngestRecord] = []
    for body in interleaved_events(EVENTS):
        batch.append(_record(integration_id, events_done + len(batch), body))
        if len(batch) < BATCH_SIZE:
            continue
        response = processor.lambda_handler(sqs_event(batch), context)
        if response["batchItemFailures"]:
            raise RuntimeError(f"the processor reported failures: {response['batchItemFailures']}")
        events_done += len(batch)
        batch = []
        if events_done % SAMPLE_EVERY == 0:
            gc.collect()
            samples.events.append(events_done)
            samples.rss.append(process.memory_info().rss)
    samples.seconds = time.perf_counter() - started
    return samples


def _record(integration_id: int, n: int, body: bytes) -> IngestRecord:
    return IngestRecord(
        integration_id=integration_id,
        delivery_id=f"bench-memory-{n:08d}",
        received_at=datetime.fromtimestamp(START + n, UTC),
        body=body,
    )
