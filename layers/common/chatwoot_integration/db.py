"""PostgreSQL connections: one lazily opened connection per thread, reopened when it breaks.

Behind RDS Proxy nothing may pin the connection, so automatic prepared statements are off
(``prepare_threshold=None``), no session ``SET`` is ever issued, and locks are row locks taken inside
transactions. Connections run in autocommit mode; every unit of work (``uow.UnitOfWork``) opens an explicit
transaction with :meth:`Database.transaction`, so no transaction is ever left open between invocations.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg
from psycopg.rows import dict_row

from .config import Settings

Conninfo = Callable[[], str]
Row = dict[str, Any]
Connection = psycopg.Connection[Row]


def conninfo_from_settings(settings: Settings) -> Conninfo:
    """Where to connect: ``DATABASE_URL`` locally, RDS Proxy plus the credentials secret in AWS."""
    if settings.database_url:
        url = settings.database_url
        return lambda: url
    if not (settings.db_host and settings.db_secret_arn):
        raise RuntimeError("set DATABASE_URL, or DB_HOST and DB_SECRET_ARN")
    host, port, name, secret_arn = settings.db_host, settings.db_port, settings.db_name, settings.db_secret_arn

    def from_secret() -> str:
        from aws_lambda_powertools.utilities import parameters  # noqa: PLC0415 - only AWS needs it

        secret: Any = parameters.get_secret(secret_arn, transform="json", max_age=300)
        return psycopg.conninfo.make_conninfo(
            host=host,
            port=port,
            dbname=name,
            user=secret["username"],
            password=secret["password"],
            sslmode="require",
        )

    return from_secret


class Database:
    """A per-thread connection cache. Lambda runs one thread per container; the local runner runs many."""

    def __init__(self, conninfo: Conninfo, *, connect_timeout: int = 5, application_name: str = "chatwoot-integration"):
        self._conninfo = conninfo
        self._connect_timeout = connect_timeout
        self._application_name = application_name
        self._local = threading.local()
        self._all: list[Connection] = []
        self._all_lock = threading.Lock()

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        return cls(conninfo_from_settings(settings), connect_timeout=settings.db_connect_timeout_seconds)

    def connection(self) -> Connection:
        conn: Connection | None = getattr(self._local, "conn", None)
        if conn is None or conn.closed or conn.broken:
            conn = psycopg.connect(
                self._conninfo(),
                autocommit=True,
                prepare_threshold=None,
                row_factory=dict_row,
                connect_timeout=self._connect_timeout,
                application_name=self._application_name,
            )
            self._local.conn = conn
            with self._all_lock:
                self._all = [c for c in self._all if not c.closed]
                self._all.append(conn)
        return conn

    @contextmanager
    def transaction(self, *, read_only: bool = False) -> Iterator[Connection]:
        """One transaction on this thread's connection: commits on success, rolls back on any exception.

        ``read_only`` starts it as ``BEGIN READ ONLY`` (psycopg's per-transaction setting, not a session ``SET``),
        so the database itself refuses a write in a unit of work meant to read.
        """
        try:
            conn = self.connection()
        except psycopg.OperationalError:
            self._discard(getattr(self._local, "conn", None))
            raise
        # Inside another transaction of this thread this one is a savepoint of it, and shares its mode.
        outermost = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
        if outermost:
            conn.read_only = read_only or None
        try:
            with conn.transaction():
                yield conn
        except psycopg.OperationalError:
            # The server went away or the connection broke: drop it so the next call reconnects.
            self._discard(conn)
            raise
        finally:
            if outermost and not conn.closed:
                conn.read_only = None

    def close(self) -> None:
        with self._all_lock:
            conns, self._all = self._all, []
        for conn in conns:
            conn.close()
        self._local = threading.local()

    def _discard(self, conn: Connection | None) -> None:
        if conn is not None:
            conn.close()
        self._local.conn = None
