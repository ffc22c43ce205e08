"""A seeded workload over several simulated Chatwoot accounts: a busy law office's day, compressed.

Every choice comes from one ``random.Random``, so a seed replays the same actions in the same order. The actions
cover what the mirror keeps: conversations created in several inboxes, incoming, outgoing and template messages
and private notes, status changes (resolve, reopen, snooze, pending), priority, labels, custom attributes,
assignments and team changes, agents' availability, names, roles and inbox membership (no webhook tells about
those), contact edits, an agent opening a conversation (unread count, no webhook) and conversation deletions
(no webhook either).
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field

from chatwoot_simulator import Simulator
from chatwoot_simulator.state import Availability, ConversationStatus, Priority, Role

_OPEN_STATUSES: tuple[ConversationStatus, ...] = ("open", "pending")
_LIVE_STATUSES: tuple[ConversationStatus, ...] = ("open", "pending", "snoozed")
_ALL_STATUSES: tuple[ConversationStatus, ...] = ("open", "pending", "snoozed", "resolved")
_PRIORITIES: tuple[Priority | None, ...] = (None, "low", "medium", "high", "urgent")
_AVAILABILITIES: tuple[Availability, ...] = ("online", "online", "busy", "offline")
_ROLES: tuple[Role, ...] = ("agent", "administrator")
_LABELS = ("area:trabalhista", "area:civel", "area:familia", "urgente", "prazo", "retorno", "novo-cliente")
_FIRST_NAMES = ("Maria", "José", "Ana", "João", "Adriana", "Paulo", "Luciana", "Pedro", "Camila", "Rodrigo")
_SURNAMES = ("da Silva", "dos Santos", "Oliveira", "Souza", "Ferreira", "Alves", "Pereira", "Gomes")
_INCOMING = (
    "Boa tarde, fui demitido sem justa causa.",
    "Enviei os documentos que vocês pediram.",
    "Alguma novidade sobre o meu processo?",
    "Posso agendar um atendimento presencial?",
)
_REPLIES = (
    "Olá! Vou acompanhar o seu caso.",
    "Poderia nos enviar cópia do RG e do CPF?",
    "Recebemos os documentos, retornamos em breve.",
)
_NOTES = ("Prazo processual próximo, priorizar.", "Conferir procuração antes de protocolar.")


@dataclass
class Office:
    """One simulated account and the ids the workload draws from."""

    account_id: int
    api_token: str
    agent_ids: list[int]
    inbox_ids: list[int]
    team_ids: list[int]
    contact_ids: list[int] = field(default_factory=list)


def build_office(sim: Simulator, rng: random.Random, number: int) -> Office:
    """An account with five agents (one administrator), three inboxes of different channels, two teams, contacts."""
    account = sim.create_account(f"Escritório {number} Advocacia")
    assert account.api_token is not None
    aid = account.id
    availabilities: list[Availability] = ["online", "online", "busy", "offline", "online"]
    agents = [
        sim.create_agent(
            aid,
            f"Advogada {number}.{n}",
            availability=availability,
            role="administrator" if n == 4 else "agent",
        ).id
        for n, availability in enumerate(availabilities)
    ]
    inboxes = [
        sim.create_inbox(aid, "WhatsApp", "whatsapp", members=agents[:4]).id,
        sim.create_inbox(aid, "E-mail", "email", members=agents[1:]).id,
        sim.create_inbox(aid, "Site", "web_widget", members=[agents[0], agents[2], agents[4]]).id,
    ]
    teams = [
        sim.create_team(aid, "Trabalhista", members=agents[:2]).id,
        sim.create_team(aid, "Cível", members=agents[2:4]).id,
    ]
    office = Office(aid, account.api_token, agents, inboxes, teams)
    for _ in range(4):
        office.contact_ids.append(_new_contact(sim, rng, office))
    return office


def _new_contact(sim: Simulator, rng: random.Random, office: Office) -> int:
    name = f"{rng.choice(_FIRST_NAMES)} {rng.choice(_SURNAMES)}"
    serial = rng.randrange(10**8)
    return sim.create_contact(
        office.account_id,
        name,
        email=f"cliente{serial}@email.example" if rng.random() < 0.7 else None,
        phone_number=f"+55119{serial:08d}",
        identifier=f"cpf-{serial}" if rng.random() < 0.3 else None,
    ).id


Action = Callable[[Office], str]


class Workload:
    """Performs one random action per :meth:`step` on one of the offices; ``done`` counts actions by name."""

    def __init__(self, sim: Simulator, offices: list[Office], rng: random.Random) -> None:
        self._sim = sim
        self._offices = offices
        self._rng = rng
        self.done: Counter[str] = Counter()
        weighted: list[tuple[float, Action]] = [
            (12, self._new_conversation),
            (16, self._incoming),
            (12, self._reply),
            (2, self._template),
            (4, self._private_note),
            (6, self._resolve),
            (3, self._reopen),
            (2, self._snooze),
            (2, self._pending),
            (4, self._priority),
            (4, self._labels),
            (2, self._custom_attributes),
            (6, self._assign),
            (3, self._team),
            (4, self._availability),
            (3, self._edit_contact),
            (2, self._mark_seen),
            (1, self._delete),
            (1, self._inbox_membership),
            (0.5, self._edit_agent),
            (0.3, self._new_agent),
        ]
        self._weights = [weight for weight, _ in weighted]
        self._actions = [action for _, action in weighted]

    def step(self) -> str:
        office = self._rng.choice(self._offices)
        action = self._rng.choices(self._actions, weights=self._weights)[0]
        name = action(office)
        self.done[name] += 1
        return name

    # Picking --------------------------------------------------------------------------------------------

    def _pick(self, office: Office, statuses: tuple[ConversationStatus, ...]) -> int | None:
        with self._sim.locked() as store:
            candidates = [
                c.display_id
                for c in store.conversations.values()
                if c.account_id == office.account_id and c.status in statuses
            ]
        return self._rng.choice(candidates) if candidates else None

    def _agent(self, office: Office) -> int:
        return self._rng.choice(office.agent_ids)

    # Conversations -------------------------------------------------------------------------------------

    def _new_conversation(self, office: Office) -> str:
        rng = self._rng
        if office.contact_ids and rng.random() < 0.4:
            contact_id = rng.choice(office.contact_ids)
        else:
            contact_id = _new_contact(self._sim, rng, office)
            office.contact_ids.append(contact_id)
        self._sim.create_conversation(
            office.account_id,
            rng.choice(office.inbox_ids),
            contact_id,
            message=rng.choice(_INCOMING),
            status="pending" if rng.random() < 0.1 else "open",
            priority=rng.choice(_PRIORITIES),
            labels=rng.sample(_LABELS, k=rng.randrange(3)),
            team_id=rng.choice(office.team_ids) if rng.random() < 0.2 else None,
            assignee_id=self._agent(office) if rng.random() < 0.2 else None,
        )
        return "new_conversation"

    def _incoming(self, office: Office) -> str:
        # Mostly live conversations; sometimes a resolved one, which the message reopens.
        statuses = _LIVE_STATUSES if self._rng.random() < 0.85 else ("resolved",)
        display_id = self._pick(office, statuses)
        if display_id is None:
            return self._new_conversation(office)
        self._sim.add_message(office.account_id, display_id, self._rng.choice(_INCOMING))
        return "incoming_message"

    def _reply(self, office: Office) -> str:
        display_id = self._pick(office, _OPEN_STATUSES)
        if display_id is None:
            return "idle"
        assignee = self._sim.get_conversation(office.account_id, display_id).assignee_id
        sender = assignee if assignee is not None and self._rng.random() < 0.8 else self._agent(office)
        self._sim.add_message(
            office.account_id, display_id, self._rng.choice(_REPLIES), message_type="outgoing", sender_id=sender
        )
        return "outgoing_message"

    def _template(self, office: Office) -> str:
        display_id = self._pick(office, _OPEN_STATUSES)
        if display_id is None:
            return "idle"
        self._sim.add_message(office.account_id, display_id, "Modelo: lembrete de audiência", message_type="template")
        return "template_message"

    def _private_note(self, office: Office) -> str:
        display_id = self._pick(office, _ALL_STATUSES)
        if display_id is None:
            return "idle"
        self._sim.add_message(
            office.account_id,
            display_id,
            self._rng.choice(_NOTES),
            message_type="outgoing",
            private=True,
            sender_id=self._agent(office),
        )
        return "private_note"

    def _resolve(self, office: Office) -> str:
        return self._set_status(office, _LIVE_STATUSES, "resolved")

    def _reopen(self, office: Office) -> str:
        return self._set_status(office, ("resolved", "snoozed", "pending"), "open")

    def _pending(self, office: Office) -> str:
        return self._set_status(office, ("open",), "pending")

    def _snooze(self, office: Office) -> str:
        display_id = self._pick(office, _OPEN_STATUSES)
        if display_id is None:
            return "idle"
        # A fraction of a second, so the mirror has to keep snoozed_until to the millisecond.
        until = self._sim.clock.now() + self._rng.choice([3600, 86_400]) + 0.25
        self._sim.set_status(office.account_id, display_id, "snoozed", snoozed_until=until)
        return "snooze"

    def _set_status(self, office: Office, statuses: tuple[ConversationStatus, ...], status: ConversationStatus) -> str:
        display_id = self._pick(office, statuses)
        if display_id is None:
            return "idle"
        self._sim.set_status(office.account_id, display_id, status)
        return status

    def _priority(self, office: Office) -> str:
        display_id = self._pick(office, _ALL_STATUSES)
        if display_id is None:
            return "idle"
        self._sim.set_priority(office.account_id, display_id, self._rng.choice(_PRIORITIES))
        return "priority"

    def _labels(self, office: Office) -> str:
        display_id = self._pick(office, _ALL_STATUSES)
        if display_id is None:
            return "idle"
        self._sim.set_labels(office.account_id, display_id, self._rng.sample(_LABELS, k=self._rng.randrange(4)))
        return "labels"

    def _custom_attributes(self, office: Office) -> str:
        display_id = self._pick(office, _ALL_STATUSES)
        if display_id is None:
            return "idle"
        attributes = {"processo": f"{self._rng.randrange(10**7):07d}", "vara": self._rng.choice(["1ª", "2ª", "3ª"])}
        self._sim.set_custom_attributes(office.account_id, display_id, attributes)
        return "custom_attributes"

    def _assign(self, office: Office) -> str:
        display_id = self._pick(office, _ALL_STATUSES)
        if display_id is None:
            return "idle"
        agent_id = self._agent(office) if self._rng.random() < 0.85 else None
        self._sim.assign(office.account_id, display_id, agent_id)
        return "assign"

    def _team(self, office: Office) -> str:
        display_id = self._pick(office, _ALL_STATUSES)
        if display_id is None:
            return "idle"
        team_id = self._rng.choice(office.team_ids) if self._rng.random() < 0.8 else None
        self._sim.assign_team(office.account_id, display_id, team_id)
        return "team"

    def _mark_seen(self, office: Office) -> str:
        display_id = self._pick(office, _ALL_STATUSES)
        if display_id is None:
            return "idle"
        self._sim.mark_seen(office.account_id, display_id)
        return "mark_seen"

    def _delete(self, office: Office) -> str:
        display_id = self._pick(office, _ALL_STATUSES)
        if display_id is None:
            return "idle"
        self._sim.delete_conversation(office.account_id, display_id)
        return "delete_conversation"

    # Agents and contacts ---------------------------------------------------------------------------------

    def _availability(self, office: Office) -> str:
        self._sim.set_agent_availability(office.account_id, self._agent(office), self._rng.choice(_AVAILABILITIES))
        return "availability"

    def _edit_agent(self, office: Office) -> str:
        agent_id = self._agent(office)
        if self._rng.random() < 0.5:
            self._sim.update_agent(office.account_id, agent_id, name=f"Dra. {self._rng.choice(_FIRST_NAMES)}")
        else:
            self._sim.update_agent(office.account_id, agent_id, role=self._rng.choice(_ROLES))
        return "edit_agent"

    def _new_agent(self, office: Office) -> str:
        agent = self._sim.create_agent(
            office.account_id, f"Estagiário {len(office.agent_ids)}", availability=self._rng.choice(_AVAILABILITIES)
        )
        office.agent_ids.append(agent.id)
        self._sim.add_inbox_member(office.account_id, self._rng.choice(office.inbox_ids), agent.id)
        return "new_agent"

    def _inbox_membership(self, office: Office) -> str:
        inbox_id = self._rng.choice(office.inbox_ids)
        agent_id = self._agent(office)
        if agent_id in self._sim.get_inbox(office.account_id, inbox_id).member_ids:
            self._sim.remove_inbox_member(office.account_id, inbox_id, agent_id)
        else:
            self._sim.add_inbox_member(office.account_id, inbox_id, agent_id)
        return "inbox_membership"

    def _edit_contact(self, office: Office) -> str:
        rng = self._rng
        contact_id = rng.choice(office.contact_ids)
        serial = rng.randrange(10**8)
        field_name = rng.choice(["name", "email", "phone_number", "identifier"])
        if field_name == "name":
            self._sim.update_contact(office.account_id, contact_id, name=f"{rng.choice(_FIRST_NAMES)} {serial}")
        elif field_name == "email":
            self._sim.update_contact(office.account_id, contact_id, email=f"novo{serial}@email.example")
        elif field_name == "phone_number":
            self._sim.update_contact(office.account_id, contact_id, phone_number=f"+55219{serial:08d}")
        else:
            self._sim.update_contact(office.account_id, contact_id, identifier=f"cpf-{serial}")
        return "edit_contact"
