"""The webhook deliveries of the ingest and memory benchmarks: short conversation lives, as Chatwoot sends them,
many in progress at once."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from tests.fixtures.chatwoot_payloads import (
    contact_payload,
    conversation_payload,
    load_fixture,
    message_payload,
    raw_body,
)

ACTIVE_CONVERSATIONS = 25
DELIVERIES_PER_CONVERSATION = 11
START = 1_781_691_000


def interleaved_events(total: int) -> Iterator[bytes]:
    """``total`` bodies from conversations 1, 2, 3…, ``ACTIVE_CONVERSATIONS`` of them in progress at any time,
    each built when it starts (so only the active ones are held)."""
    active: list[Iterator[bytes]] = []
    next_conversation = 1
    produced = 0
    turn = 0
    while produced < total:
        while len(active) < ACTIVE_CONVERSATIONS:
            active.append(iter(conversation_life(next_conversation)))
            next_conversation += 1
        # A fixed stride over the active lives interleaves them without a random generator.
        turn = (turn + 7) % len(active)
        body = next(active[turn], None)
        if body is None:
            active.pop(turn)
            continue
        produced += 1
        yield body


def conversation_life(conversation_id: int) -> list[bytes]:
    """The deliveries of one short conversation, with its own ids and times: created, the first message with the
    ``contact_updated`` and typing noise Chatwoot sends along, assignment, a reply, a private note, resolution
    (``conversation_status_changed`` and ``conversation_updated``), a thank-you, and a follow-up that reopens."""
    start = START + conversation_id * 30
    contact_id = 500_000 + conversation_id
    first_message = conversation_id * DELIVERIES_PER_CONVERSATION
    agent = 21 + conversation_id % 5

    def state(step: int, event: str | None, **values: Any) -> dict[str, Any]:
        return conversation_payload(
            conversation_id=conversation_id,
            contact_id=contact_id,
            event=event,
            updated_at=start + step + 0.25,
            last_activity_at=start + step,
            messages=[],
            **values,
        )

    def at(offset: int) -> datetime:
        return datetime.fromtimestamp(start + offset, UTC)

    def message(offset: int, n: int, **values: Any) -> bytes:
        return raw_body(
            message_payload(
                conversation_id=conversation_id,
                message_id=first_message + n,
                created_at=at(offset),
                conversation=state(offset, None, **values.pop("conversation_values", {})),
                **values,
            )
        )

    assigned: dict[str, Any] = {"assignee_id": agent, "labels": ["trabalhista"]}
    noise = contact_payload(
        contact_id=contact_id,
        event="contact_updated",
        changed_attributes=[{"last_activity_at": {"previous_value": None, "current_value": at(1).isoformat()}}],
    )
    typing = load_fixture("conversation_typing_on")
    typing["conversation"] = state(1, None)
    return [
        raw_body(state(0, "conversation_created")),
        message(1, 0, content=f"Preciso de ajuda com o processo {conversation_id}."),
        raw_body(noise),
        raw_body(typing),
        raw_body(state(2, "conversation_updated", **assigned)),
        message(3, 1, message_type="outgoing", sender="user", content="Cuido disso.", conversation_values=assigned),
        message(
            4,
            2,
            message_type="outgoing",
            sender="user",
            private=True,
            content="Ver procuração.",
            conversation_values=assigned,
        ),
        raw_body(state(5, "conversation_status_changed", status="resolved", **assigned)),
        raw_body(state(5, "conversation_updated", status="resolved", **assigned)),
        message(6, 3, content="Obrigado!", conversation_values={"status": "resolved", **assigned}),
        raw_body(state(7, "conversation_updated", status="open", **assigned)),
    ]
