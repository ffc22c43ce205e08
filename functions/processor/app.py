"""Processor function: applies queued Chatwoot deliveries to the mirror (SQS batch, partial failures)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chatwoot_integration.ingest.batch import handle_sqs_batch
from chatwoot_integration.observability import logger, metrics


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle_sqs_batch(event, context)
