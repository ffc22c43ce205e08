"""``make replay-dlq``: dead-letter messages go back to the ingest queue unchanged, against SQS (moto)."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from localdev.replay_dlq import (
    MoveSummary,
    QueuePair,
    ReplayDlqOptions,
    main,
    move_messages,
    parse_options,
    queues_from_stack,
    run,
)

REGION = "us-east-1"


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


@pytest.fixture
def queues(sqs: Any) -> QueuePair:
    dlq = sqs.create_queue(QueueName="ingest-dlq")["QueueUrl"]
    ingest = sqs.create_queue(QueueName="ingest")["QueueUrl"]
    return QueuePair(dlq_url=dlq, ingest_queue_url=ingest)


def bodies_in(sqs: Any, queue_url: str) -> list[str]:
    found = []
    while True:
        messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]).get(
            "Messages", []
        )
        if not messages:
            return sorted(found)
        for message in messages:
            found.append(message["Body"])
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])


def test_every_dead_letter_message_moves_to_the_ingest_queue_unchanged(sqs: Any, queues: QueuePair) -> None:
    sent = [f'{{"delivery_id": "d-{n:02d}"}}' for n in range(23)]
    for body in sent:
        sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=body)

    summary = move_messages(sqs, queues.dlq_url, queues.ingest_queue_url, wait_seconds=0)

    assert summary == MoveSummary(moved=23, not_accepted=0)
    assert bodies_in(sqs, queues.ingest_queue_url) == sorted(sent)
    assert bodies_in(sqs, queues.dlq_url) == []


def test_message_attributes_are_kept(sqs: Any, queues: QueuePair) -> None:
    sqs.send_message(
        QueueUrl=queues.dlq_url,
        MessageBody="{}",
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "webhook"}},
    )

    move_messages(sqs, queues.dlq_url, queues.ingest_queue_url, wait_seconds=0)

    (message,) = sqs.receive_message(QueueUrl=queues.ingest_queue_url, MessageAttributeNames=["All"])["Messages"]
    assert message["MessageAttributes"]["origin"]["StringValue"] == "webhook"


def test_at_most_max_messages_move(sqs: Any, queues: QueuePair) -> None:
    for n in range(5):
        sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=str(n))

    summary = move_messages(sqs, queues.dlq_url, queues.ingest_queue_url, max_messages=3, wait_seconds=0)

    assert summary.moved == 3
    assert len(bodies_in(sqs, queues.ingest_queue_url)) == 3
    assert len(bodies_in(sqs, queues.dlq_url)) == 2


def test_an_empty_dead_letter_queue_moves_nothing(sqs: Any, queues: QueuePair) -> None:
    assert move_messages(sqs, queues.dlq_url, queues.ingest_queue_url, wait_seconds=0) == MoveSummary()


def test_a_message_the_target_refuses_stays_in_the_dead_letter_queue(sqs: Any, queues: QueuePair) -> None:
    sqs.send_message(QueueUrl=queues.dlq_url, MessageBody="keep me")
    missing_target = queues.ingest_queue_url.replace("/ingest", "/does-not-exist")

    with pytest.raises(sqs.exceptions.QueueDoesNotExist):
        move_messages(sqs, queues.dlq_url, missing_target, wait_seconds=0, visibility_timeout=1)

    attributes = sqs.get_queue_attributes(QueueUrl=queues.dlq_url, AttributeNames=["All"])["Attributes"]
    in_flight = int(attributes["ApproximateNumberOfMessagesNotVisible"])
    waiting = int(attributes["ApproximateNumberOfMessages"])
    assert in_flight + waiting == 1


class RefusesFirstEntry:
    """SQS, except that each send batch's first entry is refused (SQS reports such entries as Failed)."""

    def __init__(self, sqs: Any) -> None:
        self._sqs = sqs

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sqs, name)

    def send_message_batch(self, *, QueueUrl: str, Entries: list[dict[str, Any]]) -> dict[str, Any]:
        response: dict[str, Any] = self._sqs.send_message_batch(QueueUrl=QueueUrl, Entries=Entries[1:])
        response.setdefault("Failed", []).append({"Id": Entries[0]["Id"], "SenderFault": False, "Code": "Internal"})
        return response


