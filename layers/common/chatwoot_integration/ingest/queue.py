"""Where the webhook function puts accepted deliveries.

In AWS that is the SQS ingest queue. With no queue configured (``make run``, tests) the record is handed to
the processor in-process, through the very entry point an SQS batch goes through, so a local run behaves
like AWS (``bootstrap`` decides which). An in-memory queue serves benchmarks and tests that look at what would have been sent.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol

from ..observability import logger
from .record import IngestRecord, sqs_event


class BatchHandler(Protocol):
    """The processor's SQS batch entry point (``DeliveryProcessor`` in production)."""

    def handle_batch(self, event: dict[str, Any]) -> dict[str, list[dict[str, str]]]: ...


class IngestQueue(Protocol):
    def send(self, record: IngestRecord) -> None:
        """Make ``record`` durable for the processor; raise if that cannot be done."""
        ...


class SqsIngestQueue:
    """The SQS ingest queue; the boto3 client is created on first use (nothing at import or cold start)."""

    def __init__(self, queue_url: str, client_factory: Callable[[], Any] | None = None) -> None:
        self._queue_url = queue_url
        self._client_factory = client_factory or _default_sqs_client
        self._client: Any = None
        self._lock = threading.Lock()

    def send(self, record: IngestRecord) -> None:
        self._get_client().send_message(QueueUrl=self._queue_url, MessageBody=record.to_message())

    def _get_client(self) -> Any:
        if self._client is None:
            with self._lock:
                if self._client is None:
                    self._client = self._client_factory()
        return self._client


class InProcessIngestQueue:
    """No queue: the processor's SQS batch entry point runs now, on a one-record batch.

    A record that fails is recorded as ``failed`` by the processor (``make replay`` reprocesses it), which is
    the local counterpart of SQS's retries; the delivery is still accepted.
    """

    def __init__(self, processor: BatchHandler) -> None:
        self._processor = processor

    def send(self, record: IngestRecord) -> None:
        response = self._processor.handle_batch(sqs_event([record]))
        if response["batchItemFailures"]:
            logger.warning(
                "delivery failed in-process; it is recorded for make replay",
                extra={"integration_id": record.integration_id, "delivery_id": record.delivery_id},
            )


class MemoryIngestQueue:
    """Keeps what was sent, in order (benchmarks, tests)."""

    def __init__(self) -> None:
        self._records: list[IngestRecord] = []
        self._lock = threading.Lock()

    def send(self, record: IngestRecord) -> None:
        with self._lock:
            self._records.append(record)

    def drain(self) -> list[IngestRecord]:
        """Everything sent since the last drain, oldest first."""
        with self._lock:
            records, self._records = self._records, []
        return records


def _default_sqs_client() -> Any:
    import boto3  # noqa: PLC0415 - slow to import, and only the AWS path needs it

    return boto3.client("sqs")
