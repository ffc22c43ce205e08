"""Fixtures shared by every test suite: a real PostgreSQL with the migrations applied, and a clean slate."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from chatwoot_integration.db import Database, set_database
from chatwoot_integration.migrations import apply_migrations, default_migrations_dir
from localdev.postgres import PostgresHandle, connect_or_start, drop_database, recreate_database

REPO_ROOT = Path(__file__).resolve().parents[1]

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
def restore_environment() -> Iterator[None]:
    """Code under test may set variables for the handlers (the local runner does, on purpose): none of them
    outlives its test."""
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


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
    with psycopg.connect(url, autocommit=True, row_factory=psycopg.rows.dict_row) as conn:
        apply_migrations(conn, default_migrations_dir())
    yield url
    drop_database(postgres_server.url, name)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    """A clean database for one test, installed as the process-wide database the handlers use."""
    database = Database(lambda: database_url)
    with database.transaction() as conn:
        conn.execute(f"TRUNCATE {', '.join(_DATA_TABLES)} RESTART IDENTITY CASCADE")
    set_database(database)
    yield database
    set_database(None)
    database.close()


@pytest.fixture
def conn(db: Database) -> psycopg.Connection:
    """The test's own connection (autocommit; wrap writes in ``conn.transaction()``)."""
    return db.connection()
