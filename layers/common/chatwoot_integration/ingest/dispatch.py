"""The dispatcher: a body is parsed into its event model, judged, and handed to its event family.

:func:`judge` decides, without the database, what a body asks for: ``rejected`` (not a webhook, a payload
naming another account, values the mirror cannot hold), ``ignored`` (an integration switched off meanwhile,
events the mirror does not act on), otherwise ``applied`` with the rows its family maps it to.
:func:`write` has each family write the rows of a whole batch, set-based, through the unit of work, then
appends the change events the deliveries caused, in delivery order.

The families: ``conversations``, ``messages``, ``contacts`` and ``presence`` (recorded only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from pydantic import ValidationError

from ..mapping import IncompleteConversation
from ..models.integration import Integration
from ..uow import UnitOfWork
from ..webhooks.errors import InvalidPayload
from ..webhooks.keys import content_key
from ..webhooks.payloads import parse_webhook
from . import contacts, conversations, messages, presence
from .delivery import PendingDelivery, Verdict

_FAMILIES: tuple[tuple[tuple[type, ...], Callable[[Any, Integration], Verdict]], ...] = (
    (conversations.EVENTS, conversations.verdict),
    (messages.EVENTS, messages.verdict),
    (contacts.EVENTS, contacts.verdict),
    (presence.EVENTS, presence.verdict),
)


def judge(body: bytes, integration: Integration) -> Verdict:
    """Decide what a body asks for: rejected, ignored, or applied with the rows it maps to."""
    try:
        event = parse_webhook(body)
    except InvalidPayload as invalid:
        return Verdict(status="rejected", event_name=invalid.event, reason=invalid.reason, error=str(invalid))
    name = event.event
    if event.account_id is not None and event.account_id != integration.account_id:
        return Verdict(
            status="rejected",
            event_name=name,
            reason="account_mismatch",
            error=f"payload account {event.account_id} is not the integration's account {integration.account_id}",
        )
    conversation = event.conversation
    conversation_id = conversation.id if conversation is not None else None
    if not integration.active:
        # Accepted by the webhook just before the integration was switched off: the mirror stops here.
        return Verdict(
            status="ignored", event_name=name, reason="integration_inactive", conversation_id=conversation_id
        )
    family = next(verdict for events, verdict in _FAMILIES if isinstance(event, events))
    try:
        rows = family(event, integration)
    except (IncompleteConversation, ValidationError) as invalid:
        problem = "incomplete_conversation" if isinstance(invalid, IncompleteConversation) else "invalid_fields"
        # A ValidationError's text embeds input values: only its error types are kept.
        detail = str(invalid) if isinstance(invalid, IncompleteConversation) else _error_types(invalid)
        return Verdict(
            status="rejected", event_name=name, reason=problem, error=detail, conversation_id=conversation_id
        )
    key = content_key(event) if rows.status == "applied" else None
    return replace(rows, event_name=name, content_key=key, conversation_id=conversation_id)


def write(uow: UnitOfWork, items: Sequence[PendingDelivery]) -> None:
    """Write what the deliveries to apply map to, one statement per kind of row, and their change events."""
    if not items:
        return
    # The change events of the whole batch in one statement, the conversations' first (as they were written).
    events = conversations.write(uow, items)
    messages.write(uow, items)
    contacts.write(uow, items)
    uow.changes.append([*events, *(event for item in items for event in item.events)])


def _error_types(error: ValidationError) -> str:
    details = error.errors(include_url=False, include_input=False, include_context=False)
    return "invalid fields: " + ", ".join(
        f"{'.'.join(str(part) for part in d['loc']) or '<model>'} ({d['type']})" for d in details[:5]
    )
