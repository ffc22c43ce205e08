"""Fixtures shared by every test suite: a real PostgreSQL with the migrations applied, a clean slate, and the
service's log lines."""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.config import Settings
from chatwoot_integration.db import Database
from chatwoot_integration.observability import SERVICE, metrics
from localdev.migrate import migrate
from localdev.postgres import PostgresHandle, connect_or_start, drop_database, recreate_database
from tests.egress_support import ENVIRONMENT as EGRESS_ENVIRONMENT
from tests.egress_support import resolve_test_names
from tests.handlers import forget_handler_state

REPO_ROOT = Path(__file__).resolve().parents[1]

# The handlers read their settings from the environment: the simulators are reached over http on loopback.
for _name, _value in EGRESS_ENVIRONMENT.items():
    os.environ.setdefault(_name, _value)

# Tables emptied between tests, children first. schema_migrations is kept: the schema stays applied.
_DATA_TABLES = (
    "eventos_chatwoot",
    "entregas_webhook_chatwoot",
    "mensagens_chatwoot",
    "conversas_chatwoot",
    "partes_chatwoot",
    "contatos_chatwoot",
    "disponibilidade_historico_chatwoot",
    "membros_equipe_chatwoot",
    "membros_inbox_chatwoot",
    "usuarios_chatwoot",
    "integracoes_chatwoot",
)


@pytest.fixture(autouse=True)
def isolated_handlers() -> Iterator[None]:
    """Code under test may set variables for the handlers (the local runner does, on purpose), and the handlers
    cache what they build from them per process: neither outlives its test."""
    saved = dict(os.environ)
    forget_handler_state()
    metrics.clear_metrics()  # a test counts only what it did: code run outside a handler leaves counts unflushed
    yield
    os.environ.clear()
    os.environ.update(saved)
    forget_handler_state()


# What the handlers read from their environment: their settings and Powertools' (the local runner sets some).
HANDLER_ENVIRONMENT = (
    *(name.upper() for name in Settings.model_fields),
    "POWERTOOLS_SERVICE_NAME",
    "POWERTOOLS_METRICS_NAMESPACE",
    "POWERTOOLS_LOG_LEVEL",
    "POWERTOOLS_METRICS_DISABLED",
)


@pytest.fixture
def handler_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """None of the handlers' variables comes from the developer's shell (but the simulators stay reachable)."""
    for name in HANDLER_ENVIRONMENT:
        monkeypatch.delenv(name, raising=False)
    for name, value in EGRESS_ENVIRONMENT.items():
        monkeypatch.setenv(name, value)


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresHandle]:
    """The embedded server under LOCAL_STATE_DIR (shared by the xdist workers), or DATABASE_URL's."""
    state_dir = Path(os.environ.get("LOCAL_STATE_DIR", REPO_ROOT / ".local")) / "test"
    handle = connect_or_start(os.environ.get("DATABASE_URL"), state_dir)
    yield handle
    handle.stop()


@pytest.fixture(scope="session")
def database_url(postgres_server: PostgresHandle, worker_id: str) -> Iterator[str]:
    """A database of this test process's own, created empty and migrated once per session, dropped at the end.

    The name carries the process id, so test runs sharing one server (xdist workers, parallel runs on a
    developer's machine) never touch each other's data.
    """
    name = f"chatwoot_test_{worker_id}_{os.getpid()}"
    recreate_database(postgres_server.url, name)
    url = postgres_server.url_for(name)
    migrate(url)
    yield url
    drop_database(postgres_server.url, name)


@pytest.fixture
def runner_database(postgres_server: PostgresHandle, worker_id: str) -> str:
    """An empty database of this worker's, recreated for each test, for a local runner that migrates it itself."""
    name = f"chatwoot_runner_{worker_id}"
    recreate_database(postgres_server.url, name)
    return postgres_server.url_for(name)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A clean database for one test, installed as the database of the handlers' graph."""
    database = Database(lambda: database_url)
    with database.transaction() as conn:
        conn.execute(f"TRUNCATE {', '.join(_DATA_TABLES)} RESTART IDENTITY CASCADE")
    bootstrap().configure(database=database, egress_resolver=resolve_test_names)
    yield database
    bootstrap().configure()
    database.close()


@pytest.fixture
def conn(db: Database) -> psycopg.Connection:
    """The test's own connection (autocommit; wrap writes in ``conn.transaction()``)."""
    return db.connection()


@pytest.fixture
def log_lines() -> Iterator[list[dict[str, Any]]]:
    """The service logger's JSON lines, as CloudWatch would receive them."""
    captured: list[dict[str, Any]] = []
    service_logger = logging.getLogger(SERVICE)

    class Capture(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            captured.append(json.loads(self.format(record)))

    handler = Capture()
    handler.setFormatter(service_logger.handlers[0].formatter)
    service_logger.addHandler(handler)
    yield captured
    service_logger.removeHandler(handler)
