"""A change to a conversation is one unit of work after Chatwoot accepted it: all of its rows or none of them.

Given a mirrored conversation, when the platform PATCHes its status, assignee and labels:
- Chatwoot accepts: the conversation row, the agent's assignment stamp and every change event carry one
  transaction id;
- Chatwoot refuses: nothing at all is written;
- Chatwoot accepts but the mirror cannot be written: the answer says so, nothing half-written stays, and the next
  sync brings the mirror up to Chatwoot's state.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chatwoot_integration.db import Database
from tests.api_support import ApiClient, World

PATCH = {"status": "pending", "assignee_id": None, "labels": ["area:trabalhista", "urgente"]}


def path(world: World, conversation_id: int) -> str:
    return f"/integrations/{world.integration_id}/conversations/{conversation_id}"


def snapshot(db: Database, world: World, conversation_id: int) -> dict[str, Any]:
    """Every row the PATCH could write, with the transaction id (``xmin``) that last wrote it."""
    conn = db.connection()
    return {
        "conversation": conn.execute(
            "SELECT xmin::text AS tx, * FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s",
            (world.integration_id, conversation_id),
        ).fetchone(),
        "agents": conn.execute(
            "SELECT xmin::text AS tx, * FROM usuarios_chatwoot WHERE integration_id = %s ORDER BY agent_id",
            (world.integration_id,),
        ).fetchall(),
        "events": conn.execute("SELECT xmin::text AS tx, * FROM eventos_chatwoot ORDER BY id").fetchall(),
    }


@pytest.fixture
def ana_assigned(client: ApiClient, world: World) -> int:
    """The world's first conversation, assigned to Ana (so the PATCH moves the assignee too)."""
    conversation_id = world.conversations[0]
    assigned = client.patch(path(world, conversation_id), json_body={"assignee_id": world.agents["ana"]})
    assert assigned.status == 200, assigned.body
    return conversation_id


def test_rows_and_events_of_an_accepted_change_carry_one_transaction_id(
    client: ApiClient, world: World, db: Database
) -> None:
    conversation_id = world.conversations[1]
    before = snapshot(db, world, conversation_id)
    patch = {**PATCH, "assignee_id": world.agents["bruno"]}

    response = client.patch(path(world, conversation_id), json_body=patch)

    assert response.status == 200, response.body
    body = response.json()
    assert (body["status"], body["assignee_id"], body["labels"]) == (
        "pending",
        world.agents["bruno"],
        ["area:trabalhista", "urgente"],
    )
    after = snapshot(db, world, conversation_id)
    new_events = [e for e in after["events"] if e["id"] not in {b["id"] for b in before["events"]}]
    assert [e["type"] for e in new_events] == ["conversation.updated"]
    changes = new_events[0]["data"]["changes"]
    assert set(changes) == {"status", "assignee_id", "labels"}
    assert changes["assignee_id"] == {"from": None, "to": world.agents["bruno"]}
    bruno = next(a for a in after["agents"] if a["agent_id"] == world.agents["bruno"])
    assert bruno["last_assigned_at"] is not None
    transaction = after["conversation"]["tx"]
    assert transaction != before["conversation"]["tx"]
    assert {e["tx"] for e in new_events} == {transaction}
    assert {str(e["tx_id"]) for e in new_events} == {transaction}
    assert bruno["tx"] == transaction


def test_a_change_chatwoot_refuses_writes_nothing(
    client: ApiClient, world: World, db: Database, ana_assigned: int
) -> None:
    before = snapshot(db, world, ana_assigned)
    world.sim.faults.fail_next(20, status=500)

    response = client.patch(path(world, ana_assigned), json_body=PATCH)

    assert response.status == 502
    assert response.json()["error"]["code"] == "chatwoot_error"
    assert snapshot(db, world, ana_assigned) == before


@pytest.fixture
def mirror_refuses_writes(db: Database) -> Iterator[None]:
    """The database refuses every write to the conversation mirror (as an outage or a full disk would)."""
    conn = db.connection()
    conn.execute(
        "CREATE FUNCTION refuse_mirror_write() RETURNS trigger LANGUAGE plpgsql AS"
        " $$ BEGIN RAISE EXCEPTION 'the mirror is unavailable'; END $$"
    )
    conn.execute(
        "CREATE TRIGGER refuse_mirror_write BEFORE UPDATE ON conversas_chatwoot"
        " FOR EACH ROW EXECUTE FUNCTION refuse_mirror_write()"
    )
    try:
        yield
    finally:
        conn.execute("DROP TRIGGER IF EXISTS refuse_mirror_write ON conversas_chatwoot")
        conn.execute("DROP FUNCTION IF EXISTS refuse_mirror_write()")


def lift_refusal(db: Database) -> None:
    db.connection().execute("DROP TRIGGER refuse_mirror_write ON conversas_chatwoot")


def test_a_change_chatwoot_accepted_but_the_mirror_could_not_record_says_so_and_the_next_sync_repairs_it(
    client: ApiClient, world: World, db: Database, ana_assigned: int, mirror_refuses_writes: None
) -> None:
    before = snapshot(db, world, ana_assigned)

    response = client.patch(path(world, ana_assigned), json_body=PATCH)

    assert response.status == 503
    error = response.json()["error"]
    assert error["code"] == "mirror_pending"
    assert "Chatwoot accepted the change" in error["message"] and "next sync" in error["message"]
    assert error["details"] == {"chatwoot": "accepted", "fields": ["assignee_id", "labels", "status"]}
    assert "unavailable" not in response.body.decode()  # the database's own message stays in the logs
    assert snapshot(db, world, ana_assigned) == before
    in_chatwoot = world.sim.rest_conversation(world.account_id, ana_assigned)
    assert (in_chatwoot["status"], in_chatwoot["meta"].get("assignee")) == ("pending", None)

    lift_refusal(db)
    synced = client.post(f"/integrations/{world.integration_id}/sync")

    assert synced.status == 200, synced.body
    assert synced.json()["status"] == "ok"
    row = snapshot(db, world, ana_assigned)["conversation"]
    assert (row["status"], row["assignee_id"], row["labels"]) == ("pending", None, ["area:trabalhista", "urgente"])
