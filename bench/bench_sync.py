"""The scheduled sync's full pass: 10,000 conversations from the simulator over HTTP into PostgreSQL.

Measured in one run, on one database, against one simulator served (``serve()``) on 127.0.0.1 from a process of
its own:

- cold backfill (informational): the first full pass into an empty mirror, agents, contacts and the message
  catch-up (one messages request per conversation);
- steady state: the nightly full pass once the mirror holds everything (messages already mirrored): agents,
  400 pages of 25, each written in one transaction (contacts, guarded upsert, resume state), the deletion check;
- the limit: the same 400 pages fetched with a bare ``httpx.Client`` (same query, same keep-alive) and discarded.

Wall time of the steady-state pass is compared with the bare fetch (target ≤ 1.3×). Runs alternate, best of
three each, so a burst of load on the machine does not land on one side only. Database round trips are counted
on the sync's connection: every statement, plus BEGIN and COMMIT of every transaction.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

import httpx
import psycopg

from chatwoot_integration.db import Database
from chatwoot_integration.secrets import DatabaseSecretStore
from chatwoot_integration.services.changes import ChangePublisher
from chatwoot_integration.services.chatwoot_clients import ChatwootClients, default_client_factory
from chatwoot_integration.sync.models import IntegrationSyncReport, SyncRequest
from chatwoot_integration.sync.service import SyncService
from chatwoot_integration.uow import UnitOfWork, unit_of_work_factory
from chatwoot_simulator import Simulator, seed_demo, serve

from .harness import BenchContext, Result, quiet

CONVERSATIONS = 10_000
REPEATS = 3
SIMULATOR_START_SECONDS = 300  # seeding 10,000 conversations takes a while on a small machine
WEBHOOK_SECRET = "bench-sync-secret"


@dataclass
class _Counts:
    statements: int = 0
    transactions: int = 0

    @property
    def round_trips(self) -> int:
        return self.statements + 2 * self.transactions


def run(ctx: BenchContext) -> list[Result]:
    with (
        _simulator_process(CONVERSATIONS) as (url, account_id, token),
        ctx.fresh_database("bench_sync") as database,
        httpx.Client() as http,
        quiet(),
    ):
        _connect(database, url, account_id, token)
        unit_of_work = unit_of_work_factory(database)
        service = SyncService(
            unit_of_work,
            ChatwootClients(unit_of_work, DatabaseSecretStore(unit_of_work), default_client_factory(http)),
            publisher=ChangePublisher(unit_of_work, None),
        )
        counts = _Counts()
        with _counting(database, counts):
            cold_seconds, cold = _timed_pass(service)
        _check(cold, CONVERSATIONS)
        cold_trips = counts.round_trips

        sync_times, bare_times = [], []
        steady: IntegrationSyncReport | None = None
        steady_counts = _Counts()
        for _ in range(REPEATS):
            bare_times.append(_bare_fetch(http, url, account_id, token, cold.pages))
            steady_counts = _Counts()
            with _counting(database, steady_counts):
                seconds, steady = _timed_pass(service)
            _check(steady, CONVERSATIONS)
            sync_times.append(seconds)

    assert steady is not None
    sync_seconds, bare_seconds = min(sync_times), min(bare_times)
    rate = CONVERSATIONS / sync_seconds
    trips = steady_counts.round_trips
    print(
        f"sync full pass (steady state): {sync_seconds:.2f} s for {CONVERSATIONS:,} conversations "
        f"({rate:,.0f}/s), {steady.pages} pages, {steady.requests} Chatwoot requests, {trips:,} database round trips "
        f"({trips / steady.pages:.1f} per page: {steady_counts.statements:,} statements, "
        f"{steady_counts.transactions:,} transactions); limit (bare fetch of the same pages): {bare_seconds:.2f} s; "
        f"cold backfill with message catch-up: {cold_seconds:.2f} s, {cold.requests:,} requests, "
        f"{cold.messages_inserted:,} messages, {cold_trips:,} round trips"
    )
    return [
        Result.compared("sync: full pass of 10k conversations (wall)", sync_seconds, "s", bare_seconds, "<= 1.3"),
        Result("sync: full pass throughput", rate, "conversations/s"),
        Result("sync: full pass database round trips", trips, "round trips"),
        Result("sync: full pass round trips per page of 25", trips / steady.pages, "round trips"),
        Result("sync: cold backfill with message catch-up (wall)", cold_seconds, "s"),
        Result("sync: cold backfill throughput", CONVERSATIONS / cold_seconds, "conversations/s"),
    ]


def _serve_demo(pipe: Connection, conversations: int) -> None:
    """In the simulator's own process: seed a law office with ``conversations``, serve it, report where."""
    with Simulator(seed=3, delivery="sync") as sim, serve(simulator=sim) as server:
        demo = seed_demo(sim, conversations=conversations, seed=3)
        pipe.send((server.url, demo.account_id, demo.api_token))
        pipe.recv()  # serve until the benchmark says it is done


