"""The platform's use cases on conversations: list, read, change (Chatwoot first), delete, re-sync."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ..api.schemas import AgentSummary, ConversationDetail, ConversationPatch
from ..chatwoot import ChatwootClient, ChatwootError, ChatwootNotFound, UnknownAgentError
from ..db import Database
from ..errors import NotFound, UnprocessableEntity, UpstreamError
from ..models.change import NewChange
from ..models.conversation import Conversation, ConversationFilter, SortKey
from ..repositories.agents import AgentRepository
from ..repositories.changes import ChangeRepository
from ..repositories.conversations import ConversationRepository, decode_cursor, encode_cursor
from ..repositories.parties import PartyRepository
from ..secrets import utcnow
from .chatwoot_clients import ChatwootClients
from .mirror import mirror_conversations, state_from_rest


@contextmanager
def chatwoot_errors(action: str) -> Iterator[None]:
    """Chatwoot refused or failed: the caller gets a 502 with Chatwoot's reason, the mirror stays as it was."""
    try:
        yield
    except UnknownAgentError as exc:
        raise UnprocessableEntity(str(exc.message), details=[{"field": "assignee_id"}]) from exc
    except ChatwootError as exc:
        details = {"chatwoot_status": exc.status_code} if exc.status_code else None
        raise UpstreamError(f"Chatwoot did not {action}: {exc.message}", details=details) from exc


