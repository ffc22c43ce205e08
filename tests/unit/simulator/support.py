"""Shared values and records of the simulator tests."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from chatwoot_simulator.state import Account, Agent, Contact, Inbox, Team

START = 1_781_690_000.0


@dataclass
class World:
    """One account with an administrator token, two inboxes, two agents in a team, one contact."""

    account: Account
    token: str
    site: Inbox
    whatsapp: Inbox
    ana: Agent
    bruno: Agent
    team: Team
    contact: Contact


@dataclass
class Receiver:
    """A local HTTP endpoint that records webhook POSTs and answers with ``status``."""

    url: str
    status: int = 200
    requests: list[tuple[dict[str, str], bytes]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