def test_entries_the_ingest_queue_does_not_accept_are_not_deleted(sqs: Any, queues: QueuePair) -> None:
    for body in ("a", "b", "c"):
        sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=body)

    summary = move_messages(RefusesFirstEntry(sqs), queues.dlq_url, queues.ingest_queue_url, wait_seconds=0)

    assert (summary.moved, summary.not_accepted) == (2, 1)
    assert len(bodies_in(sqs, queues.ingest_queue_url)) == 2
    attributes = sqs.get_queue_attributes(QueueUrl=queues.dlq_url, AttributeNames=["All"])["Attributes"]
    assert (
        int(attributes["ApproximateNumberOfMessagesNotVisible"]) + int(attributes["ApproximateNumberOfMessages"]) == 1
    )


def test_the_queues_are_read_from_the_stack_outputs() -> None:
    cloudformation = boto3.client(
        "cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(cloudformation) as stub:
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {
                        "StackName": "chatwoot-integration-prod",
                        "CreationTime": "2026-06-17T10:00:00Z",
                        "StackStatus": "UPDATE_COMPLETE",
                        "Outputs": [
                            {"OutputKey": "DeadLetterQueueUrl", "OutputValue": "https://sqs/dlq"},
                            {"OutputKey": "IngestQueueUrl", "OutputValue": "https://sqs/ingest"},
                            {"OutputKey": "ApiUrl", "OutputValue": "https://api"},
                        ],
                    }
                ]
            },
            {"StackName": "chatwoot-integration-prod"},
        )

        pair = queues_from_stack(cloudformation, "chatwoot-integration-prod")

    assert pair == QueuePair(dlq_url="https://sqs/dlq", ingest_queue_url="https://sqs/ingest")


def test_a_stack_without_the_outputs_is_an_error() -> None:
    cloudformation = boto3.client(
        "cloudformation", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(cloudformation) as stub:
        stub.add_response(
            "describe_stacks",
            {
                "Stacks": [
                    {"StackName": "other", "CreationTime": "2026-06-17T10:00:00Z", "StackStatus": "CREATE_COMPLETE"}
                ]
            },
        )
        with pytest.raises(LookupError, match="DeadLetterQueueUrl"):
            queues_from_stack(cloudformation, "other")


def test_options_come_from_the_environment_or_the_arguments() -> None:
    from_env = parse_options([], {"STACK_NAME": "prod-stack", "AWS_REGION": "sa-east-1"})
    from_args = parse_options(["--dlq-url", "https://d", "--queue-url", "https://i", "--max", "5", "--dry-run"], {})

    assert (from_env.stack_name, from_env.region) == ("prod-stack", "sa-east-1")
    assert (from_args.dlq_url, from_args.ingest_queue_url, from_args.max_messages, from_args.dry_run) == (
        "https://d",
        "https://i",
        5,
        True,
    )


def test_without_a_stack_or_both_urls_the_command_refuses(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="STACK_NAME"):
        ReplayDlqOptions(dlq_url="https://d")
    assert main(["--dlq-url", "https://d"]) == 2
    assert "STACK_NAME" in capsys.readouterr().err


def test_a_dry_run_counts_and_moves_nothing(sqs: Any, queues: QueuePair) -> None:
    for n in range(4):
        sqs.send_message(QueueUrl=queues.dlq_url, MessageBody=str(n))
    out = io.StringIO()
    options = ReplayDlqOptions(dlq_url=queues.dlq_url, ingest_queue_url=queues.ingest_queue_url, dry_run=True)

    run(options, lambda service: sqs, out)

    assert "4 message(s) waiting" in out.getvalue()
    assert bodies_in(sqs, queues.ingest_queue_url) == []


def test_the_command_moves_and_reports(sqs: Any, queues: QueuePair) -> None:
    sqs.send_message(QueueUrl=queues.dlq_url, MessageBody="one")
    out = io.StringIO()
    options = ReplayDlqOptions(dlq_url=queues.dlq_url, ingest_queue_url=queues.ingest_queue_url, wait_seconds=0)

    summary = run(options, lambda service: sqs, out)

    assert summary.moved == 1
    assert f"moved 1 message(s) to {queues.ingest_queue_url}" in out.getvalue()