class ConversationService:
    def __init__(self, database: Database, clients: ChatwootClients, clock: Callable[[], datetime] = utcnow) -> None:
        self._database = database
        self._clients = clients
        self._clock = clock

    def list(
        self, account_id: int, filters: ConversationFilter, *, sort: SortKey, limit: int, cursor: str | None
    ) -> tuple[list[Conversation], str | None]:
        after = decode_cursor(cursor, sort) if cursor else None
        with self._database.transaction() as conn:
            items, next_key = ConversationRepository(conn).list_page(
                account_id, filters, sort=sort, limit=limit, after=after
            )
        return items, encode_cursor(sort, next_key) if next_key else None

    def get(self, account_id: int, conversation_id: int) -> ConversationDetail:
        with self._database.transaction() as conn:
            conversation = ConversationRepository(conn).get(account_id, conversation_id)
            if conversation is None:
                raise NotFound(f"conversation {conversation_id} not found")
            return self._detail(conn, conversation)

    def update(
        self, account_id: int, conversation_id: int, patch: ConversationPatch, *, actor: str
    ) -> ConversationDetail:
        fields = patch.model_fields_set
        self._require(account_id, conversation_id)
        if "assignee_id" in fields and patch.assignee_id is not None:
            self._require_agent(account_id, patch.assignee_id)
        remote = fields & {"status", "priority", "assignee_id", "labels"}
        fresh = None
        if remote:
            _, client = self._clients.for_account(account_id)
            with chatwoot_errors("accept the change"):
                self._write_through(client, conversation_id, patch, fields)
                fresh = client.get_conversation(conversation_id)
        with self._database.transaction() as conn:
            repo = ConversationRepository(conn)
            if fresh is not None:
                mirror_conversations(conn, [state_from_rest(account_id, fresh)], actor=actor, mark_synced=True)
                if "assignee_id" in fields and patch.assignee_id is not None:
                    AgentRepository(conn).update(account_id, patch.assignee_id, {"last_assigned_at": self._clock()})
            if "parte_id" in fields:
                self._link_party(conn, account_id, conversation_id, patch.parte_id, actor)
            conversation = repo.get(account_id, conversation_id)
            if conversation is None:
                raise NotFound(f"conversation {conversation_id} not found")
            return self._detail(conn, conversation)

    def delete(self, account_id: int, conversation_id: int, *, actor: str) -> None:
        with self._database.transaction() as conn:
            deleted = ConversationRepository(conn).soft_delete(account_id, conversation_id, by="api")
            if deleted is None:
                raise NotFound(f"conversation {conversation_id} not found")
            ChangeRepository(conn).append(
                [
                    NewChange(
                        account_id=account_id, type="conversation.deleted", actor=actor, conversation_id=conversation_id
                    )
                ]
            )

    def resync(self, account_id: int, conversation_id: int, *, actor: str) -> ConversationDetail:
        """Re-read one conversation from Chatwoot now. Gone in Chatwoot means gone from the mirror (404)."""
        _, client = self._clients.for_account(account_id)
        try:
            with chatwoot_errors("return the conversation"):
                fresh = client.get_conversation(conversation_id)
        except UpstreamError as exc:
            if isinstance(exc.__cause__, ChatwootNotFound):
                with self._database.transaction() as conn:
                    if ConversationRepository(conn).soft_delete(account_id, conversation_id, by="sync"):
                        ChangeRepository(conn).append(
                            [
                                NewChange(
                                    account_id=account_id,
                                    type="conversation.deleted",
                                    actor=actor,
                                    conversation_id=conversation_id,
                                    data={"reason": "not found in Chatwoot"},
                                )
                            ]
                        )
                raise NotFound(f"conversation {conversation_id} does not exist in Chatwoot") from exc
            raise
        with self._database.transaction() as conn:
            mirror_conversations(conn, [state_from_rest(account_id, fresh)], actor=actor, mark_synced=True)
            conversation = ConversationRepository(conn).get(account_id, conversation_id)
            if conversation is None:  # deleted by the platform: stays deleted
                raise NotFound(f"conversation {conversation_id} not found")
            return self._detail(conn, conversation)

    def _write_through(
        self, client: ChatwootClient, conversation_id: int, patch: ConversationPatch, fields: set[str]
    ) -> None:
        if "status" in fields and patch.status is not None:
            snooze = int(patch.snoozed_until.timestamp()) if patch.snoozed_until and patch.status == "snoozed" else None
            client.toggle_status(conversation_id, patch.status, snoozed_until=snooze)
        if "priority" in fields:
            client.toggle_priority(conversation_id, patch.priority)
        if "assignee_id" in fields:
            if patch.assignee_id is None:
                client.unassign(conversation_id)
            else:
                client.assign_agent(conversation_id, patch.assignee_id)
        if "labels" in fields and patch.labels is not None:
            client.set_labels(conversation_id, patch.labels)

    def _require(self, account_id: int, conversation_id: int) -> Conversation:
        with self._database.transaction() as conn:
            conversation = ConversationRepository(conn).get(account_id, conversation_id)
        if conversation is None:
            raise NotFound(f"conversation {conversation_id} not found")
        return conversation

    def _require_agent(self, account_id: int, agent_id: int) -> None:
        with self._database.transaction() as conn:
            agent = AgentRepository(conn).get(account_id, agent_id)
        if agent is None or not agent.active:
            raise UnprocessableEntity(
                f"agent {agent_id} is not an agent of account {account_id}", details=[{"field": "assignee_id"}]
            )

    def _link_party(self, conn: Any, account_id: int, conversation_id: int, parte_id: str | None, actor: str) -> None:
        repo = ConversationRepository(conn)
        before = repo.get(account_id, conversation_id)
        if before is None or before.parte_id == parte_id:
            return
        repo.update_local(account_id, conversation_id, {"parte_id": parte_id})
        if parte_id is not None and before.contact_id is not None:
            # Later conversations of the same contact inherit the party.
            PartyRepository(conn).link(account_id, before.contact_id, parte_id)
        ChangeRepository(conn).append(
            [
                NewChange(
                    account_id=account_id,
                    type="conversation.updated",
                    actor=actor,
                    conversation_id=conversation_id,
                    data={"changes": {"parte_id": {"from": before.parte_id, "to": parte_id}}},
                )
            ]
        )

    def _detail(self, conn: Any, conversation: Conversation) -> ConversationDetail:
        assignee = None
        if conversation.assignee_id is not None:
            agent = AgentRepository(conn).get(conversation.account_id, conversation.assignee_id)
            if agent is not None:
                assignee = AgentSummary(
                    agent_id=agent.agent_id, name=agent.name, email=agent.email, availability=agent.availability
                )
        contact = party = None
        if conversation.contact_id is not None:
            parties = PartyRepository(conn)
            contact = parties.get_contact(conversation.account_id, conversation.contact_id)
            party = parties.get_link(conversation.account_id, conversation.contact_id)
        return ConversationDetail(**conversation.model_dump(), assignee=assignee, contact=contact, party=party)
