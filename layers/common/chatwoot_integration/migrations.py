"""The migration runner: numbered SQL files applied in order, once each, recorded with their checksum.

The same code runs from ``make migrate``, from the test fixtures and in the migrate Lambda.

* Files are named ``NNNN_what.sql``; the number is the version.
* Each file runs in its own transaction together with the row that records it, so a failing file leaves
  nothing behind and the next run retries it.
* A file already applied whose content changed is refused (:class:`MigrationChecksumMismatch`), as is an
  applied version whose file disappeared: the database must never drift from the repository silently.
* Concurrent runners serialise on a table lock taken inside each transaction (no session advisory lock, so
  RDS Proxy never pins the connection); running twice is a no-op.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

from .db import Connection

_FILE_PATTERN = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")

_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version    integer PRIMARY KEY,
    name       text        NOT NULL,
    checksum   text        NOT NULL,
    applied_at timestamptz NOT NULL DEFAULT now()
)
"""


class MigrationError(Exception):
    pass


class MigrationChecksumMismatch(MigrationError):
    pass


@dataclass(frozen=True)
class Migration:
    version: int
    name: str
    sql: str
    checksum: str


def load_migrations(directory: Path) -> list[Migration]:
    migrations = []
    for path in sorted(directory.glob("*.sql")):
        match = _FILE_PATTERN.match(path.name)
        if not match:
            raise MigrationError(f"migration file name must look like 0001_what.sql: {path.name}")
        content = path.read_bytes()
        migrations.append(
            Migration(
                version=int(match.group(1)),
                name=match.group(2),
                sql=content.decode("utf-8"),
                checksum=hashlib.sha256(content).hexdigest(),
            )
        )
    versions = [m.version for m in migrations]
    if len(set(versions)) != len(versions):
        raise MigrationError("two migration files share a version number")
    return migrations


def apply_migrations(conn: Connection, directory: Path) -> list[int]:
    """Apply every pending migration in ``directory``; return the versions applied by this call."""
    migrations = load_migrations(directory)
    with conn.transaction():
        conn.execute(_BOOTSTRAP)
    _check_applied(conn, migrations)
    applied_now = []
    for migration in migrations:
        with conn.transaction():
            conn.execute("LOCK TABLE schema_migrations IN SHARE ROW EXCLUSIVE MODE")
            row = conn.execute(
                "SELECT checksum FROM schema_migrations WHERE version = %s", (migration.version,)
            ).fetchone()
            if row is not None:
                continue  # applied by an earlier or concurrent run; checked above
            conn.execute(migration.sql.encode())
            conn.execute(
                "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                (migration.version, migration.name, migration.checksum),
            )
        applied_now.append(migration.version)
    return applied_now


def _check_applied(conn: Connection, migrations: list[Migration]) -> None:
    on_disk = {m.version: m for m in migrations}
    for row in conn.execute("SELECT version, name, checksum FROM schema_migrations ORDER BY version"):
        migration = on_disk.get(row["version"])
        if migration is None:
            raise MigrationError(f"migration {row['version']:04d}_{row['name']} is applied but its file is missing")
        if migration.checksum != row["checksum"]:
            raise MigrationChecksumMismatch(
                f"migration {migration.version:04d}_{migration.name}.sql changed after it was applied; "
                "add a new migration instead of editing an applied one"
            )


def default_migrations_dir() -> Path:
    """The repository's top-level ``sql/`` directory (the migrate Lambda passes its bundled copy instead)."""
    return Path(__file__).resolve().parents[3] / "sql"
