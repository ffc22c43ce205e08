"""Webhook deliveries applied to the mirror: each exactly once, atomically, whatever the order.

For each delivery the processor reads its integration (account, whether message content is kept, whether it is
still active), has the dispatcher judge the body (``dispatch.judge``), claims the delivery's row in the ledger
(``ledger``: a duplicate is acknowledged and changes nothing) and has the event's family write what it maps to,
with an outbox row for every change (``dispatch.write``).

**The SQS batch path** (:meth:`DeliveryProcessor.handle_batch`) applies the whole batch in ONE unit of work, for
throughput: one claim, one conversation upsert, one message insert... for all its deliveries, which is
equivalent to applying them one after the other (the ledger dedupes within the batch as across batches, the
ordering guard keeps the newest conversation state, messages are inserted once per id, deletions are sticky,
only ``contact_updated`` overwrites contacts). If that unit of work fails it is rolled back, and every record
is applied again in a unit of work of its own, so that only the failing ones are reported to SQS as batch item
failures (SQS retries them, then moves them to the dead-letter queue). A delivery that fails on its own is
recorded as ``failed`` with its body (best effort, in a unit of work of its own) for ``make replay``; when it
later succeeds, its row takes the final outcome and drops the body.

After a batch that changed something, smart assignment reacts (only for integrations whose policy is on; a
failure there is logged, never a delivery's fate) and pending change events are published (a failure is logged
and left for the next run).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol

from ..models.integration import Integration
from ..observability import logger
from ..uow import UnitOfWork, UnitOfWorkFactory
from . import dispatch, ledger, telemetry
from .delivery import DeliveryResult, PendingDelivery, Verdict
from .record import IngestRecord, MalformedRecord

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

    from ..services.assignment import AssignmentService

__all__ = ["DeliveryProcessor", "DeliveryResult", "Publisher"]

Outcome = DeliveryResult | Exception
BatchResponse = dict[str, list[dict[str, str]]]


class Publisher(Protocol):
    """Publishes pending change events (``ChangePublisher`` in production)."""

    def publish_pending(self, *, max_events: int = 500) -> int: ...


class DeliveryProcessor:
    """Applies ingest records to the mirror. One per container; it keeps nothing between batches."""

    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        *,
        publisher: Publisher | None = None,
        assignment: Callable[[], AssignmentService] | None = None,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._publisher = publisher
        # A factory: the assignment service (and the Chatwoot client it loads) is only built when needed.
        self._assignment = assignment

    # The SQS batch ------------------------------------------------------------------------------------------

    def handle_batch(self, event: dict[str, Any], context: LambdaContext | None = None) -> BatchResponse:
        """Apply every record of an SQS event; return SQS's partial batch response, ``batchItemFailures``."""
        readable: list[tuple[str, tuple[IngestRecord, int] | None]] = []
        for raw in event.get("Records", []):
            readable.append((raw["messageId"], _read(raw)))
        integrations: dict[int, Integration] = {}
        outcomes = iter(self.handle_many([r for _, r in readable if r is not None], integrations=integrations))
        failures: list[dict[str, str]] = []
        changed: list[DeliveryResult] = []
        for message_id, readable_record in readable:
            outcome = next(outcomes) if readable_record is not None else None
            if isinstance(outcome, DeliveryResult):
                if outcome.changes:
                    changed.append(outcome)
            else:
                failures.append({"itemIdentifier": message_id})
        if changed:
            self._react_with_assignment(changed, integrations, context)
            # Nothing new, nothing to publish: a backlog left by a failed publication waits for the next change.
            self._publish_changes()
        return {"batchItemFailures": failures}

    def handle_many(
        self, records: Sequence[tuple[IngestRecord, int]], *, integrations: dict[int, Integration] | None = None
    ) -> list[Outcome]:
        """Apply ``(record, attempt)`` pairs: in one unit of work if possible, else each in its own.

        Returns, in order, each record's result or the exception it failed with (already recorded as failed).
        ``integrations`` receives the integration rows the batch read (for what follows the batch).
        """
        integrations = {} if integrations is None else integrations
        if len(records) > 1:
            try:
                with self._unit_of_work() as uow:
                    results = self._apply(uow, records, integrations)
            except Exception as error:
                # Something in the batch failed: find out which deliveries, one unit of work each.
                logger.info(
                    "batch applied delivery by delivery",
                    extra={"records": len(records), "error_type": type(error).__name__},
                )
            else:
                telemetry.report(results)
                return list(results)
        outcomes: list[Outcome] = []
        for record, attempt in records:
            try:
                outcomes.append(self.handle(record, attempt=attempt))
            except Exception as error:
                outcomes.append(error)
        return outcomes

    # One delivery -------------------------------------------------------------------------------------------

    def handle(self, record: IngestRecord, *, attempt: int = 1) -> DeliveryResult:
        """Process ``record``; on failure record it as ``failed`` (best effort) and re-raise."""
        try:
            return self.process(record, attempt=attempt)
        except Exception as error:
            telemetry.count("failed")
            logger.warning(
                "delivery failed",
                extra=telemetry.log_keys(
                    integration_id=record.integration_id,
                    delivery_id=record.delivery_id,
                    attempt=attempt,
                    error_type=type(error).__name__,
                    sqlstate=getattr(error, "sqlstate", None),
                ),
            )
            self.record_failure(record, error, attempt=attempt)
            raise

    def process(self, record: IngestRecord, *, attempt: int = 1) -> DeliveryResult:
        """Apply ``record`` in a unit of work of its own and return its outcome."""
        with self._unit_of_work() as uow:
            (result,) = self._apply(uow, [(record, attempt)], {})
        telemetry.report([result])
        return result

    def record_failure(self, record: IngestRecord, error: BaseException, *, attempt: int = 1) -> bool:
        """Keep a failed delivery (error and body) for ``make replay``; never raises. True when recorded."""
        try:
            with self._unit_of_work() as uow:
                return uow.deliveries.record_failure(ledger.failure_row(record, error, attempt=attempt))
        except Exception as recording_error:
            logger.warning(
                "failed delivery could not be recorded",
                extra=telemetry.log_keys(
                    integration_id=record.integration_id,
                    delivery_id=record.delivery_id,
                    error_type=type(recording_error).__name__,
                ),
            )
            return False

    def replay_failed(self, *, integration_id: int | None = None, limit: int = 100) -> list[DeliveryResult]:
        """Reprocess recorded failures, oldest first. A delivery that fails again stays recorded as failed."""
        with self._unit_of_work(read_only=True) as uow:
            failures = uow.deliveries.failed(integration_id=integration_id, limit=limit)
        results = []
        for failure in failures:
            record = IngestRecord(
                integration_id=failure.integration_id,
                delivery_id=failure.delivery_id,
                received_at=failure.received_at,
                body=failure.body or b"",
            )
            try:
                results.append(self.handle(record, attempt=failure.attempts + 1))
            except Exception:
                results.append(
                    DeliveryResult(
                        integration_id=record.integration_id,
                        delivery_id=record.delivery_id,
                        status="failed",
                        event=failure.event,
                    )
                )
        return results

    # The work of one unit of work -----------------------------------------------------------------------------

    def _apply(
        self, uow: UnitOfWork, records: Sequence[tuple[IngestRecord, int]], integrations: dict[int, Integration]
    ) -> list[DeliveryResult]:
        _read_integrations(uow, {record.integration_id for record, _ in records}, integrations)
        items = [_pending(record, attempt, integrations.get(record.integration_id)) for record, attempt in records]
        late_duplicates = ledger.claim(uow, ledger.settle_in_batch(items))
        dispatch.write(uow, [item for item in items if item.to_apply])
        stale = ledger.settle_stale(items)
        ledger.finish(uow, items, late_duplicates, stale)
        return [item.result() for item in items]

    # After the batch ----------------------------------------------------------------------------------------

    def _react_with_assignment(
        self, changed: list[DeliveryResult], integrations: dict[int, Integration], context: LambdaContext | None
    ) -> None:
        """Smart assignment after the batch committed: never part of a delivery's fate (a failure here is logged;
        the next sync's backstop assigns what is still waiting). Only integrations whose policy is on take part;
        the assignment service (and its Chatwoot client) is only built once an integration needs it."""
        if self._assignment is None:
            return
        if {r.integration_id for r in changed} - integrations.keys():
            # Deliveries applied one by one (a one-record batch, a fallback) read their integration on their own.
            with self._unit_of_work(read_only=True) as uow:
                _read_integrations(uow, {r.integration_id for r in changed}, integrations)
        by_integration: dict[int, set[int]] = {}
        for result in changed:
            integration = integrations.get(result.integration_id)
            if integration is None or not (integration.active and integration.assignment_policy.enabled):
                continue
            if result.account_id is not None and result.conversation_id is not None:
                by_integration.setdefault(result.integration_id, set()).add(result.conversation_id)
        if not by_integration:
            return
        assignment = self._assignment()
        if context is not None:
            assignment.set_deadline_from(context)
        for integration_id, conversation_ids in by_integration.items():
            try:
                assignment.react_to_changes(integration_id, sorted(conversation_ids))
            except Exception as error:
                logger.warning(
                    "assignment after webhooks failed; the next sync retries",
                    extra={"integration_id": integration_id, "error_type": type(error).__name__},
                )

    def _publish_changes(self) -> None:
        """Publish pending change events; failures are logged and left for the next run."""
        if self._publisher is None:
            return
        try:
            self._publisher.publish_pending()
        except Exception as error:
            logger.warning(
                "change events not published; the next run retries", extra={"error_type": type(error).__name__}
            )


