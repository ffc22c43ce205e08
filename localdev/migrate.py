"""``make migrate``: apply pending migrations to the local database (embedded PostgreSQL unless DATABASE_URL).

The local database is also what ``make run`` uses: :func:`open_local_database` is shared by both.
"""

from __future__ import annotations

import sys
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

import psycopg
from psycopg.rows import dict_row

from chatwoot_integration.migrations import Migration, apply_migrations, default_migrations_dir, load_migrations

from .postgres import PostgresHandle, connect_or_start, ensure_database
from .settings import LOCAL_DATABASE_NAME, LocalSettings


@dataclass
class LocalDatabase:
    handle: PostgresHandle
    url: str
    embedded: bool
    pgdata: Path | None = None

    def describe(self) -> str:
        """Where the data lives, without credentials."""
        if self.embedded:
            return f"{self.pgdata} (embedded PostgreSQL, database {LOCAL_DATABASE_NAME})"
        params = psycopg.conninfo.conninfo_to_dict(self.url)
        host = params.get("host") or "localhost"
        return f"DATABASE_URL (host {host}, database {params.get('dbname', '?')})"

    def close(self) -> None:
        """Stops the embedded server if this process started it; an external server is left alone."""
        self.handle.stop()


def open_local_database(settings: LocalSettings) -> LocalDatabase:
    """DATABASE_URL as given, or the embedded server under LOCAL_STATE_DIR with its ``chatwoot_local`` database."""
    if settings.database_url:
        handle = connect_or_start(settings.database_url, settings.local_state_dir)
        return LocalDatabase(handle=handle, url=settings.database_url, embedded=False)
    handle = connect_or_start(None, settings.local_state_dir)
    try:
        ensure_database(handle.url, LOCAL_DATABASE_NAME)
    except BaseException:
        handle.stop()
        raise
    return LocalDatabase(
        handle=handle,
        url=handle.url_for(LOCAL_DATABASE_NAME),
        embedded=True,
        pgdata=settings.local_state_dir / "pgdata",
    )


def migrate(url: str, directory: Path | None = None) -> list[Migration]:
    """Apply what is pending in ``directory`` (the repository's sql/ by default); return what was applied."""
    directory = directory or default_migrations_dir()
    with psycopg.connect(url, autocommit=True, row_factory=dict_row) as conn:
        versions = set(apply_migrations(conn, directory))
    return [migration for migration in load_migrations(directory) if migration.version in versions]


def report(applied: list[Migration], out: TextIO) -> None:
    if not applied:
        print("migrations: nothing to apply, the schema is up to date", file=out)
    for migration in applied:
        print(f"migrations: applied {migration.version:04d}_{migration.name}", file=out)


def main() -> int:
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # pgserver falls back to /tmp
    settings = LocalSettings.from_environ()
    database = open_local_database(settings)
    try:
        applied = migrate(database.url)
    finally:
        database.close()
    report(applied, sys.stdout)
    print(f"database: {database.describe()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
