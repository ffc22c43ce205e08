"""The SQS batch entry point: the processor function's work, and the in-process path of local runs.

Each SQS record is one ingest record. :class:`DeliveryProcessor` applies the batch (in one transaction when it
can, else one transaction per record); records that failed are reported as batch item failures (SQS retries
them, then moves them to the dead-letter queue) and the rest of the batch is acknowledged. After a batch that
changed something, pending change events are published; a publication problem never fails the batch (the
next run publishes what is left).
"""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any, Protocol

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord
from aws_lambda_powertools.utilities.typing import LambdaContext

from ..config import get_settings
from ..db import get_database
from ..observability import logger
from ..services.changes import ChangePublisher
from . import telemetry
from .process import DeliveryProcessor, DeliveryResult
from .record import IngestRecord, MalformedRecord

if TYPE_CHECKING:
    from ..services.assignment import AssignmentService


class Publisher(Protocol):
    """Publishes pending change events (``ChangePublisher`` in production)."""

    def publish_pending(self, *, max_events: int = 500) -> int: ...


def handle_sqs_batch(
    event: dict[str, Any],
    context: LambdaContext | None = None,
    *,
    processor: DeliveryProcessor | None = None,
    publisher: Publisher | None = None,
    assignment: AssignmentService | None = None,
) -> dict[str, Any]:
    """Apply every record of an SQS event; return the partial batch response (``batchItemFailures``).

    The records are applied together first (see :mod:`.process`); Powertools' batch processor then walks the
    records and reports those that failed, so SQS retries only them.
    """
    deliveries = processor or get_processor()
    records = [SQSRecord(raw) for raw in event.get("Records", [])]
    readable: dict[str, tuple[IngestRecord, int]] = {}
    for record in records:
        try:
            readable[record.message_id] = (IngestRecord.from_message(record.body), _receive_count(record))
        except MalformedRecord:
            continue
    outcomes = dict(zip(readable, deliveries.handle_many(list(readable.values())), strict=True))

    def record_handler(record: SQSRecord) -> str:
        outcome = outcomes.get(record.message_id)
        if outcome is None:
            # Retrying cannot help, but the dead-letter queue is where an operator will look at it.
            telemetry.count("failed")
            logger.error("queue message is not an ingest record", extra={"message_id": record.message_id})
            raise MalformedRecord("queue message is not an ingest record")
        if isinstance(outcome, Exception):
            raise outcome
        return str(outcome.status)

    # A fresh processor per batch: Powertools' processor keeps per-batch state and local runs share containers.
    batch = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
    response: dict[str, Any] = dict(process_partial_response(event, record_handler, batch, context))
    changed = [o for o in outcomes.values() if isinstance(o, DeliveryResult) and o.changes]
    if changed:
        react_with_assignment(assignment, changed, context, deliveries)
        # Nothing new, nothing to publish: a backlog left by a failed publication waits for the next change.
        publish_changes(publisher or get_publisher())
    return response


def react_with_assignment(
    assignment: AssignmentService | None,
    changed: list[DeliveryResult],
    context: LambdaContext | None,
    deliveries: DeliveryProcessor | None = None,
) -> None:
    """Smart assignment after the batch committed: never part of a delivery's fate (a failure here is logged;
    the next sync's backstop assigns what is still waiting). The batch's integration rows say whose policy is
    on; the Chatwoot client is only loaded once an account needs it."""
    by_account: dict[int, set[int]] = {}
    for result in changed:
        if result.account_id is not None and result.conversation_id is not None:
            integration = deliveries.remembered_integration(result.integration_id) if deliveries else None
            if integration is not None and not (integration.active and integration.assignment_policy.enabled):
                continue
            by_account.setdefault(result.account_id, set()).add(result.conversation_id)
    if not by_account:
        return
    assignment = assignment or get_assignment()
    if context is not None:
        assignment.set_deadline_from(context)
    for account_id, conversation_ids in by_account.items():
        try:
            assignment.react_to_changes(account_id, sorted(conversation_ids))
        except Exception as error:
            logger.warning(
                "assignment after webhooks failed; the next sync retries",
                extra={"account_id": account_id, "error_type": type(error).__name__},
            )


def _receive_count(record: SQSRecord) -> int:
    count = record.attributes.approximate_receive_count
    return int(count) if count else 1


def publish_changes(publisher: Publisher) -> int:
    """Publish pending change events; failures are logged and left for the next run."""
    try:
        return publisher.publish_pending()
    except Exception as error:
        logger.warning("change events not published; the next run retries", extra={"error_type": type(error).__name__})
        return 0


def get_processor() -> DeliveryProcessor:
    """A processor for one batch, on the process-wide database (whose connection is the per-container cache)."""
    return DeliveryProcessor(get_database(), remember_integrations=True)


@cache
def get_assignment() -> AssignmentService:
    """One per container: its Chatwoot clients (and their connections) outlive the invocation."""
    from ..secrets import secret_store_from_settings  # noqa: PLC0415 - loads httpx; only when assignment is on
    from ..services.assignment import AssignmentService  # noqa: PLC0415
    from ..services.chatwoot_clients import ChatwootClients  # noqa: PLC0415

    database = get_database()
    return AssignmentService(database, ChatwootClients(database, secret_store_from_settings()))


def get_publisher() -> ChangePublisher:
    return ChangePublisher(get_database(), get_settings().event_bus_name, client_factory=_events_client)


@cache
def _events_client() -> Any:
    # One EventBridge client per container: creating a boto3 client costs more than a batch's publication.
    import boto3  # noqa: PLC0415

    return boto3.client("events")
