"""Conversation routes: list, read, change (Chatwoot first), delete, re-sync, assign."""

from __future__ import annotations

import pytest

from chatwoot_integration.db import Database
from chatwoot_integration.services.mirror import mirror_conversations
from chatwoot_integration.uow import UnitOfWork
from tests.api_support import ApiClient, World, iter_pages, mirror_account
from tests.factories import at, conversation


def path(world: World, conversation_id: int | None = None, suffix: str = "") -> str:
    base = f"/integrations/{world.integration_id}/conversations"
    return base + (f"/{conversation_id}" if conversation_id is not None else "") + suffix


def stored(db: Database, world: World, conversation_id: int) -> dict:  # type: ignore[type-arg]
    row = (
        db.connection()
        .execute(
            "SELECT * FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s",
            (world.integration_id, conversation_id),
        )
        .fetchone()
    )
    assert row is not None
    return row


def test_list_returns_the_accounts_conversations_newest_activity_first(client: ApiClient, world: World) -> None:
    response = client.get(path(world))
    assert response.status == 200
    body = response.json()
    assert sorted(item["conversation_id"] for item in body["items"]) == sorted(world.conversations)
    activity = [item["last_activity_at"] for item in body["items"]]
    assert activity == sorted(activity, reverse=True)
    assert body["next_cursor"] is None
    first = body["items"][0]
    for field in (
        "integration_id",
        "conversation_id",
        "inbox_id",
        "contact_id",
        "status",
        "priority",
        "assignee_id",
        "team_id",
        "labels",
        "unread_count",
        "messages_count",
        "last_activity_at",
        "chatwoot_updated_at",
        "sync_status",
        "sync_error",
        "parte_id",
        "created_at",
        "updated_at",
    ):
        assert field in first


def test_list_filters_and_pages(client: ApiClient, world: World) -> None:
    labelled = client.get(path(world), query={"label": "area:civel"}).json()["items"]
    assert {i["conversation_id"] for i in labelled} == {c for n, c in enumerate(world.conversations) if n % 2}
    pages = list(iter_pages(client, path(world), {"limit": 2}))
    seen = [i["conversation_id"] for page in pages for i in page["items"]]
    assert len(pages) == 3
    assert sorted(seen) == sorted(world.conversations)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": 0}, "query.limit"),
        ({"limit": 101}, "query.limit"),
        ({"limit": "many"}, "query.limit"),
        ({"status": "closed"}, "query.status"),
        ({"assignee_id": "x"}, "query.assignee_id"),
        ({"updated_since": "yesterday"}, "query.updated_since"),
        ({"sort": "priority"}, "query.sort"),
        ({"cursor": "not-a-cursor"}, "cursor"),
    ],
)
def test_list_rejects_bad_filters_naming_the_field(client: ApiClient, world: World, query: dict, field: str) -> None:  # type: ignore[type-arg]
    response = client.get(path(world), query=query)
    assert response.status == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert any(d["field"] == field for d in error["details"])


@pytest.mark.parametrize(
    "hostile",
    [
        "' OR '1'='1",
        "1; DROP TABLE conversas_chatwoot; --",
        "\\x00",
        "area:civel' --",
        "%' UNION SELECT * FROM integracoes_chatwoot --",
    ],
)
def test_filters_never_reach_sql_except_as_parameters(
    client: ApiClient, world: World, db: Database, hostile: str
) -> None:
    for name in ("label", "parte_id"):
        response = client.get(path(world), query={name: hostile})
        assert response.status in (200, 400)
        if response.status == 200:
            assert response.json()["items"] == []
    for name in (
        "status",
        "priority",
        "sync_status",
        "assignee_id",
        "inbox_id",
        "team_id",
        "updated_since",
        "sort",
        "cursor",
    ):
        assert client.get(path(world), query={name: hostile}).status == 400
    assert db.connection().execute("SELECT count(*) AS n FROM conversas_chatwoot").fetchone() == {
        "n": len(world.conversations)
    }


def test_read_one_with_contact_and_assignee(client: ApiClient, world: World, db: Database) -> None:
    conversation_id = world.conversations[0]
    world.sim.assign(world.account_id, conversation_id, world.agents["ana"])
    mirror_account(db, world.sim, world.account_id, world.integration_id)
    response = client.get(path(world, conversation_id))
    assert response.status == 200
    body = response.json()
    assert body["conversation_id"] == conversation_id
    assert body["assignee"] == {
        "agent_id": world.agents["ana"],
        "name": "Ana Lima",
        "email": "ana@silva.example",
        "availability": "online",
    }
    assert body["contact"]["name"] == "Cliente 0"
    assert body["party"] is None


def test_read_unknown_conversation_is_404(client: ApiClient, world: World) -> None:
    response = client.get(path(world, 99999))
    assert response.status == 404
    assert response.json()["error"]["code"] == "not_found"


