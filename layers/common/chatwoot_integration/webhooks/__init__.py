"""Chatwoot webhook deliveries: authenticity, payload models and duplicate detection.

Names are loaded on first use, so importing one submodule (the signature check, the error classes) does
not load the others (pydantic models, httpx).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatwoot_integration.lazy import lazy_exports

if TYPE_CHECKING:
    from chatwoot_integration.webhooks.keys import (
        content_key as content_key,
    )
    from chatwoot_integration.webhooks.payloads import (
        KNOWN_EVENTS as KNOWN_EVENTS,
    )
    from chatwoot_integration.webhooks.payloads import (
        AccountRef as AccountRef,
    )
    from chatwoot_integration.webhooks.payloads import (
        Assignee as Assignee,
    )
    from chatwoot_integration.webhooks.payloads import (
        Attachment as Attachment,
    )
    from chatwoot_integration.webhooks.payloads import (
        AttributeChange as AttributeChange,
    )
    from chatwoot_integration.webhooks.payloads import (
        ContactCreated as ContactCreated,
    )
    from chatwoot_integration.webhooks.payloads import (
        ContactData as ContactData,
    )
    from chatwoot_integration.webhooks.payloads import (
        ContactUpdated as ContactUpdated,
    )
    from chatwoot_integration.webhooks.payloads import (
        ConversationCreated as ConversationCreated,
    )
    from chatwoot_integration.webhooks.payloads import (
        ConversationData as ConversationData,
    )
    from chatwoot_integration.webhooks.payloads import (
        ConversationMessage as ConversationMessage,
    )
    from chatwoot_integration.webhooks.payloads import (
        ConversationPriority as ConversationPriority,
    )
    from chatwoot_integration.webhooks.payloads import (
        ConversationStatus as ConversationStatus,
    )
    from chatwoot_integration.webhooks.payloads import (
        ConversationStatusChanged as ConversationStatusChanged,
    )
    from chatwoot_integration.webhooks.payloads import (
        ConversationTypingOff as ConversationTypingOff,
    )
    from chatwoot_integration.webhooks.payloads import (
        ConversationTypingOn as ConversationTypingOn,
    )
    from chatwoot_integration.webhooks.payloads import (
        ConversationUpdated as ConversationUpdated,
    )
    from chatwoot_integration.webhooks.payloads import (
        InboxCreated as InboxCreated,
    )
    from chatwoot_integration.webhooks.payloads import (
        InboxUpdated as InboxUpdated,
    )
    from chatwoot_integration.webhooks.payloads import (
        InvalidPayload as InvalidPayload,
    )
    from chatwoot_integration.webhooks.payloads import (
        MessageCreated as MessageCreated,
    )
    from chatwoot_integration.webhooks.payloads import (
        MessageType as MessageType,
    )
    from chatwoot_integration.webhooks.payloads import (
        MessageUpdated as MessageUpdated,
    )
    from chatwoot_integration.webhooks.payloads import (
        NormalizedMessage as NormalizedMessage,
    )
    from chatwoot_integration.webhooks.payloads import (
        RecordedOnlyEvent as RecordedOnlyEvent,
    )
    from chatwoot_integration.webhooks.payloads import (
        Sender as Sender,
    )
    from chatwoot_integration.webhooks.payloads import (
        UnknownEvent as UnknownEvent,
    )
    from chatwoot_integration.webhooks.payloads import (
        WebhookEvent as WebhookEvent,
    )
    from chatwoot_integration.webhooks.payloads import (
        WebwidgetTriggered as WebwidgetTriggered,
    )
    from chatwoot_integration.webhooks.payloads import (
        parse_webhook as parse_webhook,
    )
    from chatwoot_integration.webhooks.signature import (
        InvalidSignature as InvalidSignature,
    )
    from chatwoot_integration.webhooks.signature import (
        SignatureFailure as SignatureFailure,
    )
    from chatwoot_integration.webhooks.signature import (
        check_signature as check_signature,
    )
    from chatwoot_integration.webhooks.signature import (
        sign as sign,
    )
    from chatwoot_integration.webhooks.signature import (
        verify_legacy_token as verify_legacy_token,
    )
    from chatwoot_integration.webhooks.signature import (
        verify_signature as verify_signature,
    )

_EXPORTS = {
    "AccountRef": "payloads",
    "Assignee": "payloads",
    "Attachment": "payloads",
    "AttributeChange": "payloads",
    "ContactCreated": "payloads",
    "ContactData": "payloads",
    "ContactUpdated": "payloads",
    "ConversationCreated": "payloads",
    "ConversationData": "payloads",
    "ConversationMessage": "payloads",
    "ConversationPriority": "payloads",
    "ConversationStatus": "payloads",
    "ConversationStatusChanged": "payloads",
    "ConversationTypingOff": "payloads",
    "ConversationTypingOn": "payloads",
    "ConversationUpdated": "payloads",
    "InboxCreated": "payloads",
    "InboxUpdated": "payloads",
    "InvalidPayload": "payloads",
    "InvalidSignature": "signature",
    "KNOWN_EVENTS": "payloads",
    "MessageCreated": "payloads",
    "MessageType": "payloads",
    "MessageUpdated": "payloads",
    "NormalizedMessage": "payloads",
    "RecordedOnlyEvent": "payloads",
    "Sender": "payloads",
    "SignatureFailure": "signature",
    "UnknownEvent": "payloads",
    "WebhookEvent": "payloads",
    "WebwidgetTriggered": "payloads",
    "check_signature": "signature",
    "content_key": "keys",
    "parse_webhook": "payloads",
    "sign": "signature",
    "verify_legacy_token": "signature",
    "verify_signature": "signature",
}

__all__ = [
    "KNOWN_EVENTS",
    "AccountRef",
    "Assignee",
    "Attachment",
    "AttributeChange",
    "ContactCreated",
    "ContactData",
    "ContactUpdated",
    "ConversationCreated",
    "ConversationData",
    "ConversationMessage",
    "ConversationPriority",
    "ConversationStatus",
    "ConversationStatusChanged",
    "ConversationTypingOff",
    "ConversationTypingOn",
    "ConversationUpdated",
    "InboxCreated",
    "InboxUpdated",
    "InvalidPayload",
    "InvalidSignature",
    "MessageCreated",
    "MessageType",
    "MessageUpdated",
    "NormalizedMessage",
    "RecordedOnlyEvent",
    "Sender",
    "SignatureFailure",
    "UnknownEvent",
    "WebhookEvent",
    "WebwidgetTriggered",
    "check_signature",
    "content_key",
    "parse_webhook",
    "sign",
    "verify_legacy_token",
    "verify_signature",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
