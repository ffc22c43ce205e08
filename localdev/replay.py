"""``make replay``: reprocess the webhook deliveries recorded as failed in the local database.

A delivery whose processing failed (the database was down, a bug) is kept in the deliveries ledger with its
error and raw body. This applies each again, oldest first, through the processor's normal path: it is
deduplicated like any delivery, a success turns its row into the final outcome (and drops the body), and a
delivery that fails again stays recorded with the new error.

    make replay                         # every recorded failure (up to LIMIT, default 500)
    make replay INTEGRATION_ID=2 LIMIT=50
"""

from __future__ import annotations

import argparse
import os
import sys
from collections import Counter
from collections.abc import Sequence
from typing import TextIO

from pydantic import BaseModel, Field

from chatwoot_integration.bootstrap import Components
from chatwoot_integration.config import Settings
from chatwoot_integration.ingest.processor import DeliveryResult

from .migrate import open_local_database
from .settings import LocalSettings


class ReplayOptions(BaseModel):
    integration_id: int | None = Field(default=None, gt=0)
    limit: int = Field(default=500, ge=1, le=100_000)


def replay(components: Components, options: ReplayOptions, out: TextIO) -> list[DeliveryResult]:
    """Reprocess recorded failures and print one line per delivery and a summary."""
    results = components.processor.replay_failed(integration_id=options.integration_id, limit=options.limit)
    for result in results:
        reason = f" ({result.reason})" if result.reason else ""
        print(
            f"integration {result.integration_id} delivery {result.delivery_id} {result.event or '-'}: "
            f"{result.status}{reason}",
            file=out,
        )
    counts = Counter(str(result.status) for result in results)
    summary = ", ".join(f"{count} {status}" for status, count in sorted(counts.items())) or "nothing to replay"
    print(f"replay: {summary}", file=out)
    return results


def parse_options(argv: Sequence[str], environ: dict[str, str]) -> ReplayOptions:
    parser = argparse.ArgumentParser(prog="make replay", description="Reprocess failed webhook deliveries.")
    parser.add_argument("--integration-id", type=int, default=_int_or_none(environ.get("INTEGRATION_ID")))
    parser.add_argument("--limit", type=int, default=_int_or_none(environ.get("LIMIT")) or 500)
    arguments = parser.parse_args(list(argv))
    return ReplayOptions(integration_id=arguments.integration_id, limit=arguments.limit)


def main(argv: Sequence[str] | None = None, environ: dict[str, str] | None = None) -> int:
    env = dict(os.environ) if environ is None else environ
    options = parse_options(sys.argv[1:] if argv is None else argv, env)
    local = open_local_database(LocalSettings.from_environ(env))
    components = Components(Settings(database_url=local.url))
    try:
        results = replay(components, options, sys.stdout)
    finally:
        components.close()
        local.close()
    return 1 if any(result.status == "failed" for result in results) else 0


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.strip() else None


if __name__ == "__main__":
    sys.exit(main())
