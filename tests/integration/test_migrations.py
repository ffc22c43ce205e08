"""The migration runner against a real PostgreSQL."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from chatwoot_integration.migrations import (
    MigrationChecksumMismatch,
    MigrationError,
    apply_migrations,
    default_migrations_dir,
    load_migrations,
)
from localdev.postgres import PostgresHandle, drop_database, recreate_database


@pytest.fixture
def empty_database(postgres_server: PostgresHandle, worker_id: str) -> Iterator[str]:
    name = f"chatwoot_migrations_{worker_id}_{os.getpid()}"
    recreate_database(postgres_server.url, name)
    yield postgres_server.url_for(name)
    drop_database(postgres_server.url, name)


def connect(url: str) -> psycopg.Connection:
    return psycopg.connect(url, autocommit=True, row_factory=dict_row)


def test_applies_every_file_in_order_on_an_empty_database(empty_database: str) -> None:
    files = load_migrations(default_migrations_dir())
    with connect(empty_database) as conn:
        applied = apply_migrations(conn, default_migrations_dir())
        recorded = conn.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY version").fetchall()
        tables = {r["tablename"] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")}
    assert applied == [m.version for m in files]
    assert [(r["version"], r["name"], r["checksum"]) for r in recorded] == [
        (m.version, m.name, m.checksum) for m in files
    ]
    assert {
        "integracoes_chatwoot",
        "conversas_chatwoot",
        "usuarios_chatwoot",
        "partes_chatwoot",
        "mensagens_chatwoot",
        "contatos_chatwoot",
        "entregas_webhook_chatwoot",
        "eventos_chatwoot",
        "disponibilidade_historico_chatwoot",
        "membros_inbox_chatwoot",
        "membros_equipe_chatwoot",
    } <= tables


def test_second_run_applies_nothing_and_changes_nothing(empty_database: str) -> None:
    with connect(empty_database) as conn:
        apply_migrations(conn, default_migrations_dir())
        before = conn.execute("SELECT version, applied_at FROM schema_migrations ORDER BY version").fetchall()
        assert apply_migrations(conn, default_migrations_dir()) == []
        after = conn.execute("SELECT version, applied_at FROM schema_migrations ORDER BY version").fetchall()
    assert before == after


def test_a_changed_applied_file_is_refused(empty_database: str, tmp_path: Path) -> None:
    migrations = tmp_path / "sql"
    shutil.copytree(default_migrations_dir(), migrations)
    with connect(empty_database) as conn:
        apply_migrations(conn, migrations)
        first = sorted(migrations.glob("*.sql"))[0]
        first.write_text(first.read_text() + "\n-- edited after it was applied\n")
        with pytest.raises(MigrationChecksumMismatch, match=first.name):
            apply_migrations(conn, migrations)


def test_an_applied_file_that_disappeared_is_refused(empty_database: str, tmp_path: Path) -> None:
    migrations = tmp_path / "sql"
    shutil.copytree(default_migrations_dir(), migrations)
    with connect(empty_database) as conn:
        apply_migrations(conn, migrations)
        last = sorted(migrations.glob("*.sql"))[-1]
        last.unlink()
        with pytest.raises(MigrationError, match="file is missing"):
            apply_migrations(conn, migrations)


def test_a_failing_file_leaves_nothing_behind_and_later_files_wait(empty_database: str, tmp_path: Path) -> None:
    migrations = tmp_path / "sql"
    migrations.mkdir()
    (migrations / "0001_good.sql").write_text("CREATE TABLE good (id int);")
    (migrations / "0002_bad.sql").write_text("CREATE TABLE half (id int); SELECT * FROM no_such_table;")
    (migrations / "0003_later.sql").write_text("CREATE TABLE later (id int);")
    with connect(empty_database) as conn:
        with pytest.raises(psycopg.errors.UndefinedTable):
            apply_migrations(conn, migrations)
        versions = [r["version"] for r in conn.execute("SELECT version FROM schema_migrations")]
        tables = {r["tablename"] for r in conn.execute("SELECT tablename FROM pg_tables WHERE schemaname='public'")}
        assert versions == [1]
        assert "half" not in tables
        assert "later" not in tables
        (migrations / "0002_bad.sql").write_text("CREATE TABLE half (id int);")
        assert apply_migrations(conn, migrations) == [2, 3]


def test_badly_named_files_are_refused(tmp_path: Path) -> None:
    (tmp_path / "1_oops.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match=r"0001_what\.sql"):
        load_migrations(tmp_path)
