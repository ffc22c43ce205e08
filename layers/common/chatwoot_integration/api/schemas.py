"""Response bodies of the API that only HTTP needs (pages, the feed, the assignment answer).

The bodies the services take and return (patches, the integration contracts, the conversation detail) are
domain contracts and live in ``models``; the routes use them as they are.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from ..models.agent import Agent, AgentSummary
from ..models.common import MAX_ID
from ..models.conversation import Conversation
from ..services.deliveries import DeliveryView


class Schema(BaseModel):
    """Response bodies; built on first use, so a container pays only for the routes it serves."""

    model_config = ConfigDict(defer_build=True)


class AssignmentRequest(BaseModel):
    """``{}`` asks for the best available agent; ``{"agent_id": N}`` assigns that agent."""

    model_config = ConfigDict(extra="forbid", defer_build=True)

    agent_id: int | None = Field(default=None, gt=0, le=MAX_ID)


class ConversationList(Schema):
    items: list[Conversation]
    next_cursor: str | None


class AgentList(Schema):
    items: list[Agent]


class AssignmentResult(Schema):
    conversation_id: int
    assignee: AgentSummary
    reason: str


class ChangeItem(Schema):
    """One change event; it names its integration, so one reader can follow a whole tenant's feed."""

    cursor: str
    type: str
    integration_id: int
    conversation_id: int | None = None
    agent_id: int | None = None
    actor: str
    at: datetime
    data: dict[str, Any]


class DeliveryList(Schema):
    items: list[DeliveryView]
    next_cursor: str | None


class ChangeFeed(Schema):
    items: list[ChangeItem]
    next_cursor: str | None
