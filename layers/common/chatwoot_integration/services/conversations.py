"""The platform's use cases on conversations: list, read, change (Chatwoot first), delete, re-sync.

A change that Chatwoot owns (status, priority, assignee, labels) is written to Chatwoot first; only once
Chatwoot accepted it does one unit of work write the mirror's row and its change events, so the mirror never
claims a change Chatwoot refused. If that unit of work fails after Chatwoot accepted, the caller is told so
(:class:`MirrorPending`) and the next sync brings the mirror up to date: the change moved the conversation's
``updated_at`` in Chatwoot, which is what the incremental sync reads.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

from ..chatwoot.client import ChatwootClient
from ..chatwoot.errors import ChatwootError, ChatwootNotFound, UnknownAgentError
from ..clock import utcnow
from ..errors import Conflict, DomainError, MirrorPending, NotFound, UnprocessableEntity, UpstreamError
from ..mapping import conversation_state
from ..models.actor import Actor
from ..models.agent import AgentSummary
from ..models.change import NewChange
from ..models.conversation import (
    Conversation,
    ConversationDetail,
    ConversationFilter,
    ConversationPatch,
    SortKey,
)
from ..observability import logger
from ..repositories.conversations import decode_cursor, encode_cursor
from ..uow import UnitOfWork, UnitOfWorkFactory
from .chatwoot_clients import ChatwootClients
from .mirror import mirror_conversations

CHATWOOT_FIELDS = frozenset({"status", "priority", "assignee_id", "labels"})


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
    def __init__(
        self, unit_of_work: UnitOfWorkFactory, clients: ChatwootClients, clock: Callable[[], datetime] = utcnow
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clients = clients
        self._clock = clock

    def list(
        self, integration_id: int, filters: ConversationFilter, *, sort: SortKey, limit: int, cursor: str | None
    ) -> tuple[list[Conversation], str | None]:
        after = decode_cursor(cursor, sort) if cursor else None
        with self._unit_of_work(read_only=True) as uow:
            items, next_key = uow.conversations.list_page(integration_id, filters, sort=sort, limit=limit, after=after)
        return items, encode_cursor(sort, next_key) if next_key else None

    def get(self, integration_id: int, conversation_id: int) -> ConversationDetail:
        with self._unit_of_work(read_only=True) as uow:
            return _detail(uow, _require(uow, integration_id, conversation_id))

    def update(
        self, integration_id: int, conversation_id: int, patch: ConversationPatch, *, actor: Actor
    ) -> ConversationDetail:
        """Apply ``patch``: Chatwoot's fields through Chatwoot, then the mirror in one unit of work."""
        fields = patch.model_fields_set
        with self._unit_of_work(read_only=True) as uow:
            _require(uow, integration_id, conversation_id)
            if "assignee_id" in fields and patch.assignee_id is not None:
                _require_agent(uow, integration_id, patch.assignee_id)
        fresh = None
        if fields & CHATWOOT_FIELDS:
            _, client = self._clients.for_integration_id(integration_id)
            with chatwoot_errors("accept the change"):
                _write_through(client, conversation_id, patch, fields)
                fresh = client.get_conversation(conversation_id)
        try:
            with self._unit_of_work() as uow:
                if fresh is not None:
                    state = conversation_state(integration_id, fresh)
                    mirror_conversations(uow, [state], actor=actor.sub, mark_synced=True)
                    if "assignee_id" in fields and patch.assignee_id is not None:
                        uow.agents.update(integration_id, patch.assignee_id, {"last_assigned_at": self._clock()})
                if "parte_id" in fields:
                    _link_party(uow, integration_id, conversation_id, patch.parte_id, actor.sub)
                detail = _detail(uow, _require(uow, integration_id, conversation_id))
        except DomainError:
            raise
        except Exception as error:
            if fresh is None:
                raise
            logger.warning(
                "Chatwoot accepted a change the mirror could not record; the next sync repairs it",
                extra={
                    "integration_id": integration_id,
                    "conversation_id": conversation_id,
                    "error_type": type(error).__name__,
                },
            )
            raise MirrorPending(
                "Chatwoot accepted the change, but the mirror could not record it now; "
                "the next sync brings the mirror up to date",
                details={"chatwoot": "accepted", "fields": sorted(fields & CHATWOOT_FIELDS)},
            ) from error
        not_applied = _not_applied(patch, fields, detail)
        if not_applied:
            # The mirror now holds what Chatwoot holds (committed above); the caller learns what differs.
            names = ", ".join(d["field"] for d in not_applied)
            raise Conflict(
                f"Chatwoot answered with other values than asked for {names}; the mirror holds Chatwoot's",
                details=not_applied,
            )
        return detail

    def delete(self, integration_id: int, conversation_id: int, *, actor: Actor) -> None:
        with self._unit_of_work() as uow:
            if uow.conversations.soft_delete(integration_id, conversation_id, by="api") is None:
                raise NotFound(f"conversation {conversation_id} not found")
            uow.changes.append([_deleted(integration_id, conversation_id, actor.sub)])

    def resync(self, integration_id: int, conversation_id: int, *, actor: Actor) -> ConversationDetail:
        """Re-read one conversation from Chatwoot now. Gone in Chatwoot means gone from the mirror (404)."""
        _, client = self._clients.for_integration_id(integration_id)
        try:
            with chatwoot_errors("return the conversation"):
                fresh = client.get_conversation(conversation_id)
        except UpstreamError as exc:
            if isinstance(exc.__cause__, ChatwootNotFound):
                with self._unit_of_work() as uow:
                    if uow.conversations.soft_delete(integration_id, conversation_id, by="sync"):
                        uow.changes.append(
                            [_deleted(integration_id, conversation_id, actor.sub, reason="not found in Chatwoot")]
                        )
                raise NotFound(f"conversation {conversation_id} does not exist in Chatwoot") from exc
            raise
        with self._unit_of_work() as uow:
            mirror_conversations(uow, [conversation_state(integration_id, fresh)], actor=actor.sub, mark_synced=True)
            # Deleted by the platform: stays deleted, and is not found.
            return _detail(uow, _require(uow, integration_id, conversation_id))


