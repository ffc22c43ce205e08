"""Conversations: the state Chatwoot owns, and the mirror row that adds what this product keeps."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from .agent import AgentSummary
from .common import MAX_ID, ConversationStatus, LabelText, Model, Priority, SyncStatus
from .party import Contact, PartyLink

SortKey = Literal["last_activity_at", "created_at"]


class ConversationState(Model):
    """What Chatwoot says about a conversation, from a webhook or the REST API, ready to upsert.

    ``chatwoot_updated_at`` is Chatwoot's own ``updated_at``: the ordering guard that decides which of two
    versions is newer.
    """

    integration_id: int = Field(gt=0, le=MAX_ID)
    conversation_id: int = Field(gt=0, le=MAX_ID)
    inbox_id: int | None = None
    contact_id: int | None = None
    status: ConversationStatus
    priority: Priority | None = None
    assignee_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    agent_bot_id: int | None = None
    team_id: int | None = None
    labels: tuple[str, ...] = ()
    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    unread_count: int = Field(default=0, ge=0)
    last_activity_at: datetime
    waiting_since: datetime | None = None
    snoozed_until: datetime | None = None
    first_reply_created_at: datetime | None = None
    chatwoot_created_at: datetime
    chatwoot_updated_at: datetime


class Conversation(Model):
    """A mirrored conversation as the API shows it."""

    integration_id: int
    conversation_id: int
    inbox_id: int | None
    contact_id: int | None
    status: ConversationStatus
    priority: Priority | None
    assignee_id: int | None
    agent_bot_id: int | None
    team_id: int | None
    labels: list[str]
    custom_attributes: dict[str, Any]
    unread_count: int
    messages_count: int
    private_notes_count: int
    last_message_at: datetime | None
    last_message_preview: str | None
    last_activity_at: datetime
    waiting_since: datetime | None
    snoozed_until: datetime | None
    first_reply_created_at: datetime | None
    chatwoot_created_at: datetime
    chatwoot_updated_at: datetime
    sync_status: SyncStatus
    sync_error: str | None
    synced_at: datetime | None
    assignment_error: str | None
    parte_id: str | None
    deleted_at: datetime | None
    created_at: datetime
    updated_at: datetime


class ConversationFilter(Model):
    """Filters of the conversation list; every value reaches SQL only as a parameter."""

    status: ConversationStatus | None = None
    assignee_id: int | None = None
    unassigned: bool = False
    inbox_id: int | None = None
    team_id: int | None = None
    label: str | None = None
    priority: Priority | None = None
    sync_status: SyncStatus | None = None
    parte_id: str | None = None
    updated_since: datetime | None = None


class UpsertOutcome(Model):
    """What a guarded upsert did to one conversation, with the previous values of the fields events mention."""

    integration_id: int
    conversation_id: int
    inserted: bool
    changed: bool
    previous: dict[str, Any] | None = None
    current: dict[str, Any] | None = None


class ConversationPatch(Model):
    """Fields to change. Status, priority, assignee and labels are written to Chatwoot first; ``parte_id`` is
    local. An explicit ``null`` clears priority, assignee or party link."""

    status: ConversationStatus | None = None
    snoozed_until: datetime | None = Field(default=None, description="only with status snoozed")
    priority: Priority | None = None
    assignee_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    labels: list[LabelText] | None = Field(default=None, max_length=100)
    parte_id: str | None = Field(default=None, min_length=1, max_length=100)


class ConversationDetail(Conversation):
    """A conversation with its assignee, contact and party link, as one read returns it."""

    assignee: AgentSummary | None = None
    contact: Contact | None = None
    party: PartyLink | None = None
