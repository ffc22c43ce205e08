"""Writing Chatwoot's truth into the mirror, with the change events that describe what moved.

Every path that writes conversations (webhooks, the scheduled sync, the API's write-through and re-read)
goes through :func:`mirror_conversations`, in the caller's unit of work, so the ordering guard and the events
are the same everywhere. Chatwoot's shapes become :class:`ConversationState` in ``mapping``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..models.change import NewChange
from ..models.conversation import ConversationState, UpsertOutcome
from ..uow import UnitOfWork


def mirror_conversations(
    uow: UnitOfWork, states: Sequence[ConversationState], *, actor: str, mark_synced: bool
) -> list[UpsertOutcome]:
    """Upsert ``states`` (guarded by Chatwoot's ``updated_at``) and append a change event per real change."""
    outcomes, events = upsert_conversations(uow, states, actor=actor, mark_synced=mark_synced)
    uow.changes.append(events)
    return outcomes


def upsert_conversations(
    uow: UnitOfWork, states: Sequence[ConversationState], *, actor: str, mark_synced: bool
) -> tuple[list[UpsertOutcome], list[NewChange]]:
    """The guarded upsert of :func:`mirror_conversations`, returning the change events for the caller to append
    with the rest of its unit of work's (an ingest batch appends all of its events in one statement)."""
    outcomes = uow.conversations.upsert_many(states, mark_synced=mark_synced)
    events = [event for o in outcomes for event in conversation_events(o.integration_id, o, actor)]
    return outcomes, events


def conversation_events(integration_id: int, outcome: UpsertOutcome, actor: str) -> list[NewChange]:
    """What one upsert outcome tells the feed: created, restored, and/or updated (with each field's from/to)."""

    def event(kind: str, data: dict[str, Any] | None = None) -> NewChange:
        return NewChange(
            integration_id=integration_id,
            type=f"conversation.{kind}",
            actor=actor,
            conversation_id=outcome.conversation_id,
            data=data or {},
        )

    if outcome.inserted:
        return [event("created", dict(outcome.current or {}))]
    if not outcome.changed or outcome.previous is None or outcome.current is None:
        return []
    changes = {
        field: {"from": outcome.previous.get(field), "to": value}
        for field, value in outcome.current.items()
        if _normal(outcome.previous.get(field)) != _normal(value) and field != "deleted"
    }
    events = []
    if outcome.previous.get("deleted") and not outcome.current.get("deleted"):
        events.append(event("restored"))
    if changes:
        events.append(event("updated", {"changes": changes}))
    return events


def _normal(value: Any) -> Any:
    return list(value) if isinstance(value, list | tuple) else value
