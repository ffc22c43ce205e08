"""Sync function: reconciles the mirror with Chatwoot's REST API (EventBridge Scheduler, or one integration)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chatwoot_integration.observability import logger
from chatwoot_integration.sync import SyncRequest
from chatwoot_integration.sync.runtime import lambda_deadline, sync_service


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return (
        sync_service().run(SyncRequest.model_validate(event), deadline=lambda_deadline(context)).model_dump(mode="json")
    )