@contextmanager
def _simulator_process(conversations: int) -> Iterator[tuple[str, int, str]]:
    """The simulator served from a process of its own, as Chatwoot is a server of its own: sharing this process
    would make the sync and the simulator take turns on one interpreter lock, which no deployment does."""
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    process = context.Process(target=_serve_demo, args=(theirs, conversations), name="chatwoot-simulator")
    process.start()
    theirs.close()  # ours alone now: the pipe reports the end if the simulator process dies
    try:
        deadline = time.monotonic() + SIMULATOR_START_SECONDS
        while not ours.poll(1):
            if not process.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the simulator process did not start")
        url, account_id, token = ours.recv()
        yield url, account_id, token
    finally:
        with contextlib.suppress(BrokenPipeError, OSError):
            ours.send("stop")
        process.join(10)
        if process.is_alive():
            process.terminate()
            process.join(5)


def _connect(database: Database, url: str, account_id: int, token: str) -> int:
    with UnitOfWork(database) as uow:
        return uow.integrations.insert(
            {
                "tenant": "bench",
                "name": "Bench",
                "base_url": url,
                "account_id": account_id,
                "credentials": {"api_token": token, "webhook_secret": WEBHOOK_SECRET},
            }
        ).id


def _timed_pass(service: SyncService) -> tuple[float, IntegrationSyncReport]:
    start = time.perf_counter()
    report = service.run(SyncRequest(mode="full"))
    return time.perf_counter() - start, report.integrations[0]


def _check(item: IntegrationSyncReport, conversations: int) -> None:
    if item.status != "ok" or not item.pass_completed or item.conversations_seen != conversations:
        raise RuntimeError(f"the sync did not complete its pass: {item.model_dump_json()}")


def _bare_fetch(http: httpx.Client, base_url: str, account_id: int, token: str, pages: int) -> float:
    """The same requests the full pass makes for its pages, answers read and thrown away."""
    url = f"{base_url}/api/v1/accounts/{account_id}/conversations"
    headers = {"api_access_token": token, "Accept": "application/json"}
    start = time.perf_counter()
    for page in range(1, pages + 1):
        response = http.get(url, params={"status": "all", "page": page, "sort_by": "created_at_asc"}, headers=headers)
        response.raise_for_status()
        response.read()
    return time.perf_counter() - start


class _CountingCursor(psycopg.Cursor[Any]):
    counts: _Counts

    def execute(self, *args: Any, **kwargs: Any) -> Any:
        self.counts.statements += 1
        return super().execute(*args, **kwargs)


@contextmanager
def _counting(database: Database, counts: _Counts) -> Iterator[None]:
    """Count statements on this thread's connection and transactions opened through ``database``."""
    conn = database.connection()
    cursor_type = type("CountingCursor", (_CountingCursor,), {"counts": counts})
    previous_factory = conn.cursor_factory
    original_transaction: Callable[..., Any] = database.transaction

    def transaction(**options: Any) -> Any:
        counts.transactions += 1
        return original_transaction(**options)

    conn.cursor_factory = cursor_type
    database.transaction = transaction  # type: ignore[method-assign]
    try:
        yield
    finally:
        conn.cursor_factory = previous_factory
        del database.transaction
