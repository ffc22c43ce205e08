"""Change events: the outbox rows, the change feed and the audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import Field

from .common import ActorName, Model


class NewChange(Model):
    account_id: int
    type: str = Field(pattern=r"^[a-z_]+\.[a-z_]+$")
    actor: ActorName
    conversation_id: int | None = None
    agent_id: int | None = None
    data: dict[str, Any] = Field(default_factory=dict)


class Change(Model):
    id: int
    cursor: str
    type: str
    account_id: int
    conversation_id: int | None
    agent_id: int | None
    actor: str
    at: datetime
    data: dict[str, Any]
