"""Sync function: reconciles the mirror with Chatwoot's REST API (EventBridge Scheduler, or one integration)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.observability import logger, tracer
from chatwoot_integration.sync.deadlines import lambda_deadline
from chatwoot_integration.sync.models import SyncRequest

components = bootstrap()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    request = SyncRequest.model_validate(event)
    return components.sync.run(request, deadline=lambda_deadline(context)).model_dump(mode="json")
