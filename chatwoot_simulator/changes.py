"""Saving changes the way ActiveRecord does, and raising the webhooks Chatwoot's callbacks would.

A conversation or contact is changed only through here, so every write gets the same treatment: the
attributes that really changed become ``changed_attributes`` (times as ISO strings, as Rails serialises
them), ``updated_at`` moves, and the events are recorded. Writes Chatwoot makes with ``update_columns``
(no callbacks, so no webhook), such as a message's activity bump or marking seen, write the record
directly instead.
"""

from __future__ import annotations

import copy
from typing import Any

from chatwoot_simulator.clock import to_iso
from chatwoot_simulator.state import Contact, Conversation
from chatwoot_simulator.webhook_events import WebhookEventsMixin

JSON = dict[str, Any]

_TIME_ATTRIBUTES = frozenset({"snoozed_until", "waiting_since", "first_reply_created_at"})


class ChangeTrackingMixin(WebhookEventsMixin):
    def _update_conversation(self, conversation: Conversation, changes: JSON) -> bool:
        """Apply ``changes`` like an ActiveRecord save and dispatch what Chatwoot's callbacks would.

        Returns whether anything changed.
        """
        diffs: list[JSON] = []
        for attr, new in changes.items():
            old = _read_attr(conversation, attr)
            if old != new:
                _write_attr(conversation, attr, new)
                diffs.append(_diff(attr, old, new))
        # ensure_snooze_until_reset: leaving "snoozed" clears the snooze time.
        if conversation.status != "snoozed" and conversation.snoozed_until is not None:
            diffs.append(_diff("snoozed_until", conversation.snoozed_until, None))
            conversation.snoozed_until = None
        if not diffs:
            return False
        before = conversation.updated_at
        self._touch(conversation)
        diffs.append(
            {"updated_at": {"previous_value": to_iso(before), "current_value": to_iso(conversation.updated_at)}}
        )
        account_id = conversation.account_id
        if any("status" in diff for diff in diffs):
            # notify_status_change reads status_change after commit, where it is already nil.
            self._emit(account_id, "conversation_status_changed", "conversation", conversation.pk, changed=None)
        self._emit(account_id, "conversation_updated", "conversation", conversation.pk, changed=diffs)
        return True

    def _update_contact(self, contact: Contact, changes: JSON) -> None:
        diffs: list[JSON] = []
        for attr, new in changes.items():
            old = getattr(contact, attr)
            if old == new:
                continue
            setattr(contact, attr, copy.deepcopy(new))
            if attr == "last_activity_at":
                diffs.append({attr: {"previous_value": to_iso(old), "current_value": to_iso(new)}})
            else:
                diffs.append({attr: {"previous_value": old, "current_value": copy.deepcopy(new)}})
        if not diffs:
            # contact_updated is skipped when nothing changed.
            return
        before = contact.updated_at
        contact.updated_at = max(self._now(), before)
        diffs.append({"updated_at": {"previous_value": to_iso(before), "current_value": to_iso(contact.updated_at)}})
        self._emit(contact.account_id, "contact_updated", "contact", contact.id, changed=diffs)

    def _touch(self, conversation: Conversation) -> None:
        now_us = round(self._now() * 1_000_000)
        conversation.updated_at_us = max(now_us, conversation.updated_at_us + 1)


def _read_attr(conversation: Conversation, attr: str) -> Any:
    return list(conversation.labels) if attr == "label_list" else getattr(conversation, attr)


def _write_attr(conversation: Conversation, attr: str, value: Any) -> None:
    if attr == "label_list":
        conversation.labels = list(value)
    else:
        setattr(conversation, attr, copy.deepcopy(value))


def _diff(attr: str, old: Any, new: Any) -> JSON:
    """One ``changed_attributes`` entry: times as ISO strings, enums as strings, as Rails serialises them."""
    if attr in _TIME_ATTRIBUTES:
        old, new = to_iso(old), to_iso(new)
    return {attr: {"previous_value": copy.deepcopy(old), "current_value": copy.deepcopy(new)}}
