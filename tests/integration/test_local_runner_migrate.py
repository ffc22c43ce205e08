"""``make migrate`` against a real PostgreSQL named by DATABASE_URL."""

from __future__ import annotations

import psycopg
import pytest

from chatwoot_integration.migrations import default_migrations_dir, load_migrations
from localdev import migrate
from localdev.postgres import PostgresHandle, recreate_database


@pytest.fixture
def empty_database(postgres_server: PostgresHandle, worker_id: str, monkeypatch: pytest.MonkeyPatch) -> str:
    name = f"chatwoot_local_migrate_{worker_id}"
    recreate_database(postgres_server.url, name)
    url = postgres_server.url_for(name)
    monkeypatch.setenv("DATABASE_URL", url)
    return url


def test_migrate_applies_every_migration_once_and_says_which(
    empty_database: str, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = load_migrations(default_migrations_dir())

    assert migrate.main() == 0
    first = capsys.readouterr().out
    assert migrate.main() == 0
    second = capsys.readouterr().out

    for migration in expected:
        assert f"migrations: applied {migration.version:04d}_{migration.name}" in first
    assert "nothing to apply" in second
    assert "applied" not in second.replace("nothing to apply", "")
    with psycopg.connect(empty_database) as conn:
        recorded = [row[0] for row in conn.execute("SELECT version FROM schema_migrations ORDER BY version")]
    assert recorded == [migration.version for migration in expected]


def test_the_database_is_described_without_credentials(empty_database: str, capsys: pytest.CaptureFixture[str]) -> None:
    migrate.main()

    last_line = capsys.readouterr().out.strip().splitlines()[-1]
    params = psycopg.conninfo.conninfo_to_dict(empty_database)
    assert last_line.startswith("database: DATABASE_URL (")
    assert f"database {params['dbname']}" in last_line
    if params.get("password"):
        assert str(params["password"]) not in last_line
