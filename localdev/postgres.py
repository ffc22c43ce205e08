"""An embedded PostgreSQL (the ``pgserver`` package) for local runs and tests, unless DATABASE_URL is set."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

log = logging.getLogger(__name__)


@dataclass
class PostgresHandle:
    """A server to talk to. ``stop()`` stops it only if this process started the embedded one."""

    url: str
    server: Any = None

    def url_for(self, database: str) -> str:
        return psycopg.conninfo.make_conninfo(self.url, dbname=database)

    def stop(self) -> None:
        if self.server is not None:
            self.server.cleanup()
            self.server = None


def start_embedded(pgdata: Path) -> PostgresHandle:
    """Start (or join) the embedded server whose data lives in ``pgdata``."""
    import pgserver  # noqa: PLC0415 - only needed when no DATABASE_URL is given

    pgdata.mkdir(parents=True, exist_ok=True)
    _forget_dead_users(pgdata)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    return PostgresHandle(url=server.get_uri(), server=server)


def _forget_dead_users(pgdata: Path) -> None:
    """pgserver stops the server when its last user process exits, counting users in a file; a process that was
    killed never removes itself, and the server would then outlive every later run. Drop the dead ones."""
    import json  # noqa: PLC0415

    import psutil  # noqa: PLC0415 - a dependency of pgserver

    users_file = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(users_file.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and psutil.pid_exists(pid)]
    if alive != pids:
        users_file.write_text(json.dumps(alive))


def connect_or_start(database_url: str | None, state_dir: Path) -> PostgresHandle:
    if database_url:
        return PostgresHandle(url=database_url)
    return start_embedded(state_dir / "pgdata")


def recreate_database(admin_url: str, name: str) -> None:
    """Drop and create ``name`` (tests start from an empty database every run)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def ensure_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
