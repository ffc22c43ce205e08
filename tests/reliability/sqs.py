"""An ingest queue with the semantics of the SQS queue the webhook function writes to.

What the convergence suite relies on, as SQS does it (standard queue, the template's redrive policy):

* a message is only removed when the consumer deletes it after a successful batch (acknowledgement);
* a received message is invisible for ``visibility_timeout`` seconds; if it is not deleted by then (the record
  failed, the invocation failed, or the consumer crashed before acknowledging) it becomes visible again;
* every receive counts; a message already received ``max_receive_count`` times is moved to the dead-letter list
  instead of being delivered once more.

Time is the clock handed in (the simulator's manual clock in the suite), so nothing here waits.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel

from chatwoot_integration.ingest.record import LOCAL_QUEUE_ARN, IngestRecord

# The template's values (IngestQueue VisibilityTimeout, RedrivePolicy maxReceiveCount, the event source's BatchSize).
VISIBILITY_TIMEOUT_SECONDS = 180.0
MAX_RECEIVE_COUNT = 5
BATCH_SIZE = 10


@dataclass
class _Message:
    message_id: str
    body: str
    sent_at: float
    visible_at: float
    receive_count: int = 0
    receipt_handle: str | None = None


@dataclass(frozen=True)
class Received:
    """One message handed to the consumer by a receive."""

    message_id: str
    receipt_handle: str
    body: str
    sent_at: float
    receive_count: int


class QueueStats(BaseModel):
    sent: int = 0
    received: int = 0
    # Receives of a message that had been received before (failed, unacknowledged, or crashed on).
    redelivered: int = 0
    deleted: int = 0
    dead_lettered: int = 0


class SimulatedSqsQueue:
    """An :class:`~chatwoot_integration.ingest.queue.IngestQueue` that behaves like SQS for its consumer."""

    def __init__(
        self,
        *,
        clock: Callable[[], float],
        visibility_timeout: float = VISIBILITY_TIMEOUT_SECONDS,
        max_receive_count: int = MAX_RECEIVE_COUNT,
        queue_arn: str = LOCAL_QUEUE_ARN,
    ) -> None:
        self._clock = clock
        self._visibility_timeout = visibility_timeout
        self._max_receive_count = max_receive_count
        self._queue_arn = queue_arn
        self._messages: dict[str, _Message] = {}
        self._ids = itertools.count(1)
        self._receipts = itertools.count(1)
        self.dead_letters: list[IngestRecord] = []
        self.stats = QueueStats()

    @property
    def visibility_timeout(self) -> float:
        return self._visibility_timeout

    def send(self, record: IngestRecord) -> None:
        """The webhook function's write: the record, as the SQS message body it becomes."""
        now = self._clock()
        message_id = f"msg-{next(self._ids):08d}"
        self._messages[message_id] = _Message(message_id, record.to_message(), sent_at=now, visible_at=now)
        self.stats.sent += 1

    def receive(self, max_messages: int = BATCH_SIZE) -> list[Received]:
        """Up to ``max_messages`` visible messages, the longest queued first (roughly what SQS does); each becomes
        invisible for the timeout."""
        now = self._clock()
        batch: list[Received] = []
        for message in sorted(self._visible(now), key=lambda m: m.message_id):
            if len(batch) == max_messages:
                break
            if message.receive_count >= self._max_receive_count:
                self._dead_letter(message)
                continue
            message.receive_count += 1
            message.visible_at = now + self._visibility_timeout
            message.receipt_handle = f"receipt-{next(self._receipts):08d}"
            self.stats.received += 1
            if message.receive_count > 1:
                self.stats.redelivered += 1
            batch.append(
                Received(
                    message.message_id, message.receipt_handle, message.body, message.sent_at, message.receive_count
                )
            )
        return batch

    def delete(self, received: Sequence[Received]) -> None:
        """Acknowledge: a receipt that is no longer current (the message came back meanwhile) deletes nothing."""
        for item in received:
            message = self._messages.get(item.message_id)
            if message is not None and message.receipt_handle == item.receipt_handle:
                del self._messages[item.message_id]
                self.stats.deleted += 1

    def event(self, received: Sequence[Received]) -> dict[str, Any]:
        """The Lambda SQS event the event source mapping builds from a receive."""
        return {"Records": [self._event_record(item) for item in received]}

    def _event_record(self, item: Received) -> dict[str, Any]:
        sent = str(int(item.sent_at * 1000))
        return {
            "messageId": item.message_id,
            "receiptHandle": item.receipt_handle,
            "body": item.body,
            "attributes": {
                "ApproximateReceiveCount": str(item.receive_count),
                "SentTimestamp": sent,
                "SenderId": "webhook-function",
                "ApproximateFirstReceiveTimestamp": sent,
            },
            "messageAttributes": {},
            "md5OfBody": hashlib.md5(item.body.encode(), usedforsecurity=False).hexdigest(),
            "eventSource": "aws:sqs",
            "eventSourceARN": self._queue_arn,
            "awsRegion": self._queue_arn.split(":")[3],
        }

    def __len__(self) -> int:
        """Messages not yet deleted (visible or in flight); the dead-letter list is apart."""
        return len(self._messages)

    def next_visible_at(self) -> float | None:
        """When the earliest in-flight message becomes visible again (None when nothing is queued)."""
        return min((m.visible_at for m in self._messages.values()), default=None)

    def _visible(self, now: float) -> list[_Message]:
        return [m for m in self._messages.values() if m.visible_at <= now]

    def _dead_letter(self, message: _Message) -> None:
        del self._messages[message.message_id]
        self.dead_letters.append(IngestRecord.from_message(message.body))
        self.stats.dead_lettered += 1
