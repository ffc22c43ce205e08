"""Events the mirror records and otherwise ignores: typing indicators, the widget opening, inbox changes, and any
event name this code does not know (a newer Chatwoot, a custom fork). Each gets its ledger row (so a repeat is
a duplicate) and writes nothing else."""

from __future__ import annotations

from ..models.integration import Integration
from ..webhooks.payloads import RecordedOnlyEvent, UnknownEvent
from .delivery import Verdict

EVENTS: tuple[type[RecordedOnlyEvent], ...] = (RecordedOnlyEvent,)


def verdict(event: RecordedOnlyEvent, integration: Integration) -> Verdict:
    reason = "unknown_event" if isinstance(event, UnknownEvent) else "not_mirrored"
    return Verdict(status="ignored", reason=reason)
