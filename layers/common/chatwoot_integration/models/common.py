"""Types shared by several models."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

ConversationStatus = Literal["open", "resolved", "pending", "snoozed"]
Priority = Literal["low", "medium", "high", "urgent"]
Availability = Literal["online", "offline", "busy"]
AgentRole = Literal["agent", "administrator"]
SyncStatus = Literal["pending", "syncing", "synced", "error"]
ActorName = Annotated[str, Field(min_length=1, max_length=200)]
# Chatwoot labels (and the skills matched against them) are single words without commas.
LabelText = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\s,]+$")]

# Chatwoot ids are stored as PostgreSQL integers; anything larger cannot be a real id.
MAX_ID = 2_147_483_647

CONVERSATION_STATUSES: tuple[ConversationStatus, ...] = ("open", "resolved", "pending", "snoozed")
PRIORITIES: tuple[Priority, ...] = ("low", "medium", "high", "urgent")
AVAILABILITIES: tuple[Availability, ...] = ("online", "offline", "busy")


class Model(BaseModel):
    """Base for domain models: immutable, and strict about unknown fields."""

    # Schemas are built on first use: a function pays only for the models its requests touch.
    model_config = ConfigDict(frozen=True, extra="forbid", defer_build=True)
