"""The application's object graph for a test: the same composition root the handlers use, on the test's database."""

from __future__ import annotations

from typing import Any

from chatwoot_integration.bootstrap import Components
from chatwoot_integration.config import Settings
from chatwoot_integration.db import Database
from tests.egress_support import ALLOWED_NETWORKS, resolve_test_names


def graph(db: Database, settings: Settings | None = None, **overrides: Any) -> Components:
    """Components on ``db`` with default settings (the local secret store; Chatwoot allowed over http on loopback,
    where the simulators listen), ``overrides`` replacing parts."""
    settings = settings or Settings(chatwoot_allow_http=True, chatwoot_allowed_networks=ALLOWED_NETWORKS)
    return Components(settings, database=db, **{"egress_resolver": resolve_test_names, **overrides})
