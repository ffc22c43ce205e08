"""Fixtures of the convergence suite: the seed (CONVERGENCE_SEED replays a failed run) and a PostgreSQL server of
a test's own, which the test may stop and start without disturbing any other test."""

from __future__ import annotations

import os
from collections.abc import Callable, Generator, Iterator
from pathlib import Path

import pytest
from pgserver import _commands

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.db import Database
from localdev.migrate import migrate
from localdev.postgres import PostgresHandle, start_embedded

DEFAULT_SEED = 20260617

# pgserver makes one function per PostgreSQL binary when it is imported, which type checkers cannot see.
pg_ctl: Callable[..., str] = _commands.pg_ctl  # type: ignore[attr-defined]


@pytest.fixture
def convergence_seed() -> int:
    """The run's seed: ``CONVERGENCE_SEED`` when set, else the default one CI runs."""
    return int(os.environ.get("CONVERGENCE_SEED", DEFAULT_SEED))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    """Whatever made a seeded test fail (an assertion or an error in the harness), its report names the seed."""
    report = yield
    seed = getattr(item, "funcargs", {}).get("convergence_seed")
    if report.failed and seed is not None:
        report.sections.append(("convergence seed", f"replay with CONVERGENCE_SEED={seed}"))
    return report


class OwnPostgres:
    """An embedded server on its own data directory, with the schema applied, that the test can stop and start."""

    def __init__(self, pgdata: Path) -> None:
        self._handle: PostgresHandle = start_embedded(pgdata)
        self.url = self._handle.url
        self.running = True
        server = self._handle.server
        self._pgdata = server.pgdata
        self._user = server.system_user
        self._log = server.log
        self._socket_dir = server.get_postmaster_info().socket_dir
        migrate(self.url)

    def stop(self) -> None:
        """A fast shutdown: open connections break, new ones are refused until :meth:`start`."""
        pg_ctl(["-w", "-m", "fast", "stop"], pgdata=self._pgdata, user=self._user)
        self.running = False

    def start(self) -> None:
        """Start it again on the same socket, so the same URL reaches it."""
        options = ["-w", "-o", '-h ""', "-o", f"-k {self._socket_dir}", "-l", str(self._log), "start"]
        pg_ctl(options, pgdata=self._pgdata, user=self._user, timeout=30)
        self.running = True

    def close(self) -> None:
        if self.running:
            self.stop()
        # The stop above ended whichever server runs now. pgserver would still try to stop the process it started
        # first, which a restart replaced: depending on when that process disappears, it then fails to signal a
        # process that no longer exists. Nothing is left for it to stop, so it only forgets the server.
        self._handle.server._postmaster_info = None
        self._handle.stop()


@pytest.fixture
def own_postgres(tmp_path: Path) -> Iterator[OwnPostgres]:
    server = OwnPostgres(tmp_path / "pgdata")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture
def own_db(own_postgres: OwnPostgres) -> Iterator[Database]:
    """The handlers' database, on the test's own server, for the test's duration."""
    database = Database(lambda: own_postgres.url, connect_timeout=2)
    bootstrap().configure(database=database)
    try:
        yield database
    finally:
        bootstrap().configure()
        database.close()
