"""Migrate function: applies pending SQL migrations (invoked once after each deploy).

The SQL files travel with the function (``sql/`` next to this file, a copy of the repository's top-level
``sql/`` made by ``sam build``); the runner is the same one ``make migrate`` and the tests use.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.migrations import apply_migrations, load_migrations
from chatwoot_integration.observability import logger, tracer

MIGRATIONS = Path(__file__).resolve().parent / "sql"

components = bootstrap()


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    applied = apply_migrations(components.database.connection(), MIGRATIONS)
    latest = max((m.version for m in load_migrations(MIGRATIONS)), default=0)
    logger.info("migrations applied", extra={"applied": applied, "schema_version": latest})
    return {"applied": applied, "schema_version": latest}
