"""``make replay-dlq``: move the ingest dead-letter queue's messages back to the ingest queue (AWS).

A delivery lands in the dead-letter queue after the processor failed it five times. Once the cause is fixed,
this puts every message back on the ingest queue (body and attributes unchanged), where the processor applies
it like any delivery: deduplicated, so a message that was in fact applied meanwhile changes nothing. A message
is deleted from the dead-letter queue only after the ingest queue accepted it.

    make replay-dlq STACK_NAME=chatwoot-integration-prod          # queue URLs from the stack's outputs
    make replay-dlq DLQ_URL=https://... INGEST_QUEUE_URL=https://...
    python -m localdev.replay_dlq --stack-name ... --max 100 --dry-run

AWS credentials and region come from the usual boto3 sources (AWS_PROFILE, AWS_REGION, ...).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from pydantic import BaseModel, Field, model_validator

DLQ_OUTPUT = "DeadLetterQueueUrl"
INGEST_OUTPUT = "IngestQueueUrl"
_RECEIVE_BATCH = 10  # SQS's maximum per receive and per send batch


class ReplayDlqOptions(BaseModel):
    """Where to move from and to: a stack name, or both queue URLs."""

    stack_name: str | None = None
    dlq_url: str | None = None
    ingest_queue_url: str | None = None
    region: str | None = None
    max_messages: int | None = Field(default=None, ge=1)
    dry_run: bool = False
    wait_seconds: int = Field(default=1, ge=0, le=20)
    visibility_timeout: int = Field(default=120, ge=1, le=43_200)

    @model_validator(mode="after")
    def _source_named(self) -> ReplayDlqOptions:
        if not self.stack_name and not (self.dlq_url and self.ingest_queue_url):
            raise ValueError("give STACK_NAME, or both DLQ_URL and INGEST_QUEUE_URL")
        return self


class QueuePair(BaseModel):
    dlq_url: str
    ingest_queue_url: str


class MoveSummary(BaseModel):
    moved: int = 0
    not_accepted: int = 0


def queues_from_stack(cloudformation: Any, stack_name: str) -> QueuePair:
    """The dead-letter and ingest queue URLs from the stack's outputs (see template.yaml)."""
    (stack,) = cloudformation.describe_stacks(StackName=stack_name)["Stacks"]
    outputs = {output["OutputKey"]: output["OutputValue"] for output in stack.get("Outputs", [])}
    missing = [name for name in (DLQ_OUTPUT, INGEST_OUTPUT) if name not in outputs]
    if missing:
        raise LookupError(f"stack {stack_name} has no output {', '.join(missing)}")
    return QueuePair(dlq_url=outputs[DLQ_OUTPUT], ingest_queue_url=outputs[INGEST_OUTPUT])


def waiting_messages(sqs: Any, queue_url: str) -> int:
    """SQS's approximate count of messages waiting in the queue."""
    attributes = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["ApproximateNumberOfMessages"])
    return int(attributes["Attributes"]["ApproximateNumberOfMessages"])