def test_patch_writes_chatwoot_first_then_the_mirror(client: ApiClient, world: World, db: Database) -> None:
    conversation_id = world.conversations[1]
    response = client.patch(
        path(world, conversation_id),
        json_body={
            "status": "pending",
            "priority": "high",
            "labels": ["area:trabalhista", "urgente"],
            "assignee_id": world.agents["bruno"],
        },
    )
    assert response.status == 200, response.body
    body = response.json()
    assert (body["status"], body["priority"], body["assignee_id"]) == ("pending", "high", world.agents["bruno"])
    assert sorted(body["labels"]) == ["area:trabalhista", "urgente"]
    truth = world.sim.get_conversation(world.account_id, conversation_id)
    assert (truth.status, truth.priority, truth.assignee_id) == ("pending", "high", world.agents["bruno"])
    row = stored(db, world, conversation_id)
    assert (row["status"], row["priority"], row["assignee_id"], row["sync_status"]) == (
        "pending",
        "high",
        world.agents["bruno"],
        "synced",
    )
    events = (
        db.connection()
        .execute(
            "SELECT type, actor FROM eventos_chatwoot WHERE conversation_id = %s AND actor = 'admin-1'",
            (conversation_id,),
        )
        .fetchall()
    )
    assert {"type": "conversation.updated", "actor": "admin-1"} in events


def test_patch_unknown_agent_is_422_and_nothing_changes(client: ApiClient, world: World, db: Database) -> None:
    conversation_id = world.conversations[0]
    before = stored(db, world, conversation_id)
    calls_before = world.sim.requests.total()
    response = client.patch(path(world, conversation_id), json_body={"assignee_id": 4242})
    assert response.status == 422
    assert response.json()["error"]["details"] == [{"field": "assignee_id"}]
    assert stored(db, world, conversation_id) == before
    assert world.sim.requests.total() == calls_before  # Chatwoot was never asked (no silent unassign)


def test_patch_when_chatwoot_fails_is_502_and_the_mirror_is_unchanged(
    client: ApiClient, world: World, db: Database
) -> None:
    conversation_id = world.conversations[0]
    before = stored(db, world, conversation_id)
    world.sim.faults.fail_next(20, status=500)
    response = client.patch(path(world, conversation_id), json_body={"status": "resolved"})
    assert response.status == 502
    error = response.json()["error"]
    assert error["code"] == "chatwoot_error"
    assert "Chatwoot did not accept the change" in error["message"]
    assert stored(db, world, conversation_id) == before


def test_patch_validation_errors(client: ApiClient, world: World) -> None:
    cid = world.conversations[0]
    cases = [
        ({"status": "closed"}, 422, "body.status"),
        ({"labels": ["has space"]}, 422, "body.labels.0"),
        ({"unknown": 1}, 422, "body.unknown"),
        ({"assignee_id": "ana"}, 422, "body.assignee_id"),
    ]
    for payload, status, field in cases:
        response = client.patch(path(world, cid), json_body=payload)
        assert response.status == status, (payload, response.body)
        assert any(d["field"] == field for d in response.json()["error"]["details"]), response.body
    malformed = client.patch(path(world, cid), body=b"{not json", headers=[("Content-Type", "application/json")])
    assert malformed.status == 400
    assert malformed.json()["error"]["code"] == "validation_error"
    assert "Traceback" not in malformed.body.decode()


def test_patch_party_is_local_and_later_conversations_of_the_contact_inherit_it(
    client: ApiClient, world: World, db: Database
) -> None:
    cid = world.conversations[2]
    calls_before = world.sim.requests.total()
    response = client.patch(path(world, cid), json_body={"parte_id": "processo-2026-001"})
    assert response.status == 200
    assert response.json()["parte_id"] == "processo-2026-001"
    assert response.json()["party"]["parte_id"] == "processo-2026-001"
    assert world.sim.requests.total() == calls_before
    contact_id = stored(db, world, cid)["contact_id"]
    new = world.sim.create_conversation(world.account_id, world.inbox_id, contact_id, message="De novo")
    mirror_account(db, world.sim, world.account_id, world.integration_id)
    assert stored(db, world, new.display_id)["parte_id"] == "processo-2026-001"
    filtered = client.get(path(world), query={"parte_id": "processo-2026-001"}).json()["items"]
    assert {i["conversation_id"] for i in filtered} == {cid, new.display_id}


def test_delete_hides_from_the_mirror_but_not_from_chatwoot(client: ApiClient, world: World, db: Database) -> None:
    cid = world.conversations[3]
    response = client.delete(path(world, cid))
    assert response.status == 204
    assert response.body == b""
    assert client.get(path(world, cid)).status == 404
    assert cid not in [i["conversation_id"] for i in client.get(path(world)).json()["items"]]
    assert world.sim.get_conversation(world.account_id, cid).display_id == cid
    assert stored(db, world, cid)["deleted_by"] == "api"
    assert client.delete(path(world, cid)).status == 404
    mirror_account(db, world.sim, world.account_id, world.integration_id)  # a sync does not bring it back
    assert client.get(path(world, cid)).status == 404


def test_resync_reads_chatwoot_now(client: ApiClient, world: World, db: Database) -> None:
    cid = world.conversations[0]
    world.sim.set_priority(world.account_id, cid, "urgent")
    response = client.post(path(world, cid, "/sync"))
    assert response.status == 200
    assert response.json()["priority"] == "urgent"
    assert stored(db, world, cid)["priority"] == "urgent"


