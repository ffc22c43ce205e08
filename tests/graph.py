"""The application's object graph for a test: the same composition root the handlers use, on the test's database."""

from __future__ import annotations

from typing import Any

from chatwoot_integration.bootstrap import Components
from chatwoot_integration.config import Settings
from chatwoot_integration.db import Database


def graph(db: Database, settings: Settings | None = None, **overrides: Any) -> Components:
    """Components on ``db`` with default settings (the local secret store), ``overrides`` replacing parts."""
    return Components(settings or Settings(), database=db, **overrides)