def _read_integrations(uow: UnitOfWork, integration_ids: set[int], integrations: dict[int, Integration]) -> None:
    """Add to ``integrations`` the rows of those ``integration_ids`` it does not hold yet (and that exist)."""
    for integration_id in integration_ids - integrations.keys():
        integration = uow.integrations.get(integration_id)
        if integration is not None:
            integrations[integration_id] = integration


def _read(raw: dict[str, Any]) -> tuple[IngestRecord, int] | None:
    """The ingest record of an SQS record and its receive count, or None when it is not an ingest record."""
    try:
        record = IngestRecord.from_message(raw["body"])
    except MalformedRecord:
        # Retrying cannot help, but the dead-letter queue is where an operator will look at it.
        telemetry.count("failed")
        logger.error("queue message is not an ingest record", extra={"message_id": raw.get("messageId")})
        return None
    count = raw.get("attributes", {}).get("ApproximateReceiveCount")
    return record, int(count) if count else 1


def _pending(record: IngestRecord, attempt: int, integration: Integration | None) -> PendingDelivery:
    if integration is None:
        verdict = Verdict(status="rejected", reason="unknown_integration")
        return PendingDelivery(record, attempt, None, verdict, status="dropped", reason="unknown_integration")
    verdict = dispatch.judge(record.body, integration)
    return PendingDelivery(
        record, attempt, integration, verdict, status=verdict.status, reason=verdict.reason, attempts=max(attempt, 1)
    )
