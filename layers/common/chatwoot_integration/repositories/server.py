"""SQL about the database server itself: reachability, its clock, the current transaction."""

from __future__ import annotations

from datetime import datetime

from ..db import Connection


class ServerRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def ping(self) -> None:
        """Raises when the server does not answer."""
        self._conn.execute("SELECT 1")

    def now(self) -> datetime:
        """The database's clock (``synced_at``, ``seen_at`` and ``updated_at`` are stamped from it)."""
        row = self._conn.execute("SELECT clock_timestamp() AS now").fetchone()
        assert row is not None
        now: datetime = row["now"]
        return now

    def transaction_id(self) -> int:
        """The id of the current transaction (what ``xmin`` of the rows it writes holds, as a 64-bit number)."""
        row = self._conn.execute("SELECT pg_current_xact_id()::text::bigint AS tx").fetchone()
        assert row is not None
        return int(row["tx"])
