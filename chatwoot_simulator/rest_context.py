"""What a controller is handed, and the request-reading rules every controller follows as Rails does.

Kept in one place so that parameter parsing (Rails' ``params``, Ruby's ``to_i``) and the rule of which
conversations a token may see cannot drift apart between the conversation and directory endpoints.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chatwoot_simulator.rest_responses import NOT_ALLOWED, HttpError, RestResponse
from chatwoot_simulator.simulator import Simulator
from chatwoot_simulator.state import Agent, Conversation
from chatwoot_simulator.store import Store

JSON = dict[str, Any]


@dataclass
class RequestContext:
    sim: Simulator
    account_id: int
    viewer: Agent
    path: dict[str, int]
    query: dict[str, list[str]]
    body: JSON = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        """A body parameter, else the first query value (Rails merges both into ``params``)."""
        if name in self.body:
            value = self.body[name]
            return None if value is None else str(value)
        values = self.query.get(name)
        return values[0] if values else None


Controller = Callable[[RequestContext], RestResponse]


def to_i(value: str | None) -> int | None:
    """Ruby's ``String#to_i``: leading digits, else 0; ``None`` when absent."""
    if value is None:
        return None
    match = re.match(r"\s*([+-]?\d+)", value)
    return int(match.group(1)) if match else 0


def can_see(store: Store, viewer: Agent, conversation: Conversation) -> bool:
    """Administrators see everything; agents only conversations of inboxes they belong to."""
    return viewer.role == "administrator" or viewer.id in store.inboxes[conversation.inbox_id].member_ids


def visible_conversation(store: Store, context: RequestContext) -> Conversation:
    """The conversation of the path, if the viewer may see it (Chatwoot answers 401 otherwise)."""
    conversation = store.conversation(context.account_id, context.path["conversation_id"])
    if not can_see(store, context.viewer, conversation):
        raise HttpError(401, NOT_ALLOWED)
    return conversation
