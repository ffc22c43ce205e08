"""Assignments per second with 16 concurrent workers (pick + lock + Chatwoot call over HTTP + reserve), and in
the same run the limit: single-row updates per second into the agents table with 16 workers."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from chatwoot_integration.db import Database
from chatwoot_simulator import Simulator, serve
from tests.assignment_support import open_office

from .harness import BenchContext, Result

WORKERS = 16
AGENTS = 40
CONVERSATIONS = 2_000
UPDATES_PER_WORKER = 500


def _in_parallel(jobs: list[Callable[[], None]]) -> float:
    barrier = threading.Barrier(len(jobs) + 1)
    errors: list[BaseException] = []

    def run(job: Callable[[], None]) -> None:
        barrier.wait()
        try:
            job()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    barrier.wait()
    started = time.perf_counter()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return time.perf_counter() - started


def _update_rate(database: Database, integration_id: int, agents: list[int]) -> float:
    def job(agent_id: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(UPDATES_PER_WORKER):
                with database.transaction() as conn:
                    conn.execute(
                        "UPDATE usuarios_chatwoot SET last_assigned_at = clock_timestamp()"
                        " WHERE integration_id = %s AND agent_id = %s",
                        (integration_id, agent_id),
                    )

        return run

    elapsed = _in_parallel([job(agents[n % len(agents)]) for n in range(WORKERS)])
    return WORKERS * UPDATES_PER_WORKER / elapsed


def run(ctx: BenchContext) -> list[Result]:
    with ctx.fresh_database("bench_assignment") as database:
        sim = Simulator(seed=9, activity_messages=False)
        with serve(simulator=sim) as server:
            office = open_office(database, sim, server.url, agents=AGENTS, default_capacity=CONVERSATIONS)
            ids = office.waiting_conversations(CONVERSATIONS)
            limit = _update_rate(database, office.integration_id, office.agents)

            def assign(mine: list[int]) -> Callable[[], None]:
                def run_worker() -> None:
                    for cid in mine:
                        outcome = office.service.assign_best(office.integration_id, cid, trigger="created")
                        assert outcome.assigned, outcome.reason

                return run_worker

            elapsed = _in_parallel([assign(ids[n::WORKERS]) for n in range(WORKERS)])
            rate = CONVERSATIONS / elapsed
        sim.close()
    return [
        Result("single-row updates/s, 16 workers (limit)", limit, "updates/s"),
        Result(
            "assignments/s, 16 workers, vs single-row updates/s", rate, "assignments/s", limit=limit, ratio=rate / limit
        ),
    ]
