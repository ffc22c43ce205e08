"""Demo data and a steady stream of realistic activity for a Brazilian law office's Chatwoot account."""

from __future__ import annotations

import logging
import random
import threading
import unicodedata
from collections.abc import Callable

from pydantic import BaseModel

from chatwoot_simulator.simulator import Simulator
from chatwoot_simulator.state import Availability, Conversation, Priority, Role, SimulatorError

logger = logging.getLogger("chatwoot_simulator.traffic")

AREAS: dict[str, list[str]] = {
    "trabalhista": [
        "Boa tarde, fui demitido sem justa causa e ainda não recebi as verbas rescisórias.",
        "Trabalhei três anos sem carteira assinada. Tenho direito a quê?",
        "A empresa não paga minhas horas extras há meses. Como devo proceder?",
    ],
    "civel": [
        "Comprei uma geladeira com defeito e a loja se recusa a trocar.",
        "Recebi uma cobrança indevida e meu nome foi negativado no Serasa.",
        "Gostaria de saber o andamento da minha ação de indenização.",
    ],
    "familia": [
        "Bom dia, gostaria de informações sobre divórcio consensual.",
        "Preciso revisar o valor da pensão alimentícia do meu filho.",
        "Como funciona a guarda compartilhada?",
    ],
    "previdenciario": [
        "Meu pedido de aposentadoria foi negado pelo INSS. O que posso fazer?",
        "Quero saber se minha mãe tem direito ao BPC/LOAS.",
        "Cortaram meu auxílio-doença mesmo eu ainda estando em tratamento.",
    ],
    "tributario": [
        "Recebi uma notificação da Receita Federal sobre o meu imposto de renda.",
        "Minha empresa tem débitos de ICMS. É possível parcelar?",
        "Tenho direito à restituição de tributos pagos a mais?",
    ],
}
FOLLOW_UPS = [
    "Olá, alguma novidade sobre o meu caso?",
    "Enviei os documentos que vocês pediram.",
    "Muito obrigado pelo retorno!",
    "Qual é o valor da consulta?",
    "Posso agendar um atendimento presencial?",
    "Tenho uma audiência marcada para a semana que vem, podem me orientar?",
]
REPLIES = [
    "Olá! Sou do escritório e vou acompanhar o seu caso.",
    "Poderia nos enviar cópia do RG, CPF e um comprovante de residência?",
    "Agendamos uma consulta para amanhã às 14h, tudo bem?",
    "Recebemos os documentos. Vamos analisar e retornamos em breve.",
    "O prazo para a manifestação é de 15 dias úteis; já estamos cuidando disso.",
]
PRIVATE_NOTES = [
    "Cliente já atendido antes, verificar o histórico no sistema.",
    "Prazo processual próximo, priorizar.",
    "Conferir procuração antes de protocolar.",
]
EXTRA_LABELS = ["urgente", "prazo", "novo-cliente", "retorno"]
FIRST_NAMES = [
    "Maria", "José", "Antônio", "Francisca", "João", "Adriana", "Paulo", "Luciana",
    "Pedro", "Patrícia", "Lucas", "Aline", "Gabriel", "Camila", "Rodrigo", "Vanessa",
]  # fmt: skip
SURNAMES = [
    "da Silva", "dos Santos", "Oliveira", "Souza", "Rodrigues", "Ferreira",
    "Alves", "Pereira", "Gomes", "Ribeiro", "Carvalho", "Almeida",
]  # fmt: skip


class DemoData(BaseModel):
    """What :func:`seed_demo` created, for printing and for driving the account afterwards."""

    account_id: int
    api_token: str
    inbox_ids: dict[str, int]
    team_ids: dict[str, int]
    agent_ids: list[int]
    conversation_ids: list[int]


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return ".".join(part.lower() for part in plain.split() if part.isalpha())


def _random_contact(sim: Simulator, account_id: int, rng: random.Random) -> int:
    name = f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)}"
    phone = f"+55{rng.choice([11, 21, 31, 41, 51, 61, 71, 81])}9{rng.randrange(10**8):08d}"
    email = f"{_slug(name)}{rng.randrange(100)}@email.example" if rng.random() < 0.7 else None
    return sim.create_contact(account_id, name, email=email, phone_number=phone).id


def _new_conversation(sim: Simulator, account_id: int, rng: random.Random, contact_id: int | None = None) -> int:
    area = rng.choice(sorted(AREAS))
    inbox = rng.choice(sim.list_inboxes(account_id))
    contact = contact_id if contact_id is not None else _random_contact(sim, account_id, rng)
    labels = [f"area:{area}"] + ([rng.choice(EXTRA_LABELS)] if rng.random() < 0.3 else [])
    conversation = sim.create_conversation(
        account_id, inbox.id, contact, message=rng.choice(AREAS[area]), labels=labels
    )
    return conversation.display_id


