"""Two firms' Chatwoot servers that look alike: account 1 each, the same conversation, contact and agent ids.

Two of them are connected by one tenant, a third by another. Webhooks, syncs, assignment and the API keep every
byte apart; each integration's change feed carries only its own events, and a tenant's feed carries its own
integrations' events and nothing of the other tenant's.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any

import pytest

from chatwoot_integration.db import Database
from chatwoot_integration.services.integrations import ensure_local_integration
from chatwoot_simulator import Simulator, serve
from chatwoot_simulator.webhook_types import WebhookDelivery
from tests.api_support import ApiClient, make_token
from tests.graph import graph

WEBHOOK_SECRET = "whsec-isolation"


@dataclass
class Firm:
    """One Chatwoot server as the test set it up; ``marker`` is in every name and text it holds."""

    marker: str
    tenant: str
    sim: Simulator
    url: str
    integration_id: int
    conversations: list[int]
    agents: list[int]
    token: str


def build_firm(db: Database, client: ApiClient, stack: ExitStack, marker: str, tenant: str) -> Firm:
    sim = stack.enter_context(_closing(Simulator(seed=11)))  # same seed: the same ids on every server
    server = stack.enter_context(serve(simulator=sim))
    account = sim.create_account(f"{marker} Advogados", admin_name=f"{marker} Admin")
    agents = [
        sim.create_agent(account.id, f"{marker} Agente {n}", email=f"{n}@{marker.lower()}.example").id for n in (1, 2)
    ]
    inbox = sim.create_inbox(account.id, f"{marker} WhatsApp", "whatsapp", members=agents)
    conversations = []
    for n in range(3):
        contact = sim.create_contact(account.id, f"{marker} Cliente {n}", email=f"cliente{n}@{marker.lower()}.example")
        conversations.append(
            sim.create_conversation(account.id, inbox.id, contact.id, message=f"{marker} pergunta {n}").display_id
        )
    assert account.id == 1
    integration = ensure_local_integration(
        graph(db).integrations,
        tenant=tenant,
        base_url=server.url,
        account_id=account.id,
        api_token=account.api_token,
        webhook_secret=WEBHOOK_SECRET,
        name=f"{marker} Chatwoot",
    )
    sim.set_webhook(account.id, handler=_into_the_webhook_route(client, integration.id), secret=WEBHOOK_SECRET)
    return Firm(
        marker=marker,
        tenant=tenant,
        sim=sim,
        url=server.url,
        integration_id=integration.id,
        conversations=conversations,
        agents=agents,
        token=make_token(sub=f"admin-{marker}", tenant=tenant),
    )


def _into_the_webhook_route(client: ApiClient, integration_id: int) -> Any:
    def deliver(delivery: WebhookDelivery) -> int:
        response = client.call(
            "POST",
            f"/webhooks/chatwoot/{integration_id}",
            body=delivery.body,
            headers=list(delivery.headers.items()),
            token=None,
        )
        return int(response.status)

    return deliver


class _closing:
    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    def __enter__(self) -> Simulator:
        return self.sim

    def __exit__(self, *exc: object) -> None:
        self.sim.close()


@pytest.fixture
def firms(db: Database, client: ApiClient) -> Iterator[dict[str, Firm]]:
    with ExitStack() as stack:
        yield {
            "alfa": build_firm(db, client, stack, "ALFA", "local"),
            "beta": build_firm(db, client, stack, "BETA", "local"),
            "gama": build_firm(db, client, stack, "GAMA", "firm-b"),
        }


def _markers_in(text: str) -> set[str]:
    return {m for m in ("ALFA", "BETA", "GAMA") if m in text}


def _mirror_text(db: Database, integration_id: int) -> str:
    """Every value the mirror keeps for one integration, as text."""
    rows: list[Any] = []
    with db.transaction() as conn:
        for table in ("usuarios_chatwoot", "contatos_chatwoot", "conversas_chatwoot", "mensagens_chatwoot"):
            rows += conn.execute(f"SELECT * FROM {table} WHERE integration_id = %s", (integration_id,)).fetchall()
    return json.dumps(rows, default=str)


def test_look_alike_servers_stay_apart_through_webhooks_syncs_assignment_and_the_api(
    client: ApiClient, db: Database, firms: dict[str, Firm]
) -> None:
    alfa, beta, gama = firms["alfa"], firms["beta"], firms["gama"]
    assert alfa.conversations == beta.conversations == gama.conversations  # the same display ids on each server
    assert alfa.agents == beta.agents == gama.agents

    # Syncs: each integration mirrors its own server.
    for firm in firms.values():
        report = client.post(f"/integrations/{firm.integration_id}/sync", query={"full": "true"}, token=firm.token)
        assert report.status == 200, report.body
        assert report.json()["conversations_seen"] == 3

    # Webhooks: a new message on each server reaches only its own integration's conversation.
    shared_id = alfa.conversations[0]
    for firm in firms.values():
        firm.sim.add_message(1, shared_id, f"{firm.marker} mensagem nova")

    # Assignment: ALFA's conversation gets one of ALFA's agents; BETA's conversation of the same id stays as it was.
    assigned = client.post(
        f"/integrations/{alfa.integration_id}/conversations/{alfa.conversations[1]}/assignment",
        json_body={},
        token=alfa.token,
    )
    assert assigned.status == 200, assigned.body
    assert "ALFA" in assigned.json()["assignee"]["name"]
    assert alfa.sim.get_conversation(1, alfa.conversations[1]).assignee_id is not None
    assert beta.sim.get_conversation(1, beta.conversations[1]).assignee_id is None

    # What is stored: each integration's rows carry its own server's words and nobody else's.
    for firm in firms.values():
        assert _markers_in(_mirror_text(db, firm.integration_id)) == {firm.marker}, firm.marker
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT integration_id, assignee_id, last_message_preview FROM conversas_chatwoot"
            " WHERE conversation_id = %s ORDER BY integration_id",
            (alfa.conversations[1],),
        ).fetchall()
    assert [r["integration_id"] for r in rows] == [alfa.integration_id, beta.integration_id, gama.integration_id]
    assert rows[0]["assignee_id"] is not None and rows[1]["assignee_id"] is None
    previews = conn_previews(db, shared_id)
    assert previews == {f.integration_id: f"{f.marker} mensagem nova" for f in firms.values()}

    # The API: every answer about one integration speaks of that server alone.
    for firm in firms.values():
        base = f"/integrations/{firm.integration_id}"
        for path in (
            f"{base}/conversations",
            f"{base}/conversations/{shared_id}",
            f"{base}/agents",
            f"{base}/agents/{firm.agents[0]}",
            f"{base}/changes",
        ):
            response = client.get(path, token=firm.token)
            assert response.status == 200, (path, response.body)
            assert _markers_in(response.body.decode()) <= {firm.marker}, path

    # Change feeds: each integration's carries its own events only; the tenant feed carries ALFA's and BETA's,
    # and the other tenant's carries GAMA's alone.
    for firm in firms.values():
        items = client.get(f"/integrations/{firm.integration_id}/changes", query={"limit": 500}, token=firm.token)
        assert {e["integration_id"] for e in items.json()["items"]} == {firm.integration_id}
    local_feed = _whole_feed(client, alfa.token)
    assert {e["integration_id"] for e in local_feed} == {alfa.integration_id, beta.integration_id}
    other_feed = _whole_feed(client, gama.token)
    assert {e["integration_id"] for e in other_feed} == {gama.integration_id}
    assert _markers_in(json.dumps(other_feed)) <= {"GAMA"}
    # The tenant feed is the union of its integrations' feeds, in one order.
    assert len(local_feed) == sum(
        len(
            client.get(f"/integrations/{f.integration_id}/changes", query={"limit": 500}, token=f.token).json()["items"]
        )
        for f in (alfa, beta)
    )

    # And across tenants, nothing: GAMA's admin cannot reach ALFA's integration, ALFA's cannot reach GAMA's.
    assert client.get(f"/integrations/{alfa.integration_id}/conversations", token=gama.token).status == 404
    assert client.get(f"/integrations/{gama.integration_id}", token=alfa.token).status == 404
    assert [i["id"] for i in client.get("/integrations", token=gama.token).json()] == [gama.integration_id]


def conn_previews(db: Database, conversation_id: int) -> dict[int, str]:
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT integration_id, last_message_preview FROM conversas_chatwoot WHERE conversation_id = %s",
            (conversation_id,),
        ).fetchall()
    return {r["integration_id"]: r["last_message_preview"] for r in rows}


def _whole_feed(client: ApiClient, token: str) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        page = client.get("/changes", query={"limit": 50, **({"after": cursor} if cursor else {})}, token=token)
        assert page.status == 200, page.body
        body = page.json()
        if not body["items"]:
            return items
        items += body["items"]
        cursor = body["next_cursor"]
