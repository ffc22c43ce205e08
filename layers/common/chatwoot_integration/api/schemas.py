"""Request and response bodies of the API (what the OpenAPI document describes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from ..models.agent import Agent
from ..models.common import MAX_ID, Availability, ConversationStatus, Priority
from ..models.conversation import Conversation
from ..models.party import Contact, PartyLink

# Chatwoot labels (and the skills matched against them) are single words without commas.
LabelText = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\s,]+$")]


class Schema(BaseModel):
    """Response bodies; built on first use, so a container pays only for the routes it serves."""

    model_config = ConfigDict(defer_build=True)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ConversationPatch(Body):
    """Fields to change. Status, priority, assignee and labels are written to Chatwoot first; ``parte_id`` is
    local. An explicit ``null`` clears priority, assignee or party link."""

    status: ConversationStatus | None = None
    snoozed_until: datetime | None = Field(default=None, description="only with status snoozed")
    priority: Priority | None = None
    assignee_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    labels: list[LabelText] | None = Field(default=None, max_length=100)
    parte_id: str | None = Field(default=None, min_length=1, max_length=100)


class AssignmentRequest(Body):
    """``{}`` asks for the best available agent; ``{"agent_id": N}`` assigns that agent."""

    agent_id: int | None = Field(default=None, gt=0, le=MAX_ID)


class AgentPatch(Body):
    """``availability`` is written to Chatwoot; ``capacity``, ``skills`` and ``user_id`` are local (admin only)."""

    availability: Availability | None = None
    capacity: int | None = Field(default=None, ge=0, le=10000)
    skills: list[LabelText] | None = Field(default=None, max_length=50)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)


class AgentSummary(Schema):
    agent_id: int
    name: str
    email: str | None
    availability: str


class ConversationDetail(Conversation):
    assignee: AgentSummary | None = None
    contact: Contact | None = None
    party: PartyLink | None = None


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
    cursor: str
    type: str
    account_id: int
    conversation_id: int | None = None
    agent_id: int | None = None
    actor: str
    at: datetime
    data: dict[str, Any]


class ChangeFeed(Schema):
    items: list[ChangeItem]
    next_cursor: str | None