def seed_demo(
    sim: Simulator,
    *,
    conversations: int = 36,
    seed: int = 1,
    api_token: str | None = None,
) -> DemoData:
    """Create a law office account: 3 inboxes (WhatsApp, e-mail, web chat), 6 agents in 3 teams and a
    few dozen conversations in every state."""
    rng = random.Random(seed)  # noqa: S311 - seeded on purpose, so the demo is reproducible
    account = sim.create_account("Silva & Associados Advocacia", api_token=api_token)
    assert account.api_token is not None
    aid = account.id
    people: list[tuple[str, Role, Availability]] = [
        ("Ana Beatriz Souza", "agent", "online"),
        ("Carlos Eduardo Lima", "agent", "online"),
        ("Fernanda Oliveira", "agent", "busy"),
        ("Rafael Costa", "agent", "online"),
        ("Juliana Martins", "agent", "offline"),
        ("Marcos Pereira", "administrator", "online"),
    ]
    agents = [
        sim.create_agent(aid, name, email=f"{_slug(name)}@silvaassociados.example", role=role, availability=status)
        for name, role, status in people
    ]
    ids = [agent.id for agent in agents]
    teams = {
        "Trabalhista": sim.create_team(aid, "Trabalhista", description="Direito do trabalho", members=ids[0:2]).id,
        "Cível e Família": sim.create_team(aid, "Cível e Família", description="Cível, consumidor e família", members=ids[2:4]).id,
        "Previdenciário e Tributário": sim.create_team(aid, "Previdenciário e Tributário", members=ids[4:6]).id,
    }  # fmt: skip
    inboxes = {
        "WhatsApp do Escritório": sim.create_inbox(aid, "WhatsApp do Escritório", "whatsapp", members=ids).id,
        "E-mail Atendimento": sim.create_inbox(aid, "E-mail Atendimento", "email", members=ids[0:1] + ids[2:6]).id,
        "Chat do Site": sim.create_inbox(aid, "Chat do Site", "web_widget", members=[ids[0], ids[1], ids[3], ids[4]]).id,
    }  # fmt: skip
    created: list[int] = []
    for _ in range(conversations):
        display_id = _new_conversation(sim, aid, rng)
        created.append(display_id)
        _evolve(sim, aid, display_id, rng, ids)
    return DemoData(
        account_id=aid,
        api_token=account.api_token,
        inbox_ids=inboxes,
        team_ids=teams,
        agent_ids=ids,
        conversation_ids=created,
    )


def _evolve(sim: Simulator, account_id: int, display_id: int, rng: random.Random, agent_ids: list[int]) -> None:
    """Move a fresh demo conversation to a random point of its life."""
    stage = rng.random()
    if stage < 0.3:
        return
    agent_id = rng.choice(agent_ids)
    sim.assign(account_id, display_id, agent_id)
    sim.add_message(account_id, display_id, rng.choice(REPLIES), message_type="outgoing", sender_id=agent_id)
    if rng.random() < 0.4:
        sim.add_message(account_id, display_id, rng.choice(FOLLOW_UPS))
    if rng.random() < 0.2:
        sim.add_message(account_id, display_id, rng.choice(PRIVATE_NOTES), message_type="outgoing", private=True)
    if rng.random() < 0.3:
        priorities: list[Priority] = ["low", "medium", "high", "urgent"]
        sim.set_priority(account_id, display_id, rng.choice(priorities))
    if stage > 0.75:
        sim.set_status(account_id, display_id, "resolved")
    elif stage > 0.68:
        sim.set_status(account_id, display_id, "pending")


