"""Agents: what Chatwoot says about them, plus what this product keeps (capacity, skills, platform user)."""

from __future__ import annotations

from datetime import datetime

from pydantic import Field

from .common import MAX_ID, AgentRole, Availability, LabelText, Model


class AgentState(Model):
    """An agent as Chatwoot's agents list gives it."""

    integration_id: int = Field(gt=0, le=MAX_ID)
    agent_id: int = Field(gt=0, le=MAX_ID)
    name: str = ""
    email: str | None = None
    role: AgentRole = "agent"
    availability: Availability = "offline"


class Agent(Model):
    integration_id: int
    agent_id: int
    name: str
    email: str | None
    role: AgentRole
    availability: Availability
    capacity: int | None
    skills: list[str]
    active_conversations: int
    last_assigned_at: datetime | None
    user_id: str | None
    active: bool
    created_at: datetime
    updated_at: datetime


class AgentFilter(Model):
    availability: Availability | None = None
    skill: str | None = None
    has_capacity: bool | None = None
    include_inactive: bool = False


class AgentPatch(Model):
    """``availability`` is written to Chatwoot; ``capacity``, ``skills`` and ``user_id`` are local (admin only)."""

    availability: Availability | None = None
    capacity: int | None = Field(default=None, ge=0, le=10000)
    skills: list[LabelText] | None = Field(default=None, max_length=50)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)


class AgentSummary(Model):
    agent_id: int
    name: str
    email: str | None
    availability: str

    @classmethod
    def of(cls, agent: Agent) -> AgentSummary:
        return cls(agent_id=agent.agent_id, name=agent.name, email=agent.email, availability=agent.availability)
