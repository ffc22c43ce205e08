"""Chatwoot REST client: typed models, bounded retries, typed errors.

Names are loaded on first use, so importing one submodule (the signature check, the error classes) does
not load the others (pydantic models, httpx).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatwoot_integration.lazy import lazy_exports

if TYPE_CHECKING:
    from chatwoot_integration.chatwoot.client import (
        ChatwootClient as ChatwootClient,
    )
    from chatwoot_integration.chatwoot.errors import (
        ChatwootAuthError as ChatwootAuthError,
    )
    from chatwoot_integration.chatwoot.errors import (
        ChatwootBudgetExceeded as ChatwootBudgetExceeded,
    )
    from chatwoot_integration.chatwoot.errors import (
        ChatwootClientError as ChatwootClientError,
    )
    from chatwoot_integration.chatwoot.errors import (
        ChatwootError as ChatwootError,
    )
    from chatwoot_integration.chatwoot.errors import (
        ChatwootInvalidResponse as ChatwootInvalidResponse,
    )
    from chatwoot_integration.chatwoot.errors import (
        ChatwootNotFound as ChatwootNotFound,
    )
    from chatwoot_integration.chatwoot.errors import (
        ChatwootOutcomeUnknown as ChatwootOutcomeUnknown,
    )
    from chatwoot_integration.chatwoot.errors import (
        ChatwootRateLimited as ChatwootRateLimited,
    )
    from chatwoot_integration.chatwoot.errors import (
        ChatwootServerError as ChatwootServerError,
    )
    from chatwoot_integration.chatwoot.errors import (
        ChatwootUnavailable as ChatwootUnavailable,
    )
    from chatwoot_integration.chatwoot.errors import (
        UnknownAgentError as UnknownAgentError,
    )
    from chatwoot_integration.chatwoot.errors import (
        UnknownTeamError as UnknownTeamError,
    )
    from chatwoot_integration.chatwoot.http import (
        get_http_client as get_http_client,
    )
    from chatwoot_integration.chatwoot.models import (
        Agent as Agent,
    )
    from chatwoot_integration.chatwoot.models import (
        Contact as Contact,
    )
    from chatwoot_integration.chatwoot.models import (
        Conversation as Conversation,
    )
    from chatwoot_integration.chatwoot.models import (
        ConversationCounts as ConversationCounts,
    )
    from chatwoot_integration.chatwoot.models import (
        ConversationMeta as ConversationMeta,
    )
    from chatwoot_integration.chatwoot.models import (
        ConversationPage as ConversationPage,
    )
    from chatwoot_integration.chatwoot.models import (
        Inbox as Inbox,
    )
    from chatwoot_integration.chatwoot.models import (
        Message as Message,
    )
    from chatwoot_integration.chatwoot.models import (
        MessagesMeta as MessagesMeta,
    )
    from chatwoot_integration.chatwoot.models import (
        MessagesPage as MessagesPage,
    )
    from chatwoot_integration.chatwoot.models import (
        MessageType as MessageType,
    )
    from chatwoot_integration.chatwoot.models import (
        Team as Team,
    )
    from chatwoot_integration.chatwoot.models import (
        ToggleStatusResult as ToggleStatusResult,
    )
    from chatwoot_integration.chatwoot.models import (
        to_utc_datetime as to_utc_datetime,
    )
    from chatwoot_integration.chatwoot.models import (
        unix_to_datetime as unix_to_datetime,
    )
    from chatwoot_integration.chatwoot.retry import (
        RetryPolicy as RetryPolicy,
    )

_EXPORTS = {
    "Agent": "models",
    "ChatwootAuthError": "errors",
    "ChatwootBudgetExceeded": "errors",
    "ChatwootClient": "client",
    "ChatwootClientError": "errors",
    "ChatwootError": "errors",
    "ChatwootInvalidResponse": "errors",
    "ChatwootNotFound": "errors",
    "ChatwootOutcomeUnknown": "errors",
    "ChatwootRateLimited": "errors",
    "ChatwootServerError": "errors",
    "ChatwootUnavailable": "errors",
    "Contact": "models",
    "Conversation": "models",
    "ConversationCounts": "models",
    "ConversationMeta": "models",
    "ConversationPage": "models",
    "Inbox": "models",
    "Message": "models",
    "MessageType": "models",
    "MessagesMeta": "models",
    "MessagesPage": "models",
    "RetryPolicy": "retry",
    "Team": "models",
    "ToggleStatusResult": "models",
    "UnknownAgentError": "errors",
    "UnknownTeamError": "errors",
    "get_http_client": "http",
    "to_utc_datetime": "models",
    "unix_to_datetime": "models",
}

__all__ = [
    "Agent",
    "ChatwootAuthError",
    "ChatwootBudgetExceeded",
    "ChatwootClient",
    "ChatwootClientError",
    "ChatwootError",
    "ChatwootInvalidResponse",
    "ChatwootNotFound",
    "ChatwootOutcomeUnknown",
    "ChatwootRateLimited",
    "ChatwootServerError",
    "ChatwootUnavailable",
    "Contact",
    "Conversation",
    "ConversationCounts",
    "ConversationMeta",
    "ConversationPage",
    "Inbox",
    "Message",
    "MessageType",
    "MessagesMeta",
    "MessagesPage",
    "RetryPolicy",
    "Team",
    "ToggleStatusResult",
    "UnknownAgentError",
    "UnknownTeamError",
    "get_http_client",
    "to_utc_datetime",
    "unix_to_datetime",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
