"""The REST API over HTTP: Chatwoot's routes, parameters, paging, shapes and authentication."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from chatwoot_simulator import ManualClock, Simulator, SimulatorServer

from .support import START, World

CONVERSATIONS_ROUTE = "GET /api/v1/accounts/{account_id}/conversations"
ClientFactory = Callable[[str], httpx.Client]


def _open_many(sim: Simulator, world: World, count: int) -> None:
    for _ in range(count):
        sim.create_conversation(world.account.id, world.site.id, world.contact.id)


def _ids(response: httpx.Response) -> list[int]:
    return [conversation["id"] for conversation in response.json()["data"]["payload"]]


# ---------------------------------------------------------------- listing conversations


def test_conversations_are_paged_25_at_a_time(sim: Simulator, world: World, client: httpx.Client) -> None:
    _open_many(sim, world, 30)

    first = client.get("/conversations")
    second = client.get("/conversations", params={"page": 2})
    beyond = client.get("/conversations", params={"page": 3})

    assert first.status_code == second.status_code == beyond.status_code == 200
    assert len(_ids(first)) == 25
    assert len(_ids(second)) == 5
    assert _ids(beyond) == []
    assert set(_ids(first)) | set(_ids(second)) == set(range(1, 31))
    assert first.json()["data"]["meta"] == {
        "mine_count": 0,
        "assigned_count": 0,
        "unassigned_count": 30,
        "all_count": 30,
    }


def test_page_size_is_configurable(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.page_size = 4
    _open_many(sim, world, 6)

    assert len(_ids(client.get("/conversations"))) == 4
    assert len(_ids(client.get("/conversations", params={"page": 2}))) == 2


def test_the_default_order_is_latest_activity_first(sim: Simulator, world: World, client: httpx.Client) -> None:
    _open_many(sim, world, 3)
    sim.add_message(world.account.id, 1, "mais recente")

    assert _ids(client.get("/conversations")) == [1, 3, 2]
    assert _ids(client.get("/conversations", params={"sort_by": "created_at_asc"})) == [1, 2, 3]
    assert _ids(client.get("/conversations", params={"sort_by": "created_at_desc"})) == [3, 2, 1]


def test_status_filter_defaults_to_open(sim: Simulator, world: World, client: httpx.Client) -> None:
    _open_many(sim, world, 4)
    sim.set_status(world.account.id, 2, "resolved")
    sim.set_status(world.account.id, 3, "pending")
    sim.set_status(world.account.id, 4, "snoozed")

    assert _ids(client.get("/conversations")) == [1]
    assert _ids(client.get("/conversations", params={"status": "resolved"})) == [2]
    assert _ids(client.get("/conversations", params={"status": "pending"})) == [3]
    assert _ids(client.get("/conversations", params={"status": "snoozed"})) == [4]
    assert sorted(_ids(client.get("/conversations", params={"status": "all"}))) == [1, 2, 3, 4]


def test_assignee_type_filters_after_counting(sim: Simulator, world: World, client_as: ClientFactory) -> None:
    _open_many(sim, world, 3)
    sim.assign(world.account.id, 1, world.ana.id)
    sim.assign(world.account.id, 2, world.bruno.id)
    as_ana = client_as(world.ana.access_token)

    mine = as_ana.get("/conversations", params={"assignee_type": "me"})
    unassigned = as_ana.get("/conversations", params={"assignee_type": "unassigned"})
    assigned = as_ana.get("/conversations", params={"assignee_type": "assigned"})

    # Ana is an agent: she sees the site inbox only, where all three conversations are.
    assert _ids(mine) == [1]
    assert _ids(unassigned) == [3]
    assert sorted(_ids(assigned)) == [1, 2]
    assert mine.json()["data"]["meta"] == {
        "mine_count": 1,
        "assigned_count": 2,
        "unassigned_count": 1,
        "all_count": 3,
    }


def test_inbox_team_and_label_filters(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, labels=["area:civel"])
    sim.create_conversation(world.account.id, world.whatsapp.id, world.contact.id, team_id=world.team.id)
    sim.create_conversation(world.account.id, world.whatsapp.id, world.contact.id, labels=["area:familia"])

    assert sorted(_ids(client.get("/conversations", params={"inbox_id": world.whatsapp.id}))) == [2, 3]
    assert _ids(client.get("/conversations", params={"team_id": world.team.id})) == [2]
    labels = client.get("/conversations", params=[("labels[]", "area:civel"), ("labels[]", "area:familia")])
    assert sorted(_ids(labels)) == [1, 3]


def test_updated_within_returns_every_match_unpaged(
    sim: Simulator, world: World, client: httpx.Client, clock: ManualClock
) -> None:
    _open_many(sim, world, 5)
    clock.advance(3600)
    _open_many(sim, world, 30)
    sim.add_message(world.account.id, 2, "voltou a falar")

    recent = client.get("/conversations", params={"updated_within": 600, "status": "all"})

    ids = _ids(recent)
    assert len(ids) == 31
    assert set(ids) == {2, *range(6, 36)}


def test_agent_tokens_only_see_conversations_of_their_inboxes(
    sim: Simulator, world: World, client_as: ClientFactory
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    sim.create_conversation(world.account.id, world.whatsapp.id, world.contact.id)
    as_bruno = client_as(world.bruno.access_token)

    listed = as_bruno.get("/conversations")
    hidden = as_bruno.get("/conversations/1")

    assert _ids(listed) == [2]
    assert hidden.status_code == 401


# ---------------------------------------------------------------- one conversation


def test_show_returns_the_rest_shape(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(
        world.account.id,
        world.site.id,
        world.contact.id,
        message="Olá",
        assignee_id=world.ana.id,
        team_id=world.team.id,
    )
    sim.add_message(world.account.id, 1, "nota interna", message_type="outgoing", private=True)

    response = client.get("/conversations/1")

    body = response.json()
    assert response.status_code == 200
    assert body["id"] == 1
    assert body["account_id"] == world.account.id
    assert body["meta"]["assignee"]["id"] == world.ana.id
    assert body["meta"]["assignee"]["availability_status"] == "online"
    assert body["meta"]["assignee_type"] == "User"
    assert body["meta"]["team"] == {
        "id": world.team.id,
        "name": "Trabalhista",
        "description": None,
        "allow_auto_assign": False,
        "account_id": world.account.id,
        "is_member": False,
    }
    assert body["meta"]["sender"]["id"] == world.contact.id
    assert body["messages"][0]["content"] == "nota interna"
    assert body["messages"][0]["message_type"] == 1
    assert isinstance(body["updated_at"], float)
    assert isinstance(body["created_at"], int)
    assert body["first_reply_created_at"] == 0
    assert body["waiting_since"] == int(body["created_at"])


def test_an_unassigned_conversation_has_no_assignee_or_team_keys(
    sim: Simulator, world: World, client: httpx.Client
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)

    meta = client.get("/conversations/1").json()["meta"]

    assert "assignee" not in meta
    assert "assignee_type" not in meta
    assert "team" not in meta


def test_unknown_conversation_is_404_json(world: World, client: httpx.Client) -> None:
    response = client.get("/conversations/77")

    assert response.status_code == 404
    assert response.json() == {"error": "Resource could not be found"}


def test_toggle_status_sets_and_reports_the_status(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)

    response = client.post("/conversations/1/toggle_status", json={"status": "snoozed", "snoozed_until": START + 60})

    assert response.status_code == 200
    assert response.json() == {
        "meta": {},
        "payload": {
            "success": True,
            "conversation_id": 1,
            "current_status": "snoozed",
            "snoozed_until": "2026-06-17T09:54:20.000Z",
        },
    }
    assert sim.get_conversation(world.account.id, 1).snoozed_until == START + 60


def test_toggle_status_without_status_flips_open_and_resolved(
    sim: Simulator, world: World, client: httpx.Client
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)

    first = client.post("/conversations/1/toggle_status", json={})
    second = client.post("/conversations/1/toggle_status", json={})

    assert first.json()["payload"]["current_status"] == "resolved"
    assert second.json()["payload"]["current_status"] == "open"


def test_an_agent_token_that_opens_a_conversation_takes_it(
    sim: Simulator, world: World, client_as: ClientFactory
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    sim.set_status(world.account.id, 1, "resolved")

    response = client_as(world.ana.access_token).post("/conversations/1/toggle_status", json={"status": "open"})

    assert response.status_code == 200
    assert sim.get_conversation(world.account.id, 1).assignee_id == world.ana.id


def test_toggle_priority_answers_an_empty_200(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)

    set_high = client.post("/conversations/1/toggle_priority", json={"priority": "high"})
    assert (set_high.status_code, set_high.content) == (200, b"")
    assert sim.get_conversation(world.account.id, 1).priority == "high"

    client.post("/conversations/1/toggle_priority", json={"priority": None})
    assert sim.get_conversation(world.account.id, 1).priority is None

    invalid = client.post("/conversations/1/toggle_priority", json={"priority": "critical"})
    assert invalid.status_code == 422


def test_labels_are_read_and_replaced(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, labels=["area:civel"])

    before = client.get("/conversations/1/labels")
    replaced = client.post("/conversations/1/labels", json={"labels": ["prazo", "area:familia"]})

    assert before.json() == {"payload": ["area:civel"]}
    assert replaced.json() == {"payload": ["prazo", "area:familia"]}
    assert sim.get_conversation(world.account.id, 1).labels == ["prazo", "area:familia"]


def test_assigning_an_agent_returns_the_agent(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)

    response = client.post("/conversations/1/assignments", json={"assignee_id": world.bruno.id})

    assert response.status_code == 200
    assert response.json()["id"] == world.bruno.id
    assert response.json()["availability_status"] == "busy"
    assert sim.get_conversation(world.account.id, 1).assignee_id == world.bruno.id


def test_assigning_an_unknown_agent_silently_unassigns(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, assignee_id=world.ana.id)

    response = client.post("/conversations/1/assignments", json={"assignee_id": 4242})

    assert response.status_code == 200
    assert response.json() is None
    assert sim.get_conversation(world.account.id, 1).assignee_id is None


def test_assigning_a_team_returns_the_team_row(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)

    response = client.post("/conversations/1/assignments", json={"team_id": world.team.id})

    body = response.json()
    assert (body["id"], body["name"], body["account_id"]) == (world.team.id, "Trabalhista", world.account.id)
    assert body["created_at"].endswith("Z")
    assert sim.get_conversation(world.account.id, 1).team_id == world.team.id


# ---------------------------------------------------------------- messages


def test_messages_page_backwards_and_forwards(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    ids = [sim.add_message(world.account.id, 1, f"mensagem {n}").id for n in range(130)]

    latest = client.get("/conversations/1/messages").json()["payload"]
    older = client.get("/conversations/1/messages", params={"before": latest[0]["id"]}).json()["payload"]
    newer = client.get("/conversations/1/messages", params={"after": ids[0]}).json()["payload"]
    between = client.get("/conversations/1/messages", params={"after": ids[10], "before": ids[15]}).json()["payload"]

    assert [m["id"] for m in latest] == ids[-20:]
    assert [m["id"] for m in older] == ids[-40:-20]
    assert [m["id"] for m in newer] == ids[1:101]
    assert [m["id"] for m in between] == ids[10:15]
    assert {m["message_type"] for m in latest} == {0}
    assert isinstance(latest[0]["created_at"], int)


def test_messages_meta_and_internal_filter(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, message="Olá", labels=["prazo"])
    sim.add_message(world.account.id, 1, "nota", message_type="outgoing", private=True)
    sim.assign(world.account.id, 1, world.ana.id)

    everything = client.get("/conversations/1/messages").json()
    public = client.get("/conversations/1/messages", params={"filter_internal_messages": "true"}).json()

    assert [m["message_type"] for m in everything["payload"]] == [0, 1, 2]
    assert [m["content"] for m in public["payload"]] == ["Olá"]
    assert everything["meta"]["labels"] == ["prazo"]
    assert everything["meta"]["contact"]["id"] == world.contact.id
    assert everything["meta"]["assignee"]["id"] == world.ana.id
    assert everything["meta"]["agent_last_seen_at"] is None


# ---------------------------------------------------------------- agents, inboxes, teams, contacts


def test_agents_are_listed_as_an_array(world: World, client: httpx.Client) -> None:
    response = client.get("/agents")

    agents = {agent["id"]: agent for agent in response.json()}
    assert set(agents) == {world.account.admin_id, world.ana.id, world.bruno.id}
    assert agents[world.bruno.id]["availability_status"] == "busy"
    assert agents[world.account.admin_id]["role"] == "administrator"
    assert agents[world.ana.id]["auto_offline"] is False


def test_patching_an_agent_changes_availability_and_role(sim: Simulator, world: World, client: httpx.Client) -> None:
    response = client.patch(f"/agents/{world.ana.id}", json={"availability": "offline", "role": "administrator"})

    assert response.status_code == 200
    assert (response.json()["availability_status"], response.json()["role"]) == ("offline", "administrator")
    stored = sim.get_agent(world.account.id, world.ana.id)
    assert (stored.availability, stored.role) == ("offline", "administrator")


def test_only_administrators_may_patch_agents(world: World, client_as: ClientFactory) -> None:
    as_ana = client_as(world.ana.access_token)

    response = as_ana.patch(f"/agents/{world.bruno.id}", json={"availability": "online"})

    assert response.status_code == 401


def test_inboxes_and_their_members(world: World, client: httpx.Client) -> None:
    inboxes = client.get("/inboxes").json()["payload"]
    members = client.get(f"/inbox_members/{world.whatsapp.id}").json()["payload"]
    missing = client.get("/inbox_members/999")

    assert {(i["name"], i["channel_type"]) for i in inboxes} == {
        ("Chat do Site", "Channel::WebWidget"),
        ("WhatsApp", "Channel::Whatsapp"),
    }
    assert [m["id"] for m in members] == [world.ana.id, world.bruno.id]
    assert missing.status_code == 404


def test_teams_and_team_members_are_arrays(world: World, client: httpx.Client) -> None:
    teams = client.get("/teams").json()
    members = client.get(f"/teams/{world.team.id}/team_members").json()

    assert [t["name"] for t in teams] == ["Trabalhista"]
    assert [m["id"] for m in members] == [world.ana.id]


def test_contact_show_is_wrapped_in_payload(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(world.account.id, world.whatsapp.id, world.contact.id, message="Olá")

    response = client.get(f"/contacts/{world.contact.id}")

    payload = response.json()["payload"]
    assert (payload["id"], payload["email"]) == (world.contact.id, "maria@email.example")
    assert payload["contact_inboxes"] == [
        {
            "source_id": "5511987654321",
            "inbox": {
                "id": world.whatsapp.id,
                "avatar_url": "",
                "channel_id": 1,
                "name": "WhatsApp",
                "channel_type": "Channel::Whatsapp",
                "provider": "whatsapp_cloud",
            },
        }
    ]


# ---------------------------------------------------------------- authentication, routing, counters


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "You need to sign in or sign up before continuing."),
        ({"api_access_token": "not-a-token"}, "Invalid Access Token"),
    ],
)
def test_missing_or_wrong_tokens_get_401_json(
    world: World, server: SimulatorServer, http: httpx.Client, headers: dict[str, str], message: str
) -> None:
    response = http.get(f"{server.url}/api/v1/accounts/{world.account.id}/conversations", headers=headers)

    assert response.status_code == 401
    assert response.json() == {"error": message}


def test_a_token_of_another_account_gets_401(sim: Simulator, world: World, client_as: ClientFactory) -> None:
    other = sim.create_account("Outro")
    assert other.api_token is not None

    response = client_as(other.api_token).get("/agents")

    assert response.status_code == 401
    assert response.json() == {"error": "You are not authorized to access this account"}


def test_unknown_routes_are_404_json(world: World, client: httpx.Client) -> None:
    response = client.get("/webhooks")

    assert response.status_code == 404
    assert response.json() == {"error": "Not Found"}


def test_invalid_json_is_400(sim: Simulator, world: World, client: httpx.Client) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)

    response = client.post(
        "/conversations/1/labels", content=b"{not json", headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert "error" in response.json()


def test_requests_are_counted_per_route_and_status(
    sim: Simulator, world: World, client: httpx.Client, client_as: ClientFactory
) -> None:
    client.get("/conversations")
    client.get("/conversations", params={"page": 2})
    client.get("/agents")
    client.get("/nowhere")
    client_as("wrong").get("/agents")

    assert sim.requests.by_route() == {
        CONVERSATIONS_ROUTE: 2,
        "GET /api/v1/accounts/{account_id}/agents": 2,
        "UNMATCHED": 1,
    }
    assert sim.requests.count("GET /api/v1/accounts/{account_id}/agents", 401) == 1
    assert sim.requests.total() == 5