def test_resync_of_a_conversation_deleted_in_chatwoot_is_404_and_removes_it(
    client: ApiClient, world: World, db: Database
) -> None:
    cid = world.conversations[4]
    world.sim.delete_conversation(world.account_id, cid)
    response = client.post(path(world, cid, "/sync"))
    assert response.status == 404
    assert stored(db, world, cid)["deleted_by"] == "sync"


def test_manual_assignment_of_a_named_agent(client: ApiClient, world: World, db: Database) -> None:
    cid = world.conversations[0]
    response = client.post(path(world, cid, "/assignment"), json_body={"agent_id": world.agents["carla"]})
    assert response.status == 200, response.body
    assert response.json()["assignee"]["agent_id"] == world.agents["carla"]
    assert world.sim.get_conversation(world.account_id, cid).assignee_id == world.agents["carla"]
    assert stored(db, world, cid)["assignee_id"] == world.agents["carla"]


def test_best_agent_assignment_and_409_when_nobody_is_eligible(client: ApiClient, world: World, db: Database) -> None:
    cid = world.conversations[0]
    response = client.post(path(world, cid, "/assignment"), json_body={})
    assert response.status == 200, response.body
    assert response.json()["assignee"]["agent_id"] == world.agents["ana"]  # the only online member
    with db.transaction() as conn:
        conn.execute("UPDATE usuarios_chatwoot SET availability = 'offline'")
    other = world.conversations[1]
    refused = client.post(path(world, other, "/assignment"), json_body={})
    assert refused.status == 409
    assert "no eligible agent" in refused.json()["error"]["message"]


def test_a_nul_character_anywhere_is_400_and_nothing_is_stored(client: ApiClient, world: World, db: Database) -> None:
    cid = world.conversations[0]
    before = stored(db, world, cid)
    for response in (
        client.get(path(world), query={"label": "a\x00b"}),
        client.patch(path(world, cid), json_body={"parte_id": "p\x00"}),
        client.post(
            "/integrations",
            json_body={"name": "x\x00", "base_url": "https://a.example", "account_id": 9, "api_token": "t"},
        ),
    ):
        assert response.status == 400
        assert response.json()["error"]["details"] == [{"field": "request", "problem": "NUL character"}]
    assert stored(db, world, cid) == before


def test_paging_has_no_gaps_or_repeats_while_conversations_are_inserted_and_updated(
    client: ApiClient, world: World, db: Database
) -> None:
    with UnitOfWork(db) as uow:
        mirror_conversations(
            uow,
            [
                conversation(integration_id=world.integration_id, conversation_id=100 + n, last_activity_at=at(n % 37))
                for n in range(120)
            ],
            actor="sync",
            mark_synced=True,
        )
    seen: list[int] = []
    moved: set[int] = set()
    cursor = None
    step = 0
    while True:
        query = {"limit": 10, **({"cursor": cursor} if cursor else {})}
        page = client.get(path(world), query=query).json()
        seen.extend(item["conversation_id"] for item in page["items"])
        with UnitOfWork(db) as uow:
            # New activity moves one conversation to the front, and a brand-new conversation arrives.
            target = 100 + (step * 13) % 120
            moved.add(target)
            mirror_conversations(
                uow,
                [
                    conversation(
                        integration_id=world.integration_id,
                        conversation_id=target,
                        last_activity_at=at(10_000 + step),
                        chatwoot_updated_at=at(10_000 + step),
                    ),
                    conversation(
                        integration_id=world.integration_id,
                        conversation_id=1000 + step,
                        last_activity_at=at(20_000 + step),
                        chatwoot_updated_at=at(20_000 + step),
                    ),
                ],
                actor="chatwoot",
                mark_synced=False,
            )
        step += 1
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)), "a conversation was listed twice"
    untouched = {100 + n for n in range(120)} - moved
    assert untouched <= set(seen), "a conversation that did not change was skipped"


def test_an_assignment_chatwoot_answers_with_nobody_is_a_409_and_the_mirror_holds_chatwoots_state(
    client: ApiClient, world: World, db: Database
) -> None:
    base = f"/integrations/{world.integration_id}/conversations/{world.conversations[0]}"
    ana, bruno = world.agents["ana"], world.agents["bruno"]
    assert client.patch(base, json_body={"assignee_id": ana}).status == 200  # the client now knows the agents
    with world.sim.locked() as store:
        store.agents[bruno].account_id = 999  # Bruno leaves the account in Chatwoot after that

    response = client.patch(base, json_body={"assignee_id": bruno, "priority": "high"})

    assert response.status == 409, response.body
    assert response.json()["error"]["details"] == [{"field": "assignee_id", "requested": bruno, "chatwoot": None}]
    assert world.sim.get_conversation(world.account_id, world.conversations[0]).assignee_id is None
    row = stored(db, world, world.conversations[0])
    assert (row["assignee_id"], row["priority"]) == (None, "high")  # what Chatwoot holds, not what was asked
