"""16 assigners at once: no agent ever above capacity, no conversation assigned twice, every assignable one
assigned. The capacity check is a trigger that counts rows at each assignment, not the counter."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest

from chatwoot_integration.db import Database
from chatwoot_simulator import Simulator, serve
from tests.assignment_support import open_office

THREADS = 16
CONVERSATIONS = 400
AGENTS = 20
CAPACITY = 10

_WATCH = """
CREATE TABLE capacity_watch (agent_id integer, load integer, capacity integer, at timestamptz DEFAULT clock_timestamp());
CREATE FUNCTION capacity_watch() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO capacity_watch (agent_id, load, capacity)
    SELECT NEW.assignee_id, count(*), %s
    FROM conversas_chatwoot c
    WHERE c.integration_id = NEW.integration_id AND c.assignee_id = NEW.assignee_id AND c.deleted_at IS NULL
      AND c.status IN ('open', 'pending');
    RETURN NULL;
END $$;
CREATE TRIGGER capacity_watch AFTER UPDATE OF assignee_id ON conversas_chatwoot
    FOR EACH ROW WHEN (NEW.assignee_id IS NOT NULL) EXECUTE FUNCTION capacity_watch();
"""


@pytest.fixture
def watched(db: Database) -> Iterator[Database]:
    with db.transaction() as conn:
        conn.execute(_WATCH.replace("%s", str(CAPACITY)).encode())
    yield db
    with db.transaction() as conn:
        conn.execute(
            b"DROP TRIGGER capacity_watch ON conversas_chatwoot; DROP FUNCTION capacity_watch();"
            b" DROP TABLE capacity_watch;"
        )


def test_sixteen_concurrent_assigners_respect_capacity(watched: Database) -> None:
    db = watched
    sim = Simulator(seed=3, activity_messages=False)
    with serve(simulator=sim) as server:
        office = open_office(db, sim, server.url, agents=AGENTS, default_capacity=CAPACITY)
        ids = office.waiting_conversations(CONVERSATIONS)
        assign_calls_before = sim.requests.by_route().get(
            "POST /api/v1/accounts/{account_id}/conversations/{conversation_id}/assignments", 0
        )

        errors: list[BaseException] = []
        queues = [ids[n::THREADS] for n in range(THREADS)]
        start = threading.Barrier(THREADS)

        def worker(mine: list[int]) -> None:
            try:
                start.wait()
                for cid in mine:
                    office.service.assign_best(office.integration_id, cid, trigger="created")
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(q,)) for q in queues]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=240)
        assert not errors, errors

        conn = db.connection()
        worst = conn.execute("SELECT max(load) AS worst, count(*) AS checks FROM capacity_watch").fetchone()
        assert worst is not None
        assert worst["checks"] == AGENTS * CAPACITY
        assert worst["worst"] <= CAPACITY
        assigned = conn.execute(
            "SELECT assignee_id, count(*) AS n FROM conversas_chatwoot WHERE assignee_id IS NOT NULL GROUP BY 1"
        ).fetchall()
        assert len(assigned) == AGENTS
        assert all(row["n"] == CAPACITY for row in assigned)  # all capacity used: every assignable one assigned
        twice = conn.execute(
            "SELECT conversation_id FROM eventos_chatwoot WHERE type = 'conversation.assigned'"
            " GROUP BY conversation_id HAVING count(*) > 1"
        ).fetchall()
        assert twice == []
        calls = (
            sim.requests.by_route().get(
                "POST /api/v1/accounts/{account_id}/conversations/{conversation_id}/assignments", 0
            )
            - assign_calls_before
        )
        assert calls == AGENTS * CAPACITY
        counters = conn.execute(
            "SELECT agent_id, active_conversations FROM usuarios_chatwoot WHERE agent_id = ANY(%s)", (office.agents,)
        ).fetchall()
        assert all(row["active_conversations"] == CAPACITY for row in counters)
        for cid in ids:
            truth = sim.get_conversation(office.account_id, cid).assignee_id
            assert truth == office.assignee(cid)
    sim.close()
