"""The shapes inside Chatwoot's webhook bodies: conversations, contacts, messages, senders, attachments.

A conversation's ``webhook_data`` is the body of conversation events and the ``conversation`` nested in message
events; a contact's is the body of contact events and a conversation's ``meta.sender``. The models keep typed
only what the mirror needs and ignore everything else (``extra="ignore"``), so fields Chatwoot adds later, and
enterprise keys such as ``applied_sla``/``sla_policy_id``, never break parsing. Chatwoot spells some values two
ways (a message type as a string or as its enum's integer, sender types as Rails classes or snake case): the
validators here bring them to one vocabulary. The events themselves are in ``payloads``.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

from chatwoot_integration.webhooks.timestamps import OptionalUtcDatetime, UtcDatetime

ConversationStatus: TypeAlias = Literal["open", "resolved", "pending", "snoozed"]
ConversationPriority: TypeAlias = Literal["low", "medium", "high", "urgent"]
MessageType: TypeAlias = Literal["incoming", "outgoing", "activity", "template"]

# Inside a conversation payload Chatwoot serialises the message_type enum as its integer value.
_MESSAGE_TYPE_BY_CODE: dict[int, MessageType] = {0: "incoming", 1: "outgoing", 2: "activity", 3: "template"}
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")


def _message_type(value: Any) -> Any:
    if isinstance(value, int) and not isinstance(value, bool):
        return _MESSAGE_TYPE_BY_CODE.get(value, value)
    if isinstance(value, str):
        text = value.strip()
        return _MESSAGE_TYPE_BY_CODE.get(int(text), value) if text.isdigit() else text.lower()
    return value


def _none_as_empty_dict(value: Any) -> Any:
    return {} if value is None else value


def _none_as_empty_list(value: Any) -> Any:
    return [] if value is None else value


def _drop_null_items(value: Any) -> Any:
    # Attachment#push_event_data returns nil for an attachment without a file type.
    if value is None:
        return []
    return [item for item in value if item is not None] if isinstance(value, list) else value


def _none_as_false(value: Any) -> Any:
    return False if value is None else value


def normalize_sender_type(raw: str | None) -> str | None:
    """Map Chatwoot's sender spellings to one vocabulary.

    Nested messages say ``"Contact"``/``"User"``/``"AgentBot"``/``"Captain::Assistant"`` (the Rails class),
    top-level senders say ``"contact"``/``"user"``/``"agent_bot"``/``"captain_assistant"``. Both become the
    snake-case form.
    """
    if not raw:
        return None
    return _CAMEL_BOUNDARY.sub("_", raw.replace("::", "_")).lower()


NormalizedMessageType = Annotated[MessageType, BeforeValidator(_message_type)]
Attributes = Annotated[dict[str, Any], BeforeValidator(_none_as_empty_dict)]
Labels = Annotated[list[str], BeforeValidator(_none_as_empty_list)]
Flag = Annotated[bool, BeforeValidator(_none_as_false)]


class Shape(BaseModel):
    """The base of every webhook model."""

    # Built on first use (cold start): the webhook function never parses payloads at all.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class AccountRef(Shape):
    id: int
    name: str | None = None


class InboxRef(Shape):
    id: int
    name: str | None = None


class TeamRef(Shape):
    id: int
    name: str | None = None


class AttributeChange(Shape):
    previous_value: Any = None
    current_value: Any = None


ChangedAttributes = list[dict[str, AttributeChange]] | None
"""Chatwoot's ``[{"<attr>": {"previous_value": X, "current_value": Y}}, ...]``, or ``null``."""


class ContactData(Shape):
    """A contact: ``Contact#webhook_data`` (events, senders) or ``push_event_data`` (``meta.sender``)."""

    id: int
    name: str | None = None
    email: str | None = None
    phone_number: str | None = None
    identifier: str | None = None
    additional_attributes: Attributes = Field(default_factory=dict)
    custom_attributes: Attributes = Field(default_factory=dict)
    avatar: str | None = None
    thumbnail: str | None = None
    blocked: Flag = False
    account: AccountRef | None = None


class Assignee(Shape):
    """``meta.assignee``: a user (``type: "user"``) or an agent bot (``type: "agent_bot"``)."""

    id: int
    name: str | None = None
    available_name: str | None = None
    type: str | None = None
    # Always null in webhooks (it depends on Current.account, unset in background jobs); kept for shape.
    availability_status: str | None = None


class ConversationMeta(Shape):
    sender: ContactData | None = None
    assignee: Assignee | None = None
    assignee_type: str | None = None
    team: TeamRef | None = None
    hmac_verified: bool | None = None


class ContactInbox(Shape):
    # The row's pubsub_token is the widget's realtime credential; it is deliberately not modelled.
    id: int | None = None
    contact_id: int | None = None
    inbox_id: int | None = None
    source_id: str | None = None
    hmac_verified: bool | None = None


class Sender(Shape):
    """A message sender: a contact (no ``type`` key), a user, an agent bot or a Captain assistant."""

    id: int
    name: str | None = None
    email: str | None = None
    type: str | None = None
    phone_number: str | None = None
    identifier: str | None = None

    @property
    def kind(self) -> str:
        """``contact``, ``user``, ``agent_bot``, ``captain_assistant``, or a newer type snake-cased."""
        return normalize_sender_type(self.type) or "contact"


