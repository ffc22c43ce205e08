"""Content keys: one stable key per logical change, to drop Chatwoot's duplicate dispatches.

Chatwoot gives every dispatch a fresh ``X-Chatwoot-Delivery`` id, so a change dispatched twice
(issues #11901, #7402) arrives under two delivery ids. The key is built from the body instead and
answers "is this the same change again?", never "is this the same state?": applying a body twice
must stay harmless anyway (the ordering guard on ``updated_at``), so when in doubt a key errs towards
being different.

- ``message_created``: ``(event, account, message id, created_at)``. A message is created once.
- ``message_updated``: ``(event, account, message id, digest)``. The payload has no ``updated_at``, so
  the digest covers what an update can change (content, content type and attributes, additional
  attributes, privacy, attachment ids) plus the nested conversation's ``updated_at``, which keeps an
  edit that returns to an earlier text from colliding with the first version.
- conversation events: ``(event, account, display id, updated_at to the microsecond, digest of
  changed_attributes)``. Duplicates are built from the same row, so they share ``updated_at``; two
  changes folded into one snapshot by Chatwoot's asynchronous build still differ in
  ``changed_attributes``, which is captured at dispatch time.
- contact events: ``(event, account, contact id, digest)`` over the normalised contact fields and, for
  ``contact_updated``, the ``updated_at`` recorded in ``changed_attributes`` (the payload has no other
  version marker), so a value that changes back is still a new change.
- everything else (widget, typing, inbox, unknown events): ``None``; there is nothing to apply.

The account part is ``-`` when the body has no account (Chatwoot before 4.14.2).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from chatwoot_integration.webhooks.payloads import (
    ContactCreated,
    ContactUpdated,
    ConversationCreated,
    ConversationStatusChanged,
    ConversationUpdated,
    MessageCreated,
    MessageUpdated,
    WebhookEvent,
)

_DIGEST_HEX_CHARS = 32


def content_key(event: WebhookEvent) -> str | None:
    """Return the content key of ``event``, or ``None`` when it has no meaningful one (see module doc)."""
    match event:
        case MessageCreated():
            return _key(event.event, event.account_id, event.id, event.created_at.isoformat())
        case MessageUpdated():
            return _key(event.event, event.account_id, event.id, _message_update_digest(event))
        case ConversationCreated() | ConversationUpdated() | ConversationStatusChanged():
            changes = [
                {name: change.model_dump() for name, change in entry.items()}
                for entry in event.changed_attributes or []
            ]
            return _key(
                event.event,
                event.account_id,
                event.id,
                event.updated_at.isoformat(timespec="microseconds"),
                _digest(changes if event.changed_attributes is not None else None),
            )
        case ContactCreated() | ContactUpdated():
            return _key(event.event, event.account_id, event.id, _contact_digest(event))
        case _:
            return None


def _message_update_digest(event: MessageUpdated) -> str:
    return _digest(
        {
            "content": event.content,
            "content_type": event.content_type,
            "content_attributes": event.content_attributes,
            "additional_attributes": event.additional_attributes,
            "private": event.private,
            # Attachment URLs can be re-signed per render; ids identify the files.
            "attachments": [attachment.id for attachment in event.attachments],
            "conversation_updated_at": event.conversation.updated_at.isoformat(timespec="microseconds"),
        }
    )


def _contact_digest(event: ContactCreated | ContactUpdated) -> str:
    updated_at = event.changes.get("updated_at")
    return _digest(
        {
            "name": event.name,
            "email": event.email,
            "phone_number": event.phone_number,
            "identifier": event.identifier,
            "additional_attributes": event.additional_attributes,
            "custom_attributes": event.custom_attributes,
            "blocked": event.blocked,
            "updated_at": updated_at.current_value if updated_at else None,
        }
    )


def _key(event_name: str, account_id: int | None, object_id: int, *markers: str) -> str:
    account = str(account_id) if account_id is not None else "-"
    return ":".join((event_name, account, str(object_id), *markers))


def _digest(value: Any) -> str:
    canonical = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()[:_DIGEST_HEX_CHARS]
