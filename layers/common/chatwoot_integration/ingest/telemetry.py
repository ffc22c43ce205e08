"""Ingest metrics: received, rejected (in total and by reason), duplicate, applied, ignored, failed.

Counters go to the shared Powertools ``metrics`` and are flushed by the handler's ``log_metrics``. The
per-reason count of a rejection is written at once as a metric of its own, because its ``reason`` dimension
must not be attached to the other counters of the invocation.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.metrics import MetricUnit, single_metric

from ..observability import SERVICE, logger, metrics

if TYPE_CHECKING:
    from .delivery import DeliveryResult

# The template sets POWERTOOLS_METRICS_NAMESPACE; local runs and tests may not, and Powertools refuses to
# serialise metrics without a namespace.
DEFAULT_NAMESPACE = "ChatwootIntegration"


def count(name: str, value: int = 1) -> None:
    """Add ``value`` to the counter ``name`` (received, duplicate, applied, ignored, failed)."""
    _ensure_namespace()
    metrics.add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_rejected(reason: str) -> None:
    """Count one rejected delivery: in the invocation's ``rejected`` total, and once more with its reason (a
    stable code, never free text) as a dimension, which CloudWatch keeps as a series of its own."""
    namespace = _ensure_namespace()
    metrics.add_metric(name="rejected", unit=MetricUnit.Count, value=1)
    with single_metric(
        name="rejected",
        unit=MetricUnit.Count,
        value=1,
        namespace=namespace,
        default_dimensions={"service": SERVICE},
    ) as metric:
        metric.add_dimension(name="reason", value=reason)


def report(results: Iterable[DeliveryResult]) -> None:
    """Count and log the outcomes of a unit of work: one counter per status (not one call per delivery), a
    warning per rejected delivery, and an info line per delivery only when info lines are kept."""
    statuses: Counter[str] = Counter()
    info = logger.log_level <= logging.INFO
    for result in results:
        rejected = result.status in {"rejected", "dropped"}
        if rejected:
            count_rejected(result.reason or "invalid")
        else:
            statuses[str(result.status)] += 1
        if rejected or info:
            keys = log_keys(
                integration_id=result.integration_id,
                delivery_id=result.delivery_id,
                account_id=result.account_id,
                conversation_id=result.conversation_id,
                event=result.event,
                status=result.status,
                reason=result.reason,
                changes=result.changes,
            )
            if rejected:
                logger.warning("delivery rejected", extra=keys)
            else:
                logger.info("delivery processed", extra=keys)
    for status, value in statuses.items():
        count(status, value)


def log_keys(
    *,
    integration_id: int | None = None,
    delivery_id: str | None = None,
    account_id: int | None = None,
    conversation_id: int | None = None,
    **more: Any,
) -> dict[str, Any]:
    """The structured keys of a delivery's log lines (only identifiers: never a body, a secret or content)."""
    keys: dict[str, Any] = {
        "integration_id": integration_id,
        "delivery_id": delivery_id,
        "account_id": account_id,
        "conversation_id": conversation_id,
        **more,
    }
    return {name: value for name, value in keys.items() if value is not None}


def _ensure_namespace() -> str:
    if not metrics.namespace:
        metrics.namespace = DEFAULT_NAMESPACE
    return str(metrics.namespace)
