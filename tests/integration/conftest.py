"""Fixtures of the tests that feed webhook deliveries to the processor or the webhook function."""

from __future__ import annotations

import psycopg
import pytest

from chatwoot_integration.db import Database
from chatwoot_integration.ingest.processor import DeliveryProcessor
from tests.factories import create_integration
from tests.graph import graph
from tests.unit.ingest.support import ACCOUNT_ID, SECRET


@pytest.fixture
def integration_id(conn: psycopg.Connection) -> int:
    """An integration of the account the payload builders use, whose webhook secret signs their deliveries."""
    return create_integration(conn, account_id=ACCOUNT_ID, credentials={"api_token": "t", "webhook_secret": SECRET})


@pytest.fixture
def processor(db: Database) -> DeliveryProcessor:
    """The processor of the application's graph, on the test's database."""
    return graph(db).processor