class Attachment(Shape):
    id: int | None = None
    message_id: int | None = None
    file_type: str | None = None
    account_id: int | None = None
    extension: str | None = None
    data_url: str | None = None
    thumb_url: str | None = None
    file_size: int | None = None
    fallback_title: str | None = None


Attachments = Annotated[list[Attachment], BeforeValidator(_drop_null_items)]


class NormalizedMessage(Shape):
    """One message in a single vocabulary, whether it came top-level or nested in a conversation."""

    id: int
    conversation_id: int = Field(description="The conversation's display id.")
    account_id: int | None
    inbox_id: int | None
    message_type: MessageType
    private: bool
    created_at: datetime
    content: str | None
    content_type: str | None
    sender_type: str | None = Field(description="contact, user, agent_bot, captain_assistant or None.")
    sender_id: int | None


class ConversationMessage(Shape):
    """The message nested in ``conversation.messages``: integer ``message_type``, unix ``created_at``."""

    id: int
    content: str | None = None
    account_id: int | None = None
    inbox_id: int | None = None
    conversation_id: int | None = None
    message_type: NormalizedMessageType
    content_type: str | None = None
    content_attributes: Attributes = Field(default_factory=dict)
    created_at: UtcDatetime
    updated_at: OptionalUtcDatetime = None
    private: Flag = False
    status: str | None = None
    source_id: str | None = None
    sender_type: str | None = None
    sender_id: int | None = None
    sender: Sender | None = None
    attachments: Attachments = Field(default_factory=list)

    def normalized(self, conversation_id: int) -> NormalizedMessage:
        sender_type = normalize_sender_type(self.sender_type)
        sender_id = self.sender_id
        if self.sender is not None:
            sender_type = sender_type or self.sender.kind
            sender_id = self.sender.id if sender_id is None else sender_id
        return NormalizedMessage(
            id=self.id,
            conversation_id=self.conversation_id or conversation_id,
            account_id=self.account_id,
            inbox_id=self.inbox_id,
            message_type=self.message_type,
            private=self.private,
            created_at=self.created_at,
            content=self.content,
            content_type=self.content_type,
            sender_type=sender_type,
            sender_id=sender_id,
        )


class ConversationData(Shape):
    """A conversation's ``webhook_data``: the body of conversation events and ``message.conversation``."""

    id: int = Field(description="The DISPLAY id, unique per account; Chatwoot's REST API addresses it too.")
    inbox_id: int
    status: ConversationStatus
    priority: ConversationPriority | None = None
    labels: Labels = Field(default_factory=list)
    meta: ConversationMeta = Field(default_factory=ConversationMeta)
    custom_attributes: Attributes = Field(default_factory=dict)
    additional_attributes: Attributes = Field(default_factory=dict)
    unread_count: int = 0
    messages: Annotated[list[ConversationMessage], BeforeValidator(_none_as_empty_list)] = Field(default_factory=list)
    channel: str | None = None
    can_reply: bool | None = None
    contact_inbox: ContactInbox | None = None
    snoozed_until: OptionalUtcDatetime = None
    first_reply_created_at: OptionalUtcDatetime = None
    waiting_since: OptionalUtcDatetime = None
    last_activity_at: OptionalUtcDatetime = None
    created_at: OptionalUtcDatetime = None
    timestamp: OptionalUtcDatetime = None
    agent_last_seen_at: OptionalUtcDatetime = None
    contact_last_seen_at: OptionalUtcDatetime = None
    updated_at: UtcDatetime = Field(description="Chatwoot's float updated_at, kept to the microsecond.")
    # Absent before Chatwoot 4.14.2.
    account: AccountRef | None = None

    @property
    def account_id(self) -> int | None:
        return self.account.id if self.account else None

    @property
    def contact(self) -> ContactData | None:
        return self.meta.sender

    @property
    def contact_id(self) -> int | None:
        return self.meta.sender.id if self.meta.sender else None

    @property
    def updated_at_datetime(self) -> datetime:
        return self.updated_at

    @property
    def team_id(self) -> int | None:
        return self.meta.team.id if self.meta.team else None

    @property
    def assignee_kind(self) -> str | None:
        """``user`` or ``agent_bot`` when someone is assigned, else ``None``."""
        if self.meta.assignee is None:
            return None
        declared = self.meta.assignee_type or self.meta.assignee.type
        return normalize_sender_type(declared)

    @property
    def assigned_user_id(self) -> int | None:
        """The assigned agent's user id; ``None`` when unassigned or assigned to a bot."""
        return self.meta.assignee.id if self.meta.assignee and self.assignee_kind == "user" else None

    @property
    def assigned_agent_bot_id(self) -> int | None:
        return self.meta.assignee.id if self.meta.assignee and self.assignee_kind == "agent_bot" else None

    @property
    def last_message(self) -> NormalizedMessage | None:
        """The last non-activity, non-private message at dispatch time (not the opening message)."""
        return self.messages[-1].normalized(self.id) if self.messages else None
