"""The Chatwoot reads the sync makes, counted for the run's report."""

from __future__ import annotations

import threading

from ..chatwoot.client import ChatwootClient
from ..chatwoot.models import Agent, Conversation, ConversationPage, Inbox, MessagesPage, Team


class MeteredClient:
    """Delegates to a :class:`ChatwootClient` and counts calls (a call the client retried counts once).

    Safe to share with the full pass's read-ahead thread (the client and its httpx pool are thread-safe).
    """

    def __init__(self, client: ChatwootClient) -> None:
        self._client = client
        self._lock = threading.Lock()
        self._requests = 0

    @property
    def requests(self) -> int:
        with self._lock:
            return self._requests

    def _count(self) -> None:
        with self._lock:
            self._requests += 1

    def list_agents(self) -> list[Agent]:
        self._count()
        return self._client.list_agents()

    def list_inboxes(self) -> list[Inbox]:
        self._count()
        return self._client.list_inboxes()

    def list_inbox_members(self, inbox_id: int) -> list[Agent]:
        self._count()
        return self._client.list_inbox_members(inbox_id)

    def list_teams(self) -> list[Team]:
        self._count()
        return self._client.list_teams()

    def list_team_members(self, team_id: int) -> list[Agent]:
        self._count()
        return self._client.list_team_members(team_id)

    def conversations_page(self, page: int) -> ConversationPage:
        """One page of every conversation, oldest first: a page already read only shifts when a conversation
        before it is deleted, never when one is updated or created (the default activity order moves both)."""
        self._count()
        return self._client.list_conversations(status="all", page=page, sort_by="created_at_asc")

    def conversations_updated_within(self, seconds: int) -> ConversationPage:
        """Every conversation, whatever its status, updated in the last ``seconds`` (one unpaged answer)."""
        self._count()
        return self._client.list_conversations(status="all", updated_within=seconds)

    def get_conversation(self, display_id: int) -> Conversation:
        self._count()
        return self._client.get_conversation(display_id)

    def messages_after(self, display_id: int, after: int) -> MessagesPage:
        self._count()
        return self._client.list_messages(display_id, after=after)
