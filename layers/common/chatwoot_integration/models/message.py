"""Messages as the mirror stores them: one row per Chatwoot message id."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

MessageType = Literal["incoming", "outgoing", "activity", "template"]


class MessageRecord(BaseModel):
    """A message as the mirror stores it; ``content`` is None when the integration keeps no content."""

    model_config = ConfigDict(defer_build=True, frozen=True, extra="forbid")

    integration_id: int = Field(gt=0)
    message_id: int = Field(gt=0)
    conversation_id: int = Field(gt=0)
    message_type: MessageType
    private: bool = False
    content_type: str | None = None
    content: str | None = None
    sender_type: str | None = None
    sender_id: int | None = None
    deleted: bool = False
    chatwoot_created_at: datetime


class StoredMessage(MessageRecord):
    created_at: datetime
    updated_at: datetime


class MessageWrite(BaseModel):
    """What a write did: ``inserted`` (a new message id) or ``changed`` (an existing row edited)."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    inserted: bool
    changed: bool
