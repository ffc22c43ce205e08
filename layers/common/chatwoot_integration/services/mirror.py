"""Writing Chatwoot's truth into the mirror, with the change events that describe what moved.

Every path that writes conversations (webhooks, the scheduled sync, the API's write-through and re-read)
goes through :func:`mirror_conversations`, so the ordering guard and the events are the same everywhere.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..db import Connection
from ..models.change import NewChange
from ..models.conversation import ConversationState, UpsertOutcome
from ..repositories.changes import ChangeRepository
from ..repositories.conversations import ConversationRepository

if TYPE_CHECKING:
    from ..chatwoot.models import Conversation as RestConversation


def mirror_conversations(
    conn: Connection, states: Sequence[ConversationState], *, actor: str, mark_synced: bool
) -> list[UpsertOutcome]:
    """Upsert ``states`` (guarded by Chatwoot's ``updated_at``) and append a change event per real change."""
    outcomes = ConversationRepository(conn).upsert_many(states, mark_synced=mark_synced)
    by_key = {s.conversation_id: s.account_id for s in states}
    ChangeRepository(conn).append(
        [event for o in outcomes for event in conversation_events(by_key[o.conversation_id], o, actor)]
    )
    return outcomes


def conversation_events(account_id: int, outcome: UpsertOutcome, actor: str) -> list[NewChange]:
    if outcome.inserted:
        return [
            NewChange(
                account_id=account_id,
                type="conversation.created",
                actor=actor,
                conversation_id=outcome.conversation_id,
                data=dict(outcome.current or {}),
            )
        ]
    if not outcome.changed or outcome.previous is None or outcome.current is None:
        return []
    changes = {
        field: {"from": outcome.previous.get(field), "to": value}
        for field, value in outcome.current.items()
        if _normal(outcome.previous.get(field)) != _normal(value) and field != "deleted"
    }
    events = []
    if outcome.previous.get("deleted") and not outcome.current.get("deleted"):
        events.append(
            NewChange(
                account_id=account_id,
                type="conversation.restored",
                actor=actor,
                conversation_id=outcome.conversation_id,
            )
        )
    if changes:
        events.append(
            NewChange(
                account_id=account_id,
                type="conversation.updated",
                actor=actor,
                conversation_id=outcome.conversation_id,
                data={"changes": changes},
            )
        )
    return events


def state_from_rest(account_id: int, conversation: RestConversation) -> ConversationState:
    """The mirror's view of a conversation as Chatwoot's REST API returns it."""
    # The REST models load only where REST is used (the processor never needs them).
    from ..chatwoot.models import unix_to_datetime  # noqa: PLC0415

    assignee_is_bot = (conversation.meta.assignee_type or "User") == "AgentBot"
    created_at = conversation.created_at or conversation.timestamp
    if created_at is None or conversation.updated_at is None:
        raise ValueError(f"conversation {conversation.id} lacks created_at or updated_at")
    return ConversationState(
        account_id=account_id,
        conversation_id=conversation.id,
        inbox_id=conversation.inbox_id,
        contact_id=conversation.contact_id,
        status=conversation.status,
        priority=conversation.priority,
        assignee_id=None if assignee_is_bot else conversation.assignee_id,
        agent_bot_id=conversation.assignee_id if assignee_is_bot else None,
        team_id=conversation.team_id,
        labels=tuple(conversation.labels),
        custom_attributes=conversation.custom_attributes,
        unread_count=conversation.unread_count,
        last_activity_at=conversation.last_activity_at or created_at,
        waiting_since=conversation.waiting_since,
        snoozed_until=conversation.snoozed_until,
        first_reply_created_at=conversation.first_reply_created_at,
        chatwoot_created_at=created_at,
        chatwoot_updated_at=unix_to_datetime(conversation.updated_at),
    )


def _normal(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value
