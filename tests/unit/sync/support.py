"""Helpers shared by the sync tests: fake time, a populated simulator, a sync service wired to it, and the
comparison of the mirror with the simulator's state.

The expected mirror is derived from the simulator's own records and Chatwoot's rendering rules (integer unix
seconds for most times, milliseconds for ``snoozed_until``, the float ``updated_at`` to the microsecond), never
from the sync's mapping code, so a mapping mistake shows up as a difference.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from typing import Any

import httpx

from chatwoot_integration.chatwoot import ChatwootClient, RetryPolicy
from chatwoot_integration.db import Database
from chatwoot_integration.models.integration import Integration
from chatwoot_integration.repositories.integrations import IntegrationRepository
from chatwoot_integration.secrets import DatabaseSecretStore
from chatwoot_integration.services.assignment import AssignmentService
from chatwoot_integration.services.changes import ChangePublisher
from chatwoot_integration.services.chatwoot_clients import ChatwootClients, ClientFactory
from chatwoot_integration.sync import SyncService, SyncSettings
from chatwoot_integration.sync.budget import Deadline
from chatwoot_simulator import ManualClock, Simulator, SimulatorServer, serve
from chatwoot_simulator.presenters import unread_count
from chatwoot_simulator.state import Conversation as SimConversation

START = 1_781_690_000.0
WEBHOOK_SECRET = "whsec-sync-tests"
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STORED_TYPES = ("incoming", "outgoing", "template")


class FakeTime:
    """A monotonic clock that only moves when slept on or advanced: retries and deadlines without waiting."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


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
        with self.db.transaction() as conn:
            integration = IntegrationRepository(conn).get(self.integration_id)
        assert integration is not None
        return integration

    def new_service(self, settings: SyncSettings | None = None, *, assignment: bool = False) -> SyncService:
        return SyncService(
            self.db,
            self.clients,
            assignment=AssignmentService(self.db, self.clients) if assignment else None,
            publisher=ChangePublisher(self.db, None),
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
            clients = ChatwootClients(db, DatabaseSecretStore(db), factory=client_factory(time, http, policy))
            yield Harness(db, sim, server, office, integration_id, time, http, clients, settings)
    finally:
        sim.close()


def connect(db: Database, base_url: str, office: Office, *, assignment_policy: dict[str, Any] | None = None) -> int:
    values: dict[str, Any] = {
        "name": "Silva Advocacia",
        "base_url": base_url,
        "account_id": office.account_id,
        "credentials": {"api_token": office.token, "webhook_secret": WEBHOOK_SECRET},
    }
    if assignment_policy is not None:
        values["assignment_policy"] = assignment_policy
    with db.transaction() as conn:
        return IntegrationRepository(conn).insert(values).id


# Expected mirror ---------------------------------------------------------------------------------------------


def _seconds(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(int(value), UTC)


def _milliseconds(value: float | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromtimestamp(value, UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def expected_conversations(sim: Simulator, account_id: int) -> dict[int, dict[str, Any]]:
    """Per display id, every field the mirror keeps, as Chatwoot's REST API would make it."""
    expected: dict[int, dict[str, Any]] = {}
    with sim.locked() as store:
        for conversation in store.conversations.values():
            if conversation.account_id == account_id:
                expected[conversation.display_id] = _expected_row(store, conversation)
    return expected


def _expected_row(store: Any, c: SimConversation) -> dict[str, Any]:
    messages = store.conversation_messages(c)
    visible = [m for m in messages if not m.private and m.message_type != "activity"]
    last = max(visible, key=lambda m: m.id) if visible else None
    contact = store.contacts[c.contact_id]
    return {
        "inbox_id": c.inbox_id,
        "contact_id": c.contact_id,
        "status": c.status,
        "priority": c.priority,
        "assignee_id": c.assignee_id,
        "team_id": c.team_id,
        "labels": list(c.labels),
        "custom_attributes": dict(c.custom_attributes),
        "unread_count": unread_count(store, c),
        "last_activity_at": _seconds(c.last_activity_at),
        "waiting_since": _seconds(c.waiting_since),
        "snoozed_until": _milliseconds(c.snoozed_until),
        "first_reply_created_at": _seconds(c.first_reply_created_at),
        "chatwoot_created_at": _seconds(c.created_at),
        "chatwoot_updated_at": EPOCH + timedelta(microseconds=c.updated_at_us),
        "messages_count": sum(1 for m in messages if not m.private and m.message_type in STORED_TYPES),
        "private_notes_count": sum(1 for m in messages if m.private),
        # Whole seconds: a message stored from a webhook keeps Chatwoot's milliseconds, one read by the sync cannot.
        "last_message_at": _seconds(last.created_at) if last else None,
        "last_message_preview": last.content[:280] if last else None,
        "deleted": False,
        "contact": {
            "name": contact.name,
            "email": contact.email,
            "phone_number": contact.phone_number,
            "identifier": contact.identifier,
        },
        "message_ids": sorted(m.id for m in messages if m.message_type != "activity"),
    }


def mirrored_conversations(db: Database, account_id: int) -> dict[int, dict[str, Any]]:
    """Per display id, the same fields as :func:`expected_conversations`, read from the mirror."""
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT c.*, k.name AS contact_name, k.email AS contact_email, k.phone_number AS contact_phone,"
            " k.identifier AS contact_identifier,"
            " ARRAY(SELECT m.message_id FROM mensagens_chatwoot m WHERE m.account_id = c.account_id"
            "       AND m.conversation_id = c.conversation_id ORDER BY m.message_id) AS message_ids"
            " FROM conversas_chatwoot c"
            " LEFT JOIN contatos_chatwoot k ON k.account_id = c.account_id AND k.contact_id = c.contact_id"
            " WHERE c.account_id = %s",
            (account_id,),
        ).fetchall()
    mirrored: dict[int, dict[str, Any]] = {}
    for row in rows:
        mirrored[row["conversation_id"]] = {
            **{key: row[key] for key in _ROW_FIELDS},
            "last_message_at": row["last_message_at"].replace(microsecond=0) if row["last_message_at"] else None,
            "labels": list(row["labels"]),
            "deleted": row["deleted_at"] is not None,
            "contact": {
                "name": row["contact_name"],
                "email": row["contact_email"],
                "phone_number": row["contact_phone"],
                "identifier": row["contact_identifier"],
            },
            "message_ids": list(row["message_ids"]),
        }
    return mirrored


_ROW_FIELDS = (
    "inbox_id",
    "contact_id",
    "status",
    "priority",
    "assignee_id",
    "team_id",
    "custom_attributes",
    "unread_count",
    "last_activity_at",
    "waiting_since",
    "snoozed_until",
    "first_reply_created_at",
    "chatwoot_created_at",
    "chatwoot_updated_at",
    "messages_count",
    "private_notes_count",
    "last_message_at",
    "last_message_preview",
)


def differences(expected: dict[int, dict[str, Any]], mirrored: dict[int, dict[str, Any]]) -> list[str]:
    """Readable differences between the expected and the mirrored conversations (empty when they converge).
    Mirrored rows Chatwoot no longer has must be soft-deleted."""
    found: list[str] = []
    for display_id, want in sorted(expected.items()):
        have = mirrored.get(display_id)
        if have is None:
            found.append(f"conversation {display_id}: missing from the mirror")
            continue
        found.extend(
            f"conversation {display_id}.{key}: mirror {have[key]!r} != chatwoot {value!r}"
            for key, value in want.items()
            if have[key] != value
        )
    found.extend(
        f"conversation {display_id}: not in Chatwoot but not deleted in the mirror"
        for display_id, have in sorted(mirrored.items())
        if display_id not in expected and not have["deleted"]
    )
    return found


def converged(h: Harness) -> list[str]:
    return converged_with(h.db, h.sim, h.account_id)


def converged_with(db: Database, sim: Simulator, account_id: int) -> list[str]:
    return differences(expected_conversations(sim, account_id), mirrored_conversations(db, account_id))


def agent_differences(h: Harness) -> list[str]:
    return agent_differences_with(h.db, h.sim, h.account_id)


def agent_differences_with(db: Database, sim: Simulator, account_id: int) -> list[str]:
    """Differences between the mirrored agents and their inbox and team membership and the simulator's."""
    with db.transaction() as conn:
        rows = {
            r["agent_id"]: r
            for r in conn.execute("SELECT * FROM usuarios_chatwoot WHERE account_id = %s", (account_id,))
        }
        inbox_members = {
            (r["inbox_id"], r["agent_id"])
            for r in conn.execute("SELECT * FROM membros_inbox_chatwoot WHERE account_id = %s", (account_id,))
        }
        team_members = {
            (r["team_id"], r["agent_id"])
            for r in conn.execute("SELECT * FROM membros_equipe_chatwoot WHERE account_id = %s", (account_id,))
        }
    found: list[str] = []
    for agent in sim.list_agents(account_id):
        row = rows.get(agent.id)
        if row is None:
            found.append(f"agent {agent.id}: missing")
            continue
        want = {"name": agent.name, "email": agent.email, "role": agent.role, "availability": agent.availability}
        found.extend(
            f"agent {agent.id}.{key}: mirror {row[key]!r} != chatwoot {value!r}"
            for key, value in want.items()
            if row[key] != value
        )
    want_inbox = {(i.id, a) for i in sim.list_inboxes(account_id) for a in i.member_ids}
    want_team = {(t.id, a) for t in sim.list_teams(account_id) for a in t.member_ids}
    if inbox_members != want_inbox:
        found.append(f"inbox members: mirror {sorted(inbox_members)} != chatwoot {sorted(want_inbox)}")
    if team_members != want_team:
        found.append(f"team members: mirror {sorted(team_members)} != chatwoot {sorted(want_team)}")
    return found
