"""Reading the installation back: copies of records, the two JSON shapes, and a plain-data snapshot.

Everything handed out is a copy, so callers may keep and change what they read without touching the
simulator's tables (REST views, which must not pay for copies, read the tables under ``locked()``).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from chatwoot_simulator.core import SimulatorCore, clone
from chatwoot_simulator.presenters import rest_conversation
from chatwoot_simulator.state import Account, Agent, Contact, Conversation, Inbox, Message, Team
from chatwoot_simulator.webhook_data import conversation_webhook_data

JSON = dict[str, Any]


class QueriesMixin(SimulatorCore):
    def authenticate(self, token: str) -> Agent | None:
        with self._lock:
            agent_id = self._store.tokens.get(token)
            return clone(self._store.agents[agent_id]) if agent_id is not None else None

    def get_account(self, account_id: int) -> Account:
        with self._lock:
            return clone(self._store.account(account_id))

    def get_conversation(self, account_id: int, display_id: int) -> Conversation:
        with self._lock:
            return clone(self._store.conversation(account_id, display_id))

    def list_conversations(self, account_id: int) -> list[Conversation]:
        with self._lock:
            return [
                clone(conversation)
                for conversation in self._store.conversations.values()
                if conversation.account_id == account_id
            ]

    def get_messages(self, account_id: int, display_id: int) -> list[Message]:
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            return [clone(message) for message in self._store.conversation_messages(conversation)]

    def get_agent(self, account_id: int, agent_id: int) -> Agent:
        with self._lock:
            return clone(self._store.agent(account_id, agent_id))

    def list_agents(self, account_id: int) -> list[Agent]:
        with self._lock:
            return [clone(agent) for agent in self._store.agents_of(account_id)]

    def get_contact(self, account_id: int, contact_id: int) -> Contact:
        with self._lock:
            return clone(self._store.contact(account_id, contact_id))

    def get_inbox(self, account_id: int, inbox_id: int) -> Inbox:
        with self._lock:
            return clone(self._store.inbox(account_id, inbox_id))

    def list_inboxes(self, account_id: int) -> list[Inbox]:
        with self._lock:
            return [clone(i) for i in self._store.inboxes.values() if i.account_id == account_id]

    def get_team(self, account_id: int, team_id: int) -> Team:
        with self._lock:
            return clone(self._store.team(account_id, team_id))

    def list_teams(self, account_id: int) -> list[Team]:
        with self._lock:
            return [clone(t) for t in self._store.teams.values() if t.account_id == account_id]

    def rest_conversation(self, account_id: int, display_id: int) -> JSON:
        """The conversation exactly as ``GET …/conversations/{display_id}`` returns it."""
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            return rest_conversation(self._store, conversation, viewer_id=None)

    def conversation_webhook_data(self, account_id: int, display_id: int, *, include_account: bool = True) -> JSON:
        """The conversation as webhooks carry it now (without ``event``)."""
        with self._lock:
            conversation = self._store.conversation(account_id, display_id)
            return conversation_webhook_data(self._store, conversation, include_account=include_account)

    def snapshot(self) -> JSON:
        """Every table as plain JSON-ready data (conversations also carry their float ``updated_at``)."""
        with self._lock:
            store = self._store
            conversations = []
            for conversation in store.conversations.values():
                row = dataclasses.asdict(conversation)
                row["updated_at"] = conversation.updated_at
                conversations.append(row)
            return {
                "accounts": [dataclasses.asdict(a) for a in store.accounts.values()],
                "agents": [dataclasses.asdict(a) for a in store.agents.values()],
                "inboxes": [dataclasses.asdict(i) for i in store.inboxes.values()],
                "teams": [dataclasses.asdict(t) for t in store.teams.values()],
                "contacts": [dataclasses.asdict(c) for c in store.contacts.values()],
                "contact_inboxes": [dataclasses.asdict(c) for c in store.contact_inboxes.values()],
                "conversations": conversations,
                "messages": [dataclasses.asdict(m) for m in store.messages.values()],
            }
