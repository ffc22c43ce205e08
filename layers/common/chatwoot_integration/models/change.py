"""Change events: the outbox rows, the change feed and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from .common import ActorName, Model


class NewChange(Model):
    integration_id: int
    # Filled from the integration by the database when left out; given when the integration is being deleted.
    tenant: str | None = None
    type: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$")
    actor: ActorName
    conversation_id: int | None = None
    agent_id: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Change(Model):
    id: int
    cursor: str
    type: str
    integration_id: int
    tenant: str
    conversation_id: int | None
    agent_id: int | None
    actor: str
    at: datetime
    data: dict[str, Any]
