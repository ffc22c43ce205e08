"""The record the webhook function queues for the processor, and its form as an SQS message.

The record carries the body exactly as Chatwoot sent it (the bytes the signature covered), so the processor,
``make replay`` and a dead-letter replay all parse the same bytes. On the queue it travels as a small JSON
envelope. A body that is valid UTF-8 goes as text; anything else, and a body whose envelope would pass SQS's
1 MiB message limit (the webhook accepts bodies up to 1 MiB), goes gzip-compressed and base64-encoded.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import hashlib
import re
import uuid
from collections.abc import Sequence
from typing import Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

SQS_MAX_MESSAGE_BYTES = 1_048_576
"""SQS's limit for one message (the envelope counts, not only the body)."""

DELIVERY_ID_MAX_LENGTH = 200
"""The longest delivery id the deliveries table accepts."""

LOCAL_QUEUE_ARN = "arn:aws:sqs:us-east-1:123456789012:local-ingest"

BodyEncoding = Literal["text", "gzip+base64"]

# Characters SQS refuses in a message body; JSON escapes the control characters, these two survive it.
_NOT_SQS_TEXT = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
_DERIVED_PREFIX = "sha256-"


class MalformedRecord(ValueError):
    """A queue message that is not an ingest record (it cannot be applied, however often it is retried)."""


class IngestRecord(BaseModel):
    """One webhook delivery accepted by the webhook function, waiting for the processor."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    integration_id: int = Field(gt=0)
    delivery_id: str = Field(min_length=1, max_length=DELIVERY_ID_MAX_LENGTH)
    received_at: AwareDatetime
    body: bytes = Field(repr=False)

    def to_message(self, *, max_bytes: int = SQS_MAX_MESSAGE_BYTES) -> str:
        """The SQS message body: a JSON envelope, compressed when plain text would not fit or is not UTF-8."""
        try:
            text = self.body.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            message = self._envelope(text, "text")
            if len(message.encode()) <= max_bytes and not _NOT_SQS_TEXT.search(message):
                return message
        compressed = base64.b64encode(gzip.compress(self.body, mtime=0)).decode("ascii")
        return self._envelope(compressed, "gzip+base64")

    @classmethod
    def from_message(cls, message: str | bytes) -> IngestRecord:
        """Read a queue message back; raises :class:`MalformedRecord` when it is not one of ours."""
        try:
            envelope = _Envelope.model_validate_json(message)
        except ValidationError:
            raise MalformedRecord("queue message is not an ingest record") from None
        try:
            body = envelope.decoded_body()
        except (binascii.Error, OSError, EOFError, UnicodeEncodeError):
            raise MalformedRecord("ingest record body cannot be decoded") from None
        return cls(
            integration_id=envelope.integration_id,
            delivery_id=envelope.delivery_id,
            received_at=envelope.received_at,
            body=body,
        )

    def _envelope(self, body: str, encoding: BodyEncoding) -> str:
        return _Envelope(
            integration_id=self.integration_id,
            delivery_id=self.delivery_id,
            received_at=self.received_at,
            body=body,
            body_encoding=encoding,
        ).model_dump_json()


class _Envelope(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    version: Literal[1] = 1
    integration_id: int = Field(gt=0)
    delivery_id: str = Field(min_length=1, max_length=DELIVERY_ID_MAX_LENGTH)
    received_at: AwareDatetime
    body: str
    body_encoding: BodyEncoding

    def decoded_body(self) -> bytes:
        if self.body_encoding == "text":
            return self.body.encode("utf-8")
        return gzip.decompress(base64.b64decode(self.body, validate=True))


def derive_delivery_id(body: bytes) -> str:
    """A stable delivery id for a body that came without ``X-Chatwoot-Delivery`` (Chatwoot before 4.12).

    The same body always gets the same id, so a repeated legacy delivery is still deduplicated.
    """
    return _DERIVED_PREFIX + hashlib.sha256(body).hexdigest()


def sqs_event(
    records: Sequence[IngestRecord], *, queue_arn: str = LOCAL_QUEUE_ARN, receive_count: int = 1
) -> dict[str, Any]:
    """A Lambda SQS event carrying ``records``, as the event source mapping would deliver them."""
    return {"Records": [sqs_event_record(r, queue_arn=queue_arn, receive_count=receive_count) for r in records]}


def sqs_event_record(
    record: IngestRecord, *, queue_arn: str = LOCAL_QUEUE_ARN, receive_count: int = 1
) -> dict[str, Any]:
    message = record.to_message()
    sent = str(int(record.received_at.timestamp() * 1000))
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": f"local-{uuid.uuid4()}",
        "body": message,
        "attributes": {
            "ApproximateReceiveCount": str(receive_count),
            "SentTimestamp": sent,
            "SenderId": "local",
            "ApproximateFirstReceiveTimestamp": sent,
        },
        "messageAttributes": {},
        "md5OfBody": hashlib.md5(message.encode(), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }
