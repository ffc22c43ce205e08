"""API function: the platform's API over the mirror (JWT-protected except health, OpenAPI and docs)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chatwoot_integration.api.app import build_app, handle
from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.observability import logger, tracer

components = bootstrap()
app = build_app()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, components, event, context)