class TrafficGenerator:
    """Random but plausible activity on one account, at about ``rate_per_minute`` actions per minute.

    ``start()`` runs it in a daemon thread; ``step()`` performs one action in the caller's thread and
    returns its name (tests drive it that way).
    """

    def __init__(
        self,
        sim: Simulator,
        *,
        account_id: int | None = None,
        rate_per_minute: float = 30.0,
        seed: int = 0,
    ) -> None:
        if rate_per_minute <= 0:
            raise ValueError("rate_per_minute must be positive")
        self._sim = sim
        self._account_id = account_id
        self._interval = 60.0 / rate_per_minute
        self._rng = random.Random(seed)  # noqa: S311 - seeded on purpose, so runs are reproducible
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._actions: list[tuple[float, Callable[[int], str]]] = [
            (20, self._new_conversation),
            (25, self._incoming),
            (20, self._reply),
            (4, self._private_note),
            (10, self._change_status),
            (6, self._change_priority),
            (5, self._change_labels),
            (5, self._change_assignee),
            (5, self._change_availability),
        ]

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="chatwoot-sim-traffic", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            try:
                self.step()
            except SimulatorError:
                # The account changed under us (a deleted conversation, say): skip this beat.
                logger.debug("traffic step skipped", exc_info=True)

    def step(self) -> str:
        account_id = self._account()
        weights = [weight for weight, _ in self._actions]
        action = self._rng.choices([action for _, action in self._actions], weights=weights)[0]
        return action(account_id)

    def _account(self) -> int:
        if self._account_id is None:
            accounts = self._sim.snapshot()["accounts"]
            if not accounts:
                raise SimulatorError("no account to generate traffic for")
            self._account_id = int(accounts[0]["id"])
        return self._account_id

    def _pick(self, account_id: int, statuses: tuple[str, ...]) -> Conversation | None:
        # Reads the tables in place: copying every conversation on every beat gets slow in long runs.
        with self._sim.locked() as store:
            candidates = [
                c.display_id
                for c in store.conversations.values()
                if c.account_id == account_id and c.status in statuses
            ]
        if not candidates:
            return None
        return self._sim.get_conversation(account_id, self._rng.choice(candidates))

    def _new_conversation(self, account_id: int) -> str:
        with self._sim.locked() as store:
            known = [c.id for c in store.contacts.values() if c.account_id == account_id]
        contact_id = self._rng.choice(known) if known and self._rng.random() < 0.2 else None
        _new_conversation(self._sim, account_id, self._rng, contact_id)
        return "new_conversation"

    def _incoming(self, account_id: int) -> str:
        statuses = ("open", "pending", "snoozed") if self._rng.random() < 0.9 else ("resolved",)
        conversation = self._pick(account_id, statuses)
        if conversation is None:
            return self._new_conversation(account_id)
        self._sim.add_message(account_id, conversation.display_id, self._rng.choice(FOLLOW_UPS))
        return "incoming_message"

    def _reply(self, account_id: int) -> str:
        conversation = self._pick(account_id, ("open", "pending"))
        if conversation is None:
            return "idle"
        sender = conversation.assignee_id or self._rng.choice(self._sim.list_agents(account_id)).id
        self._sim.add_message(
            account_id, conversation.display_id, self._rng.choice(REPLIES), message_type="outgoing", sender_id=sender
        )
        return "outgoing_message"

    def _private_note(self, account_id: int) -> str:
        conversation = self._pick(account_id, ("open", "pending", "snoozed"))
        if conversation is None:
            return "idle"
        self._sim.add_message(
            account_id,
            conversation.display_id,
            self._rng.choice(PRIVATE_NOTES),
            message_type="outgoing",
            private=True,
        )
        return "private_note"

    def _change_status(self, account_id: int) -> str:
        choice = self._rng.random()
        if choice < 0.6:
            conversation = self._pick(account_id, ("open", "pending"))
            if conversation is not None:
                self._sim.set_status(account_id, conversation.display_id, "resolved")
                return "resolve"
        elif choice < 0.8:
            conversation = self._pick(account_id, ("resolved", "snoozed"))
            if conversation is not None:
                self._sim.set_status(account_id, conversation.display_id, "open")
                return "reopen"
        else:
            conversation = self._pick(account_id, ("open",))
            if conversation is not None:
                until = self._sim.clock.now() + self._rng.choice([3600, 86_400])
                self._sim.set_status(account_id, conversation.display_id, "snoozed", snoozed_until=until)
                return "snooze"
        return "idle"

    def _change_priority(self, account_id: int) -> str:
        conversation = self._pick(account_id, ("open", "pending"))
        if conversation is None:
            return "idle"
        priorities: list[Priority | None] = ["low", "medium", "high", "urgent", None]
        self._sim.set_priority(account_id, conversation.display_id, self._rng.choice(priorities))
        return "priority"

    def _change_labels(self, account_id: int) -> str:
        conversation = self._pick(account_id, ("open", "pending", "snoozed"))
        if conversation is None:
            return "idle"
        labels = [label for label in conversation.labels if label.startswith("area:")]
        if self._rng.random() < 0.6:
            labels.append(self._rng.choice(EXTRA_LABELS))
        self._sim.set_labels(account_id, conversation.display_id, labels)
        return "labels"

    def _change_assignee(self, account_id: int) -> str:
        conversation = self._pick(account_id, ("open", "pending"))
        if conversation is None:
            return "idle"
        agents = [agent.id for agent in self._sim.list_agents(account_id) if agent.role == "agent"]
        agent_id = self._rng.choice(agents) if agents and self._rng.random() < 0.85 else None
        self._sim.assign(account_id, conversation.display_id, agent_id)
        return "assign"

    def _change_availability(self, account_id: int) -> str:
        agent = self._rng.choice(self._sim.list_agents(account_id))
        choices: list[Availability] = ["online", "online", "busy", "offline"]
        self._sim.set_agent_availability(account_id, agent.id, self._rng.choice(choices))
        return "availability"
