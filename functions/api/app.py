"""API function: the platform's API over the mirror (JWT-protected except health, OpenAPI and docs)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chatwoot_integration.api.app import build_app, handle
from chatwoot_integration.observability import logger

app = build_app()


@logger.inject_lambda_context(clear_state=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return handle(app, event, context)