def move_messages(
    sqs: Any,
    source_url: str,
    target_url: str,
    *,
    max_messages: int | None = None,
    wait_seconds: int = 1,
    visibility_timeout: int = 120,
) -> MoveSummary:
    """Move up to ``max_messages`` (default: what is waiting now) from ``source_url`` to ``target_url``.

    Received messages stay invisible for ``visibility_timeout`` seconds, so a run never moves one twice; a
    message the target refused becomes visible in the source again when that time is up.
    """
    budget = max_messages if max_messages is not None else waiting_messages(sqs, source_url)
    summary = MoveSummary()
    while summary.moved + summary.not_accepted < budget:
        received = sqs.receive_message(
            QueueUrl=source_url,
            MaxNumberOfMessages=min(_RECEIVE_BATCH, budget - summary.moved - summary.not_accepted),
            WaitTimeSeconds=wait_seconds,
            VisibilityTimeout=visibility_timeout,
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not received:
            break
        by_id = {str(n): message for n, message in enumerate(received)}
        sent = sqs.send_message_batch(
            QueueUrl=target_url,
            Entries=[_entry(entry_id, message) for entry_id, message in by_id.items()],
        )
        accepted = [entry["Id"] for entry in sent.get("Successful", [])]
        if accepted:
            sqs.delete_message_batch(
                QueueUrl=source_url,
                Entries=[{"Id": entry_id, "ReceiptHandle": by_id[entry_id]["ReceiptHandle"]} for entry_id in accepted],
            )
        summary.moved += len(accepted)
        summary.not_accepted += len(received) - len(accepted)
    return summary


def run(options: ReplayDlqOptions, client: Callable[[str], Any], out: TextIO) -> MoveSummary:
    """Resolve the queues, then move (or, with ``dry_run``, only count) the dead-letter messages."""
    if options.stack_name:
        queues = queues_from_stack(client("cloudformation"), options.stack_name)
    else:
        assert options.dlq_url and options.ingest_queue_url
        queues = QueuePair(dlq_url=options.dlq_url, ingest_queue_url=options.ingest_queue_url)
    sqs = client("sqs")
    if options.dry_run:
        count = waiting_messages(sqs, queues.dlq_url)
        print(f"replay-dlq: {count} message(s) waiting in {queues.dlq_url} (dry run, nothing moved)", file=out)
        return MoveSummary()
    summary = move_messages(
        sqs,
        queues.dlq_url,
        queues.ingest_queue_url,
        max_messages=options.max_messages,
        wait_seconds=options.wait_seconds,
        visibility_timeout=options.visibility_timeout,
    )
    refused = f"; {summary.not_accepted} not accepted (they stay in the dead-letter queue)"
    print(
        f"replay-dlq: moved {summary.moved} message(s) to {queues.ingest_queue_url}"
        + (refused if summary.not_accepted else ""),
        file=out,
    )
    return summary


def parse_options(argv: Sequence[str], environ: Mapping[str, str]) -> ReplayDlqOptions:
    parser = argparse.ArgumentParser(prog="make replay-dlq", description=__doc__.splitlines()[0] if __doc__ else "")
    parser.add_argument("--stack-name", default=environ.get("STACK_NAME") or None)
    parser.add_argument("--dlq-url", default=environ.get("DLQ_URL") or None)
    parser.add_argument("--queue-url", dest="ingest_queue_url", default=environ.get("INGEST_QUEUE_URL") or None)
    parser.add_argument("--region", default=environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION") or None)
    parser.add_argument("--max", dest="max_messages", type=int, default=None)
    parser.add_argument("--dry-run", action="store_true")
    return ReplayDlqOptions.model_validate(vars(parser.parse_args(list(argv))))


def boto3_clients(region: str | None) -> Callable[[str], Any]:
    def client(service: str) -> Any:
        import boto3  # noqa: PLC0415 - only this command needs it

        return boto3.client(service, region_name=region) if region else boto3.client(service)

    return client


def main(argv: Sequence[str] | None = None) -> int:
    try:
        options = parse_options(sys.argv[1:] if argv is None else argv, os.environ)
    except ValueError as error:
        print(f"replay-dlq: {error}", file=sys.stderr)
        return 2
    summary = run(options, boto3_clients(options.region), sys.stdout)
    return 1 if summary.not_accepted else 0


def _entry(entry_id: str, message: dict[str, Any]) -> dict[str, Any]:
    entry: dict[str, Any] = {"Id": entry_id, "MessageBody": message["Body"]}
    attributes = {
        name: {key: value for key, value in attribute.items() if key in {"DataType", "StringValue", "BinaryValue"}}
        for name, attribute in message.get("MessageAttributes", {}).items()
    }
    if attributes:
        entry["MessageAttributes"] = attributes
    return entry


if __name__ == "__main__":
    sys.exit(main())
