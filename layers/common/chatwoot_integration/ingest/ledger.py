"""The delivery ledger: each delivery claims its row before it is applied, which answers both dedupe questions.

A delivery is a duplicate when its delivery id is already in the ledger (SQS redelivers at least once) or when
the same change is already applied under another delivery id (Chatwoot dispatches some changes twice). Within
one unit of work the deliveries are settled in order, as if applied one after the other:

1. :func:`settle_in_batch`: a delivery id or content key seen earlier in the batch makes a duplicate;
2. :func:`claim`: the remaining rows are inserted in one statement; a row that finds its delivery id taken is
   a duplicate, unless the stored row is a failed attempt (then this is its retry, which takes that row over),
   and a row that finds its content key taken is a late duplicate of applied content;
3. :func:`finish` (after the writes): retries rewrite their row with the final outcome, late duplicates get
   their own row.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import psycopg

from ..repositories.deliveries import NewDelivery
from ..uow import UnitOfWork
from .delivery import MAX_EVENT_CHARS, PendingDelivery
from .record import IngestRecord

_MAX_ERROR_CHARS = 1000


def settle_in_batch(items: Sequence[PendingDelivery]) -> list[PendingDelivery]:
    """Dedupe within the unit of work, in order; returns the deliveries whose ledger row is to be claimed."""
    deliveries: set[tuple[int, str]] = set()
    contents: set[tuple[int, str]] = set()
    claims = []
    for item in items:
        if item.integration is None:
            continue
        if item.key in deliveries:
            item.status, item.reason = "duplicate", "same_delivery"
            continue
        deliveries.add(item.key)
        content = item.verdict.content_key
        if item.to_apply and content:
            if (item.record.integration_id, content) in contents:
                item.status, item.reason = "duplicate", "same_content"
            contents.add((item.record.integration_id, content))
        claims.append(item)
    return claims


def claim(uow: UnitOfWork, claims: Sequence[PendingDelivery]) -> list[PendingDelivery]:
    """Claim the rows of ``claims`` and settle those whose claim found a row in the way.

    Returns the late duplicates (the same content already applied under another delivery id), whose own
    ledger row :func:`finish` writes.
    """
    claimed = uow.deliveries.claim([item.ledger_row() for item in claims])
    unclaimed = [item for item in claims if item.key not in claimed]
    if not unclaimed:
        return []
    by_integration: dict[int, list[PendingDelivery]] = {}
    for item in unclaimed:
        by_integration.setdefault(item.record.integration_id, []).append(item)
    late_duplicates = []
    for integration_id, group in by_integration.items():
        existing = uow.deliveries.lock_existing(integration_id, [item.record.delivery_id for item in group])
        for item in group:
            row = existing.get(item.record.delivery_id)
            if row is None:
                # The delivery id is new but the same change is already applied: Chatwoot dispatched it twice.
                item.status, item.reason = "duplicate", "same_content"
                late_duplicates.append(item)
            elif row.status != "failed":
                item.status, item.reason = "duplicate", "same_delivery"
            else:
                # A retry of a delivery recorded as failed: its row takes the final outcome now.
                item.retry_of = row.id
                item.attempts = max(row.attempts + 1, item.attempt)
                key = item.verdict.content_key
                if item.to_apply and key and uow.deliveries.content_applied(integration_id, key):
                    item.status, item.reason = "duplicate", "same_content"
    return late_duplicates


STALE_REASON = "not_newer"


def settle_stale(items: Sequence[PendingDelivery]) -> list[PendingDelivery]:
    """The deliveries that were to apply, carried a conversation state the ordering guard did not take (the
    mirror held one at least as new), and changed nothing else. They are ``stale``, not ``applied``. A state
    superseded by a newer one of the same batch counts as written: one after the other, it would have been."""
    stale = [
        item
        for item in items
        if item.to_apply and item.verdict.state is not None and not item.state_written and item.changes == 0
    ]
    for item in stale:
        item.status, item.reason = "stale", STALE_REASON
    return stale


def finish(
    uow: UnitOfWork,
    items: Sequence[PendingDelivery],
    late_duplicates: Sequence[PendingDelivery],
    stale: Sequence[PendingDelivery] = (),
) -> None:
    """Write the final outcome of retried deliveries over their failed row, the late duplicates' rows, and turn
    the rows of stale deliveries claimed as applied into ``stale``."""
    claimed_stale = [item.key for item in stale if item.retry_of is None]
    uow.deliveries.mark_stale(claimed_stale, STALE_REASON)
    for item in items:
        if item.retry_of is not None:
            uow.deliveries.finish(item.retry_of, item.ledger_row())
    if late_duplicates:
        uow.deliveries.claim([item.ledger_row() for item in late_duplicates])


def failure_row(record: IngestRecord, error: BaseException, *, attempt: int) -> NewDelivery:
    """The ledger row of a delivery that failed: its error and body, kept for ``make replay``."""
    return NewDelivery(
        integration_id=record.integration_id,
        delivery_id=record.delivery_id,
        status="failed",
        received_at=record.received_at,
        event=event_name_of(record.body),
        error=describe_error(error),
        body=record.body,
        attempts=max(attempt, 1),
    )


def describe_error(error: BaseException) -> str:
    """A failure as kept in the ledger: the error class and its primary message (no row data)."""
    if isinstance(error, psycopg.Error):
        primary = error.diag.message_primary or ""
        text = f"{type(error).__name__} [{error.sqlstate or '-'}]: {primary or 'database error'}"
    else:
        text = f"{type(error).__name__}: {error}"
    return text[:_MAX_ERROR_CHARS]


def event_name_of(body: bytes) -> str | None:
    """The ``event`` of a body, when it has a readable one (for the row of a delivery that failed)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return None
    name = data.get("event") if isinstance(data, dict) else None
    return name[:MAX_EVENT_CHARS] if isinstance(name, str) and name else None