def _write_through(client: ChatwootClient, conversation_id: int, patch: ConversationPatch, fields: set[str]) -> None:
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


def _not_applied(patch: ConversationPatch, fields: set[str], detail: ConversationDetail) -> list[dict[str, Any]]:
    """The Chatwoot fields whose value after the write is not the one asked for (an assignment Chatwoot answered
    with nobody because the agent left the inbox meanwhile, a status it kept)."""
    differences = []
    for name in sorted(fields & CHATWOOT_FIELDS):
        asked, held = getattr(patch, name), getattr(detail, name)
        if name == "labels":
            asked, held = sorted(asked or []), sorted(held or [])
        if asked != held:
            differences.append({"field": name, "requested": asked, "chatwoot": held})
    return differences


def _require(uow: UnitOfWork, integration_id: int, conversation_id: int) -> Conversation:
    conversation = uow.conversations.get(integration_id, conversation_id)
    if conversation is None:
        raise NotFound(f"conversation {conversation_id} not found")
    return conversation


def _require_agent(uow: UnitOfWork, integration_id: int, agent_id: int) -> None:
    agent = uow.agents.get(integration_id, agent_id)
    if agent is None or not agent.active:
        raise UnprocessableEntity.not_an_agent(agent_id, integration_id, field="assignee_id")


def _link_party(uow: UnitOfWork, integration_id: int, conversation_id: int, parte_id: str | None, actor: str) -> None:
    before = uow.conversations.get(integration_id, conversation_id)
    if before is None or before.parte_id == parte_id:
        return
    uow.conversations.update_local(integration_id, conversation_id, {"parte_id": parte_id})
    if parte_id is not None and before.contact_id is not None:
        # Later conversations of the same contact inherit the party.
        uow.parties.link(integration_id, before.contact_id, parte_id)
    uow.changes.append(
        [
            NewChange(
                integration_id=integration_id,
                type="conversation.updated",
                actor=actor,
                conversation_id=conversation_id,
                data={"changes": {"parte_id": {"from": before.parte_id, "to": parte_id}}},
            )
        ]
    )


def _deleted(integration_id: int, conversation_id: int, actor: str, *, reason: str | None = None) -> NewChange:
    return NewChange(
        integration_id=integration_id,
        type="conversation.deleted",
        actor=actor,
        conversation_id=conversation_id,
        data={"reason": reason} if reason else {},
    )


def _detail(uow: UnitOfWork, conversation: Conversation) -> ConversationDetail:
    assignee = None
    if conversation.assignee_id is not None:
        agent = uow.agents.get(conversation.integration_id, conversation.assignee_id)
        if agent is not None:
            assignee = AgentSummary.of(agent)
    contact = party = None
    if conversation.contact_id is not None:
        contact = uow.parties.get_contact(conversation.integration_id, conversation.contact_id)
        party = uow.parties.get_link(conversation.integration_id, conversation.contact_id)
    return ConversationDetail(**conversation.model_dump(), assignee=assignee, contact=contact, party=party)
