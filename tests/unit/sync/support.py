"""Helpers shared by the sync tests: fake time, a populated simulator, a sync service wired to it, and the
comparison of the mirror with the simulator's state (:mod:`tests.mirror_equality`, shared with the convergence
suite).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

import httpx

from chatwoot_integration.chatwoot.client import ChatwootClient
from chatwoot_integration.chatwoot.retry import RetryPolicy
from chatwoot_integration.db import Database
from chatwoot_integration.models.integration import Integration
from chatwoot_integration.secrets import DatabaseSecretStore
from chatwoot_integration.services.assignment import AssignmentService
from chatwoot_integration.services.changes import ChangePublisher
from chatwoot_integration.services.chatwoot_clients import ChatwootClients, ClientFactory
from chatwoot_integration.sync.budget import Deadline
from chatwoot_integration.sync.models import SyncSettings
from chatwoot_integration.sync.service import SyncService
from chatwoot_integration.uow import UnitOfWork, unit_of_work_factory
from chatwoot_simulator import ManualClock, Simulator, SimulatorServer, serve
from tests.api_support import TENANT
from tests.fake_time import FakeTime
from tests.mirror_equality import agent_differences as mirror_agent_differences
from tests.mirror_equality import contact_differences, conversation_differences

START = 1_781_690_000.0
WEBHOOK_SECRET = "whsec-sync-tests"


@dataclass
class Office:
    """A populated simulator account."""

    account_id: int
    token: str
    agent_ids: list[int]
    inbox_ids: list[int]
    team_ids: list[int]
    conversation_ids: list[int] = field(default_factory=list)


def new_simulator(seed: int = 7, rest_sleep: Callable[[float], None] | None = None) -> Simulator:
    # A small tick keeps every event's time distinct without depending on how fast the test runs.
    clock = ManualClock(start=START, tick=0.001)
    if rest_sleep is None:
        return Simulator(seed=seed, clock=clock)
    return Simulator(seed=seed, clock=clock, rest_sleep=rest_sleep)


Edit = Callable[[httpx.Request, Callable[[], httpx.Response]], httpx.Response]
"""Sees each request on its way to the simulator: answer it (``send()`` forwards it), change it, or refuse it."""


class EditingTransport(httpx.BaseTransport):
    """The real HTTP transport with an :data:`Edit` in front: faults and tampered answers per request."""

    def __init__(self, edit: Edit) -> None:
        self._inner = httpx.HTTPTransport()
        self._edit = edit

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        def send() -> httpx.Response:
            response = self._inner.handle_request(request)
            response.read()
            return response

        return self._edit(request, send)

    def close(self) -> None:
        self._inner.close()


def build_office(sim: Simulator, *, conversations: int, seed: int = 11) -> Office:
    """An account with agents of every availability, two inboxes, two teams, and conversations in every state:
    labels, priorities, assignees, teams, snoozes, custom attributes, replies, private notes and templates."""
    rng = random.Random(seed)
    account = sim.create_account("Silva Advocacia")
    assert account.api_token is not None
    aid = account.id
    agents = [
        sim.create_agent(aid, "Ana Souza", availability="online").id,
        sim.create_agent(aid, "Bruno Lima", availability="busy").id,
        sim.create_agent(aid, "Carla Dias", availability="offline").id,
        sim.create_agent(aid, "Diego Alves", availability="online", role="administrator").id,
    ]
    inboxes = [
        sim.create_inbox(aid, "WhatsApp", "whatsapp", members=agents[:3]).id,
        sim.create_inbox(aid, "Site", "web_widget", members=agents[1:]).id,
    ]
    teams = [
        sim.create_team(aid, "Trabalhista", members=agents[:2]).id,
        sim.create_team(aid, "Cível", members=agents[2:]).id,
    ]
    office = Office(aid, account.api_token, agents, inboxes, teams)
    contacts = [
        sim.create_contact(
            aid,
            f"Cliente {n}",
            email=f"cliente{n}@email.example" if n % 3 else None,
            phone_number=f"+55119{n:08d}",
            identifier=f"cpf-{n}" if n % 5 == 0 else None,
        ).id
        for n in range(max(1, conversations // 2))
    ]
    for _ in range(conversations):
        office.conversation_ids.append(_conversation(sim, office, rng, rng.choice(contacts)))
    return office


def _conversation(sim: Simulator, office: Office, rng: random.Random, contact_id: int) -> int:
    aid = office.account_id
    labels = rng.sample(["area:trabalhista", "area:civel", "urgente", "retorno"], k=rng.randrange(3))
    conversation = sim.create_conversation(
        aid,
        rng.choice(office.inbox_ids),
        contact_id,
        message="Olá, preciso de ajuda com um processo.",
        labels=labels,
        priority=rng.choice([None, "low", "medium", "high", "urgent"]),
    )
    display_id = conversation.display_id
    stage = rng.random()
    if stage > 0.25:
        agent_id = rng.choice(office.agent_ids)
        sim.assign(aid, display_id, agent_id)
        sim.add_message(
            aid, display_id, "Bom dia! Vou cuidar do seu caso.", message_type="outgoing", sender_id=agent_id
        )
    if rng.random() < 0.3:
        sim.assign_team(aid, display_id, rng.choice(office.team_ids))
    if rng.random() < 0.4:
        sim.add_message(aid, display_id, "Obrigado, enviei os documentos.")
    if rng.random() < 0.2:
        sim.add_message(aid, display_id, "Conferir procuração.", message_type="outgoing", private=True)
    if rng.random() < 0.1:
        sim.add_message(aid, display_id, "Modelo de boas-vindas", message_type="template")
    if rng.random() < 0.2:
        sim.set_custom_attributes(aid, display_id, {"processo": f"{rng.randrange(10**6):07d}", "vara": "2ª"})
    if rng.random() < 0.15:
        sim.mark_seen(aid, display_id)
    if stage > 0.8:
        sim.set_status(aid, display_id, "resolved")
    elif stage > 0.7:
        sim.set_status(aid, display_id, "pending")
    elif stage > 0.62:
        sim.set_status(aid, display_id, "snoozed", snoozed_until=sim.clock.now() + 3600.123456)
    return display_id


def client_factory(time: FakeTime, http: httpx.Client, policy: RetryPolicy | None = None) -> ClientFactory:
    """Chatwoot clients that sleep on ``time`` (backoffs, ``Retry-After``) instead of the wall clock."""

    def build(integration: Integration, api_token: str, deadline: Callable[[], float | None]) -> ChatwootClient:
        return ChatwootClient(
            integration.base_url,
            integration.account_id,
            api_token,
            http=http,
            policy=policy or RetryPolicy(),
            sleep=time.sleep,
            clock=time.monotonic,
            deadline=deadline,
            jitter=lambda: 0.5,
        )

    return build


@dataclass
class Harness:
    """A database, a simulator behind HTTP, an integration connected to it, and the sync service."""

    db: Database
    sim: Simulator
    server: SimulatorServer
    office: Office
    integration_id: int
    time: FakeTime
    http: httpx.Client
    clients: ChatwootClients
    settings: SyncSettings | None = None

    @cached_property
    def service(self) -> SyncService:
        return self.new_service(self.settings)

    @property
    def account_id(self) -> int:
        return self.office.account_id

    def advance(self, seconds: float) -> None:
        """Let time pass in Chatwoot (the sync reads its wall clock from the simulator's)."""
        clock = self.sim.clock
        assert isinstance(clock, ManualClock)
        clock.advance(seconds)

    def sim_now(self) -> datetime:
        return datetime.fromtimestamp(self.sim.clock.now(), UTC)

    def deadline_in(self, seconds: float) -> Deadline:
        end = self.time.monotonic() + seconds
        return lambda: end

    def integration(self) -> Integration:
        with UnitOfWork(self.db) as uow:
            integration = uow.integrations.get(self.integration_id)
        assert integration is not None
        return integration

    def new_service(self, settings: SyncSettings | None = None, *, assignment: bool = False) -> SyncService:
        unit_of_work = unit_of_work_factory(self.db)
        return SyncService(
            unit_of_work,
            self.clients,
            assignment=AssignmentService(unit_of_work, self.clients) if assignment else None,
            publisher=ChangePublisher(unit_of_work, None),
            settings=settings or SyncSettings(),
            clock=self.sim_now,
            monotonic=self.time.monotonic,
        )


@contextmanager
def harness(
    db: Database,
    *,
    conversations: int,
    seed: int = 7,
    settings: SyncSettings | None = None,
    policy: RetryPolicy | None = None,
    request_cost: float = 0.0,
    assignment_policy: dict[str, Any] | None = None,
    edit: Edit | None = None,
    rest_sleep: Callable[[float], None] | None = None,
) -> Iterator[Harness]:
    """``request_cost`` advances the fake clock by that many seconds per HTTP request (deadline tests); ``edit``
    sits between the client and the simulator; ``rest_sleep`` is what the simulator's latency switch calls."""
    time = FakeTime()
    sim = new_simulator(seed, rest_sleep)
    office = build_office(sim, conversations=conversations, seed=seed + 4)
    hooks = {"request": [lambda _request: time.advance(request_cost)]} if request_cost else {}
    transport = EditingTransport(edit) if edit is not None else None
    try:
        with serve(simulator=sim) as server, httpx.Client(event_hooks=hooks, transport=transport) as http:
            integration_id = connect(db, server.url, office, assignment_policy=assignment_policy)
            unit_of_work = unit_of_work_factory(db)
            clients = ChatwootClients(
                unit_of_work, DatabaseSecretStore(unit_of_work), factory=client_factory(time, http, policy)
            )
            yield Harness(db, sim, server, office, integration_id, time, http, clients, settings)
    finally:
        sim.close()


def connect(db: Database, base_url: str, office: Office, *, assignment_policy: dict[str, Any] | None = None) -> int:
    values: dict[str, Any] = {
        "tenant": TENANT,
        "name": "Silva Advocacia",
        "base_url": base_url,
        "account_id": office.account_id,
        "credentials": {"api_token": office.token, "webhook_secret": WEBHOOK_SECRET},
    }
    if assignment_policy is not None:
        values["assignment_policy"] = assignment_policy
    with UnitOfWork(db) as uow:
        return uow.integrations.insert(values).id


# The mirror compared with the simulator --------------------------------------------------------------------------


def converged(h: Harness) -> list[str]:
    return converged_with(h.db, h.sim, h.account_id)


def converged_with(db: Database, sim: Simulator, account_id: int) -> list[str]:
    """Every field the mirror keeps of the account's conversations, their messages and their contacts, against
    the simulator; conversations Chatwoot no longer has must be soft-deleted. Empty when they converged."""
    return conversation_differences(db, sim, account_id) + contact_differences(db, sim, account_id)


def agent_differences(h: Harness) -> list[str]:
    return agent_differences_with(h.db, h.sim, h.account_id)


def agent_differences_with(db: Database, sim: Simulator, account_id: int) -> list[str]:
    return mirror_agent_differences(db, sim, account_id)
