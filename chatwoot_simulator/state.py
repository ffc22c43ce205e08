"""The simulator's in-memory records, shaped after Chatwoot's tables.

These are plain mutable records owned by :class:`chatwoot_simulator.simulator.Simulator`, which guards
them with its lock; getters hand out copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

ConversationStatus = Literal["open", "resolved", "pending", "snoozed"]
Priority = Literal["low", "medium", "high", "urgent"]
Availability = Literal["online", "offline", "busy"]
Role = Literal["agent", "administrator"]
MessageType = Literal["incoming", "outgoing", "activity", "template"]
SenderType = Literal["Contact", "User"]

CONVERSATION_STATUSES: tuple[ConversationStatus, ...] = ("open", "resolved", "pending", "snoozed")
PRIORITIES: tuple[Priority, ...] = ("low", "medium", "high", "urgent")
AVAILABILITIES: tuple[Availability, ...] = ("online", "offline", "busy")
ROLES: tuple[Role, ...] = ("agent", "administrator")

# Chatwoot's integer enums (app/models/message.rb, conversation.rb).
MESSAGE_TYPE_CODES: dict[MessageType, int] = {"incoming": 0, "outgoing": 1, "activity": 2, "template": 3}
PRIORITY_ORDER: dict[str | None, int] = {None: -1, "low": 0, "medium": 1, "high": 2, "urgent": 3}

CHANNEL_TYPES = {
    "whatsapp": "Channel::Whatsapp",
    "email": "Channel::Email",
    "web_widget": "Channel::WebWidget",
    "api": "Channel::Api",
}


class SimulatorError(Exception):
    """Base class of the simulator's own errors."""


class NotFoundError(SimulatorError):
    """A record addressed by id does not exist (REST: 404)."""


class InvalidValueError(SimulatorError):
    """A value Chatwoot would reject (REST: 422)."""


@dataclass
class Account:
    """An account; ``api_token`` is its first administrator's access token (``None`` without one)."""

    id: int
    name: str
    created_at: float
    admin_id: int | None = None
    api_token: str | None = None


@dataclass
class Agent:
    """A user of one account (Chatwoot's User + AccountUser)."""

    id: int
    account_id: int
    name: str
    email: str
    role: Role
    availability: Availability
    access_token: str
    created_at: float
    auto_offline: bool = False
    confirmed: bool = True
    display_name: str | None = None

    @property
    def available_name(self) -> str:
        return self.display_name or self.name


@dataclass
class Inbox:
    id: int
    account_id: int
    name: str
    channel_type: str
    channel_id: int
    created_at: float
    member_ids: list[int] = field(default_factory=list)
    enable_auto_assignment: bool = False
    settings: dict[str, Any] = field(default_factory=dict)


@dataclass
class Team:
    id: int
    account_id: int
    name: str
    description: str | None
    allow_auto_assign: bool
    created_at: float
    updated_at: float
    member_ids: list[int] = field(default_factory=list)


@dataclass
class Contact:
    id: int
    account_id: int
    name: str
    email: str | None
    phone_number: str | None
    identifier: str | None
    created_at: float
    updated_at: float
    last_activity_at: float | None = None
    blocked: bool = False
    additional_attributes: dict[str, Any] = field(default_factory=dict)
    custom_attributes: dict[str, Any] = field(default_factory=dict)


@dataclass
class ContactInbox:
    id: int
    contact_id: int
    inbox_id: int
    source_id: str
    pubsub_token: str
    created_at: float
    updated_at: float
    hmac_verified: bool = False


@dataclass
class Message:
    id: int
    account_id: int
    conversation_pk: int
    inbox_id: int
    message_type: MessageType
    content: str
    private: bool
    sender_type: SenderType | None
    sender_id: int | None
    created_at: float
    updated_at: float
    status: str = "sent"
    content_type: str = "text"
    content_attributes: dict[str, Any] = field(default_factory=dict)
    additional_attributes: dict[str, Any] = field(default_factory=dict)
    source_id: str | None = None


@dataclass
class Conversation:
    """One conversation. ``pk`` is the database id; Chatwoot addresses it by ``display_id`` per account."""

    pk: int
    display_id: int
    account_id: int
    uuid: str
    inbox_id: int
    contact_id: int
    contact_inbox_id: int
    status: ConversationStatus
    created_at: float
    last_activity_at: float
    # Microseconds since the epoch: an integer keeps "strictly increasing" exact.
    updated_at_us: int
    priority: Priority | None = None
    assignee_id: int | None = None
    team_id: int | None = None
    labels: list[str] = field(default_factory=list)
    custom_attributes: dict[str, Any] = field(default_factory=dict)
    additional_attributes: dict[str, Any] = field(default_factory=dict)
    snoozed_until: float | None = None
    waiting_since: float | None = None
    first_reply_created_at: float | None = None
    agent_last_seen_at: float | None = None
    assignee_last_seen_at: float | None = None
    contact_last_seen_at: float | None = None
    muted: bool = False
    message_ids: list[int] = field(default_factory=list)

    @property
    def updated_at(self) -> float:
        return self.updated_at_us / 1_000_000
