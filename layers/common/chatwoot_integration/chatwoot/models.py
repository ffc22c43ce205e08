"""Typed views of Chatwoot's REST responses (v4.x).

Models ignore unknown fields, because Chatwoot adds fields between versions, and most fields are optional,
because older versions and bot assignees leave them out. Chatwoot mixes timestamp formats (unix seconds where
0 means "never", floats, ISO strings); every timestamp field here becomes a timezone-aware UTC datetime or None.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import IntEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

ConversationStatus = Literal["open", "resolved", "pending", "snoozed"]
Priority = Literal["low", "medium", "high", "urgent"]
Availability = Literal["online", "busy", "offline"]
AgentRole = Literal["agent", "administrator"]
AssigneeFilter = Literal["me", "unassigned", "assigned", "all"]
ConversationSort = Literal[
    "last_activity_at_desc",
    "last_activity_at_asc",
    "created_at_desc",
    "created_at_asc",
    "priority_desc",
    "priority_asc",
    "waiting_since_desc",
    "waiting_since_asc",
    "priority_desc_created_at_asc",
    "unread",
]
ConversationStatusFilter = Literal["open", "resolved", "pending", "snoozed", "all"]


class MessageType(IntEnum):
    """``message_type`` as the REST API sends it (webhook message events send the names instead)."""

    INCOMING = 0
    OUTGOING = 1
    ACTIVITY = 2
    TEMPLATE = 3


def unix_to_datetime(seconds: float) -> datetime:
    """Unix seconds (int or float, fractions kept to the microsecond) as an aware UTC datetime."""
    return datetime.fromtimestamp(seconds, UTC)


def to_utc_datetime(value: Any) -> datetime | None:
    """Any timestamp shape Chatwoot sends, as an aware UTC datetime; ``None``, ``0`` and ``""`` mean none.

    Accepts unix seconds (int, float or numeric string), ISO-8601 strings (``Z`` or offset; naive is UTC)
    and datetimes.
    """
    if value is None:
        return None
    if isinstance(value, bool):
        raise ValueError("a boolean is not a timestamp")
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    if isinstance(value, int | float):
        return None if value == 0 else unix_to_datetime(value)
    if isinstance(value, str):
        return _parse_timestamp_text(value.strip())
    raise ValueError(f"unsupported timestamp type {type(value).__name__}")


def _parse_timestamp_text(text: str) -> datetime | None:
    if not text:
        return None
    try:
        seconds = float(text)
    except ValueError:
        parsed = datetime.fromisoformat(text)
        return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)
    return None if seconds == 0 else unix_to_datetime(seconds)


Timestamp = Annotated[datetime | None, BeforeValidator(to_utc_datetime)]


class ChatwootModel(BaseModel):
    # Built on first use (cold start): most invocations touch a few of these shapes.
    model_config = ConfigDict(extra="ignore", defer_build=True)


class Agent(ChatwootModel):
    """An account user (``GET …/agents``, ``meta.assignee``, the assignment response)."""

    id: int
    account_id: int | None = None
    availability_status: Availability | None = None
    auto_offline: bool | None = None
    confirmed: bool | None = None
    email: str | None = None
    name: str = ""
    available_name: str | None = None
    role: AgentRole | None = None
    thumbnail: str | None = None
    custom_role_id: int | None = None


class Team(ChatwootModel):
    id: int
    name: str = ""
    description: str | None = None
    allow_auto_assign: bool | None = None
    account_id: int | None = None
    is_member: bool | None = None


class Inbox(ChatwootModel):
    id: int
    name: str = ""
    channel_type: str | None = None
    channel_id: int | None = None
    enable_auto_assignment: bool | None = None
    auto_assignment_config: dict[str, Any] = Field(default_factory=dict)
    working_hours_enabled: bool | None = None
    timezone: str | None = None


class Contact(ChatwootModel):
    id: int
    name: str | None = None
    email: str | None = None
    phone_number: str | None = None
    identifier: str | None = None
    thumbnail: str | None = None
    blocked: bool | None = None
    availability_status: str | None = None
    additional_attributes: dict[str, Any] = Field(default_factory=dict)
    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    last_activity_at: Timestamp = None
    created_at: Timestamp = None


class Message(ChatwootModel):
    """A message in the REST shape: ``message_type`` is an integer (see ``MessageType``)."""

    id: int
    content: str | None = None
    account_id: int | None = None
    inbox_id: int | None = None
    conversation_id: int | None = None
    message_type: int
    content_type: str | None = None
    status: str | None = None
    private: bool = False
    source_id: str | None = None
    sender_type: str | None = None
    sender_id: int | None = None
    sender: dict[str, Any] | None = None
    content_attributes: dict[str, Any] = Field(default_factory=dict)
    attachments: list[dict[str, Any]] = Field(default_factory=list)
    created_at: Timestamp = None
    updated_at: Timestamp = None


class ConversationMeta(ChatwootModel):
    sender: Contact | None = None
    channel: str | None = None
    assignee: Agent | None = None
    assignee_type: str | None = None
    team: Team | None = None
    hmac_verified: bool | None = None


class Conversation(ChatwootModel):
    """A conversation as ``GET …/conversations`` and ``GET …/conversations/{id}`` return it.

    ``id`` is the display id (unique per account), the id every REST path and webhook uses.
    """

    id: int
    account_id: int | None = None
    uuid: str | None = None
    inbox_id: int
    status: ConversationStatus
    priority: Priority | None = None
    labels: list[str] = Field(default_factory=list)
    muted: bool = False
    snoozed_until: Timestamp = None
    custom_attributes: dict[str, Any] = Field(default_factory=dict)
    additional_attributes: dict[str, Any] = Field(default_factory=dict)
    meta: ConversationMeta = Field(default_factory=ConversationMeta)
    messages: list[Message] = Field(default_factory=list)
    last_non_activity_message: Message | None = None
    unread_count: int = 0
    created_at: Timestamp = None
    timestamp: Timestamp = None
    last_activity_at: Timestamp = None
    first_reply_created_at: Timestamp = None
    waiting_since: Timestamp = None
    agent_last_seen_at: Timestamp = None
    assignee_last_seen_at: Timestamp = None
    contact_last_seen_at: Timestamp = None
    # Kept as Chatwoot's raw float: it is the ordering guard, compared as is. Chatwoot before v4.x omits it.
    updated_at: float | None = None
    sla_policy_id: int | None = None

    @property
    def display_id(self) -> int:
        return self.id

    @property
    def updated_at_datetime(self) -> datetime | None:
        """``updated_at`` as an aware UTC datetime with microseconds (None when Chatwoot did not send it)."""
        return None if self.updated_at is None else unix_to_datetime(self.updated_at)

    @property
    def assignee_id(self) -> int | None:
        return None if self.meta.assignee is None else self.meta.assignee.id

    @property
    def _assignee_is_bot(self) -> bool:
        # The REST shape says what the assignee is in meta.assignee_type only; a missing one is a user.
        return (self.meta.assignee_type or "User") == "AgentBot"

    @property
    def assigned_user_id(self) -> int | None:
        """The assigned agent's user id; ``None`` when unassigned or assigned to a bot."""
        return None if self._assignee_is_bot else self.assignee_id

    @property
    def assigned_agent_bot_id(self) -> int | None:
        return self.assignee_id if self._assignee_is_bot else None

    @property
    def contact(self) -> Contact | None:
        return self.meta.sender

    @property
    def team_id(self) -> int | None:
        return None if self.meta.team is None else self.meta.team.id

    @property
    def contact_id(self) -> int | None:
        return None if self.meta.sender is None else self.meta.sender.id


class ConversationCounts(ChatwootModel):
    mine_count: int = 0
    assigned_count: int = 0
    unassigned_count: int = 0
    all_count: int = 0


class ConversationPage(ChatwootModel):
    """One page of ``GET …/conversations``. ``page`` is None when ``updated_within`` made it unpaged.

    Page size is an installation setting (25 by default), so page until ``items`` comes back empty.
    """

    items: list[Conversation]
    meta: ConversationCounts
    page: int | None = None


class MessagesMeta(ChatwootModel):
    labels: list[str] = Field(default_factory=list)
    additional_attributes: dict[str, Any] = Field(default_factory=dict)
    contact: Contact | None = None
    assignee: Agent | None = None
    agent_last_seen_at: Timestamp = None
    assignee_last_seen_at: Timestamp = None


class MessagesPage(ChatwootModel):
    """``GET …/messages``: the latest 20, 20 before ``before``, or up to 100 after ``after`` (ascending)."""

    items: list[Message]
    meta: MessagesMeta


class ToggleStatusResult(ChatwootModel):
    success: bool
    conversation_id: int
    current_status: ConversationStatus
    snoozed_until: Timestamp = None
