"""Processor function: applies queued Chatwoot deliveries to the mirror (SQS batch, partial batch responses)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.observability import logger, metrics, tracer

components = bootstrap()


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return components.processor.handle_batch(event, context)
