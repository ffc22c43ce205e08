"""Agent routes: list with filters, read, change (availability through Chatwoot, the rest local)."""

from __future__ import annotations

from chatwoot_integration.db import Database
from tests.api_support import ApiClient, World


def base(world: World) -> str:
    return f"/integrations/{world.integration_id}/agents"


def test_list_and_filters(client: ApiClient, world: World) -> None:
    everyone = client.get(base(world)).json()["items"]
    names = {a["name"] for a in everyone}
    assert {"Ana Lima", "Bruno Reis", "Carla Dias"} <= names
    for field in (
        "integration_id",
        "agent_id",
        "name",
        "email",
        "role",
        "availability",
        "capacity",
        "active_conversations",
        "skills",
        "last_assigned_at",
    ):
        assert field in everyone[0]
    online = client.get(base(world), query={"availability": "online"}).json()["items"]
    assert [a["agent_id"] for a in online] == [world.agents["ana"]]
    assert client.get(base(world), query={"availability": "away"}).status == 400


def test_skills_and_capacity_are_local_and_filterable(client: ApiClient, world: World, db: Database) -> None:
    ana = world.agents["ana"]
    calls = world.sim.requests.total()
    response = client.patch(f"{base(world)}/{ana}", json_body={"skills": ["Trabalhista", "civel"], "capacity": 0})
    assert response.status == 200
    assert response.json()["skills"] == ["civel", "trabalhista"]
    assert response.json()["capacity"] == 0
    assert world.sim.requests.total() == calls  # nothing of this lives in Chatwoot
    by_skill = client.get(base(world), query={"skill": "trabalhista"}).json()["items"]
    assert [a["agent_id"] for a in by_skill] == [ana]
    full = client.get(base(world), query={"has_capacity": "false"}).json()["items"]
    assert ana in [a["agent_id"] for a in full]
    row = (
        db.connection().execute("SELECT capacity, skills FROM usuarios_chatwoot WHERE agent_id = %s", (ana,)).fetchone()
    )
    assert row == {"capacity": 0, "skills": ["civel", "trabalhista"]}


def test_availability_goes_to_chatwoot_and_is_recorded(client: ApiClient, world: World, db: Database) -> None:
    bruno = world.agents["bruno"]
    response = client.patch(f"{base(world)}/{bruno}", json_body={"availability": "online"})
    assert response.status == 200
    assert world.sim.get_agent(world.account_id, bruno).availability == "online"
    history = (
        db.connection()
        .execute(
            "SELECT previous, current FROM disponibilidade_historico_chatwoot WHERE agent_id = %s ORDER BY id", (bruno,)
        )
        .fetchall()
    )
    assert history[-1] == {"previous": "busy", "current": "online"}
    events = db.connection().execute("SELECT type, data FROM eventos_chatwoot WHERE agent_id = %s", (bruno,)).fetchall()
    assert events[-1]["type"] == "agent.updated"
    assert events[-1]["data"]["changes"]["availability"] == {"from": "busy", "to": "online"}


def test_availability_refused_by_chatwoot_is_502_and_nothing_changes(
    client: ApiClient, world: World, db: Database
) -> None:
    bruno = world.agents["bruno"]
    world.sim.faults.fail_next(20, status=502)
    response = client.patch(f"{base(world)}/{bruno}", json_body={"availability": "online"})
    assert response.status == 502
    assert db.connection().execute(
        "SELECT availability FROM usuarios_chatwoot WHERE agent_id = %s", (bruno,)
    ).fetchone() == {"availability": "busy"}


def test_user_link_is_unique_per_account(client: ApiClient, world: World) -> None:
    assert client.patch(f"{base(world)}/{world.agents['ana']}", json_body={"user_id": "u-1"}).status == 200
    clash = client.patch(f"{base(world)}/{world.agents['bruno']}", json_body={"user_id": "u-1"})
    assert clash.status == 409


def test_unknown_agent_and_bad_bodies(client: ApiClient, world: World) -> None:
    assert client.get(f"{base(world)}/9999").status == 404
    assert client.patch(f"{base(world)}/9999", json_body={"capacity": 3}).status == 404
    bad = client.patch(f"{base(world)}/{world.agents['ana']}", json_body={"capacity": -1})
    assert bad.status == 422
    assert bad.json()["error"]["details"][0]["field"] == "body.capacity"


def test_an_agent_coming_online_picks_up_waiting_conversations(client: ApiClient, world: World, db: Database) -> None:
    policy = {"assignment_policy": {"enabled": True, "default_capacity": 5}}
    assert client.patch(f"/integrations/{world.integration_id}", json_body=policy).status == 200
    with db.transaction() as conn:  # nobody available: the conversations wait
        conn.execute("UPDATE usuarios_chatwoot SET availability = 'offline'")
    bruno = world.agents["bruno"]
    response = client.patch(f"{base(world)}/{bruno}", json_body={"availability": "online"})
    assert response.status == 200
    assigned = (
        db.connection()
        .execute(
            "SELECT conversation_id FROM conversas_chatwoot WHERE assignee_id = %s ORDER BY conversation_id", (bruno,)
        )
        .fetchall()
    )
    # Odd ones carry area:civel: they need the skill, which Bruno lacks, so they keep waiting.
    plain = [cid for n, cid in enumerate(world.conversations) if n % 2 == 0]
    assert [row["conversation_id"] for row in assigned] == plain
    assert all(world.sim.get_conversation(world.account_id, cid).assignee_id == bruno for cid in plain)
    waiting = (
        db.connection()
        .execute("SELECT assignment_error FROM conversas_chatwoot WHERE assignee_id IS NULL ORDER BY conversation_id")
        .fetchall()
    )
    assert [row["assignment_error"] for row in waiting] == ["no eligible agent with skills civel"] * 2
