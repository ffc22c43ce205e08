"""The tables of one simulated Chatwoot installation, with lookups that raise :class:`NotFoundError`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol, TypeVar

from chatwoot_simulator.state import (
    Account,
    Agent,
    Contact,
    ContactInbox,
    Conversation,
    Inbox,
    Message,
    NotFoundError,
    Team,
)

T = TypeVar("T")


class _Owned(Protocol):
    @property
    def account_id(self) -> int: ...


OwnedT = TypeVar("OwnedT", bound=_Owned)


@dataclass
class Store:
    accounts: dict[int, Account] = field(default_factory=dict)
    agents: dict[int, Agent] = field(default_factory=dict)
    inboxes: dict[int, Inbox] = field(default_factory=dict)
    teams: dict[int, Team] = field(default_factory=dict)
    contacts: dict[int, Contact] = field(default_factory=dict)
    contact_inboxes: dict[int, ContactInbox] = field(default_factory=dict)
    conversations: dict[int, Conversation] = field(default_factory=dict)
    messages: dict[int, Message] = field(default_factory=dict)
    # (account_id, display_id) -> conversation pk
    display_index: dict[tuple[int, int], int] = field(default_factory=dict)
    tokens: dict[str, int] = field(default_factory=dict)

    def account(self, account_id: int) -> Account:
        return _get(self.accounts, account_id, "account")

    def agent(self, account_id: int, agent_id: int) -> Agent:
        return _get_in_account(self.agents, agent_id, "agent", account_id)

    def inbox(self, account_id: int, inbox_id: int) -> Inbox:
        return _get_in_account(self.inboxes, inbox_id, "inbox", account_id)

    def team(self, account_id: int, team_id: int) -> Team:
        return _get_in_account(self.teams, team_id, "team", account_id)

    def contact(self, account_id: int, contact_id: int) -> Contact:
        return _get_in_account(self.contacts, contact_id, "contact", account_id)

    def conversation(self, account_id: int, display_id: int) -> Conversation:
        pk = self.display_index.get((account_id, display_id))
        if pk is None:
            raise NotFoundError(f"conversation {display_id} not found in account {account_id}")
        return self.conversations[pk]

    def conversation_messages(self, conversation: Conversation) -> list[Message]:
        return [self.messages[message_id] for message_id in conversation.message_ids]

    def agents_of(self, account_id: int) -> list[Agent]:
        return [agent for agent in self.agents.values() if agent.account_id == account_id]


def _get(table: dict[int, T], key: int, kind: str) -> T:
    try:
        return table[key]
    except KeyError:
        raise NotFoundError(f"{kind} {key} not found") from None


def _get_in_account(table: dict[int, OwnedT], key: int, kind: str, account_id: int) -> OwnedT:
    """Another account's record is as unknown as a missing one, as in Chatwoot (its queries are account-scoped)."""
    record = _get(table, key, kind)
    if record.account_id != account_id:
        raise NotFoundError(f"{kind} {key} not found in account {account_id}")
    return record
