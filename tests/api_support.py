"""Calling the API the way a client does: through the local gateway (routes from template.yaml, the JWT
authorizer, API Gateway v2 events) into the api function, in-process, against a simulated Chatwoot."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import jwt

from chatwoot_integration.chatwoot.models import Agent as RestAgent
from chatwoot_integration.chatwoot.models import Conversation as RestConversation
from chatwoot_integration.db import Database
from chatwoot_integration.mapping import agent_states, conversation_contact, conversation_state
from chatwoot_integration.services.integrations import ensure_local_integration
from chatwoot_integration.services.mirror import mirror_conversations
from chatwoot_integration.uow import UnitOfWork
from chatwoot_simulator import Simulator
from chatwoot_simulator.presenters import rest_agent
from localdev.apigw import LocalRequest
from localdev.authorizer import JwtVerifier
from localdev.invoke import FunctionInvoker
from localdev.server import LocalGateway
from localdev.template_routes import read_template
from tests.graph import graph

REPO_ROOT = Path(__file__).resolve().parents[1]
JWT_SECRET = "test-jwt-secret-0123456789abcdef0123456789"
ISSUER = "local"
AUDIENCE = "chatwoot-integration"
TENANT = "local"  # the tenant of the integrations tests connect, unless they say otherwise


@dataclass
class ApiResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    def header(self, name: str) -> str | None:
        return next((v for k, v in self.headers if k.lower() == name.lower()), None)


def make_token(
    *,
    sub: str = "admin-1",
    role: str = "admin",
    tenant: Any = "local",
    ttl: int = 3600,
    secret: str = JWT_SECRET,
    algorithm: str = "HS256",
    **overrides: Any,
) -> str:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": sub,
        "role": role,
        "tenant": tenant,
        "iat": now,
        "exp": now + ttl,
    }
    claims.update(overrides)
    claims = {k: v for k, v in claims.items() if v is not None}
    return jwt.encode(claims, secret, algorithm=algorithm)


@dataclass
class ApiClient:
    gateway: LocalGateway
    default_token: str = field(default_factory=make_token)

    def call(
        self,
        method: str,
        path: str,
        *,
        query: Mapping[str, Any] | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        token: str | None = "default",
        headers: Sequence[tuple[str, str]] = (),
    ) -> ApiResponse:
        all_headers = list(headers)
        if token == "default":
            token = self.default_token
        if token is not None:
            all_headers.append(("Authorization", f"Bearer {token}"))
        if json_body is not None:
            body = json.dumps(json_body).encode()
            all_headers.append(("Content-Type", "application/json"))
        request = LocalRequest(
            method=method,
            raw_path=path,
            raw_query=urlencode(query or {}, doseq=True),
            headers=all_headers,
            body=body or b"",
        )
        response, _ = self.gateway.handle(request)
        return ApiResponse(status=response.status, headers=response.headers, body=response.body)

    def get(self, path: str, **kw: Any) -> ApiResponse:
        return self.call("GET", path, **kw)

    def post(self, path: str, **kw: Any) -> ApiResponse:
        return self.call("POST", path, **kw)

    def patch(self, path: str, **kw: Any) -> ApiResponse:
        return self.call("PATCH", path, **kw)

    def delete(self, path: str, **kw: Any) -> ApiResponse:
        return self.call("DELETE", path, **kw)


def build_gateway() -> tuple[LocalGateway, FunctionInvoker]:
    template = read_template(REPO_ROOT / "template.yaml")
    invoker = FunctionInvoker(template.functions)
    return LocalGateway(template, invoker, JwtVerifier(JWT_SECRET)), invoker


@dataclass
class World:
    """A simulated Chatwoot account mirrored into the database: ids the tests refer to."""

    sim: Simulator
    url: str
    account_id: int
    integration_id: int
    agents: dict[str, int]
    inbox_id: int
    conversations: list[int]


def connect_world(db: Database, sim: Simulator, url: str, *, conversations: int = 5, tenant: str = TENANT) -> World:
    account = sim.create_account("Silva & Souza Advogados")
    ana = sim.create_agent(account.id, "Ana Lima", email="ana@silva.example")
    bruno = sim.create_agent(account.id, "Bruno Reis", email="bruno@silva.example", availability="busy")
    carla = sim.create_agent(account.id, "Carla Dias", email="carla@silva.example", availability="offline")
    inbox = sim.create_inbox(account.id, "WhatsApp", "whatsapp", members=[ana.id, bruno.id, carla.id])
    ids = []
    for n in range(conversations):
        contact = sim.create_contact(account.id, f"Cliente {n}", email=f"cliente{n}@example.com")
        conversation = sim.create_conversation(
            account.id, inbox.id, contact.id, message=f"Preciso de ajuda {n}", labels=["area:civel"] if n % 2 else []
        )
        ids.append(conversation.display_id)
    integration = ensure_local_integration(
        graph(db).integrations,
        tenant=tenant,
        base_url=url,
        account_id=account.id,
        api_token=account.api_token,
        webhook_secret="whsec-test",
    )
    mirror_account(db, sim, account.id, integration.id)
    return World(
        sim=sim,
        url=url,
        account_id=account.id,
        integration_id=integration.id,
        agents={"ana": ana.id, "bruno": bruno.id, "carla": carla.id},
        inbox_id=inbox.id,
        conversations=ids,
    )


def mirror_account(db: Database, sim: Simulator, account_id: int, integration_id: int) -> None:
    """What the sync does, in its simplest form: agents, inbox members and conversations."""
    with UnitOfWork(db) as uow:
        agents = uow.agents
        rest_agents = [RestAgent.model_validate(rest_agent(a)) for a in sim.list_agents(account_id)]
        agents.upsert_from_chatwoot(integration_id, agent_states(integration_id, account_id, rest_agents))
        for inbox in sim.list_inboxes(account_id):
            agents.replace_inbox_members(integration_id, inbox.id, list(inbox.member_ids))
        rest = [
            RestConversation.model_validate(sim.rest_conversation(account_id, c.display_id))
            for c in sim.list_conversations(account_id)
        ]
        states = [conversation_state(integration_id, r) for r in rest]
        mirror_conversations(uow, states, actor="sync", mark_synced=True)
        contacts = [conversation_contact(integration_id, r) for r in rest]
        uow.parties.upsert_contacts([c for c in contacts if c is not None])


def iter_pages(client: ApiClient, path: str, query: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    cursor = None
    while True:
        response = client.get(path, query={**query, **({"cursor": cursor} if cursor else {})})
        assert response.status == 200, response.body
        page = response.json()
        yield page
        cursor = page["next_cursor"]
        if cursor is None:
            return
