"""Chatwoot webhook bodies as pydantic models, one per event, discriminated by ``event``.

A body is Chatwoot's object ``webhook_data`` with an ``event`` key merged in at the top level (no
envelope). Conversation events carry the conversation itself, message events the message with the
full conversation nested under ``conversation``, contact events the contact. The models keep typed
only what the mirror needs and ignore everything else (``extra="ignore"``), so fields Chatwoot adds
later, and enterprise keys such as ``applied_sla``/``sla_policy_id``, never break parsing.

Every event exposes the same small interface so the processor does not branch on types:
``account_id``, ``conversation``, ``message`` (normalised) and ``contact``, each ``None`` where it does
not apply. Events the mirror does not act on (widget, typing, inbox, unknown names) subclass
``RecordedOnlyEvent`` and parse permissively: they are recorded, never an error.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    ValidatorFunctionWrapHandler,
    WrapValidator,
    model_validator,
)

from chatwoot_integration.webhooks.errors import InvalidPayload
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


class _Model(BaseModel):
    # Built on first use (cold start): the webhook function never parses payloads at all.
    model_config = ConfigDict(extra="ignore", frozen=True, defer_build=True)


class AccountRef(_Model):
    id: int
    name: str | None = None


class InboxRef(_Model):
    id: int
    name: str | None = None


class TeamRef(_Model):
    id: int
    name: str | None = None


class AttributeChange(_Model):
    previous_value: Any = None
    current_value: Any = None


ChangedAttributes = list[dict[str, AttributeChange]] | None
"""Chatwoot's ``[{"<attr>": {"previous_value": X, "current_value": Y}}, ...]``, or ``null``."""


class ContactData(_Model):
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


class Assignee(_Model):
    """``meta.assignee``: a user (``type: "user"``) or an agent bot (``type: "agent_bot"``)."""

    id: int
    name: str | None = None
    available_name: str | None = None
    type: str | None = None
    # Always null in webhooks (it depends on Current.account, unset in background jobs); kept for shape.
    availability_status: str | None = None


class ConversationMeta(_Model):
    sender: ContactData | None = None
    assignee: Assignee | None = None
    assignee_type: str | None = None
    team: TeamRef | None = None
    hmac_verified: bool | None = None


class ContactInbox(_Model):
    # The row's pubsub_token is the widget's realtime credential; it is deliberately not modelled.
    id: int | None = None
    contact_id: int | None = None
    inbox_id: int | None = None
    source_id: str | None = None
    hmac_verified: bool | None = None


class Sender(_Model):
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


class Attachment(_Model):
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


class NormalizedMessage(_Model):
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


class ConversationMessage(_Model):
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


class ConversationData(_Model):
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


class _ConversationEvent(ConversationData):
    changed_attributes: ChangedAttributes = None

    @property
    def conversation(self) -> ConversationData:
        return self

    @property
    def message(self) -> NormalizedMessage | None:
        return None

    @property
    def changes(self) -> dict[str, AttributeChange]:
        """``changed_attributes`` flattened to ``{attr: change}``; empty when Chatwoot sent ``null``."""
        return _flatten_changes(self.changed_attributes)


class ConversationCreated(_ConversationEvent):
    event: Literal["conversation_created"]


class ConversationUpdated(_ConversationEvent):
    event: Literal["conversation_updated"]


class ConversationStatusChanged(_ConversationEvent):
    """Comes with a ``conversation_updated``; ``changed_attributes`` is normally null, so read ``status``."""

    event: Literal["conversation_status_changed"]


class _MessageEvent(_Model):
    id: int
    content: str | None = None
    content_type: str | None = None
    content_attributes: Attributes = Field(default_factory=dict)
    additional_attributes: Attributes = Field(default_factory=dict)
    # A string here ("incoming"...); activity messages are never sent but would still parse.
    message_type: NormalizedMessageType
    private: Flag = False
    created_at: UtcDatetime
    sender: Sender | None = None
    inbox: InboxRef | None = None
    account: AccountRef | None = None
    source_id: str | None = None
    attachments: Attachments = Field(default_factory=list)
    conversation: ConversationData

    @property
    def account_id(self) -> int | None:
        if self.account:
            return self.account.id
        return self.conversation.account_id

    @property
    def contact(self) -> ContactData | None:
        return self.conversation.contact

    @property
    def message(self) -> NormalizedMessage:
        return NormalizedMessage(
            id=self.id,
            conversation_id=self.conversation.id,
            account_id=self.account_id,
            inbox_id=self.inbox.id if self.inbox else self.conversation.inbox_id,
            message_type=self.message_type,
            private=self.private,
            created_at=self.created_at,
            content=self.content,
            content_type=self.content_type,
            sender_type=self.sender.kind if self.sender else None,
            sender_id=self.sender.id if self.sender else None,
        )


class MessageCreated(_MessageEvent):
    event: Literal["message_created"]


class MessageUpdated(_MessageEvent):
    """No ``updated_at``, ``status`` or ``changed_attributes`` in this payload (Chatwoot 4.15)."""

    event: Literal["message_updated"]


class _ContactEvent(ContactData):
    changed_attributes: ChangedAttributes = None

    @property
    def account_id(self) -> int | None:
        return self.account.id if self.account else None

    @property
    def contact(self) -> ContactData:
        return self

    @property
    def conversation(self) -> ConversationData | None:
        return None

    @property
    def message(self) -> NormalizedMessage | None:
        return None

    @property
    def changes(self) -> dict[str, AttributeChange]:
        return _flatten_changes(self.changed_attributes)


class ContactCreated(_ContactEvent):
    event: Literal["contact_created"]


class ContactUpdated(_ContactEvent):
    event: Literal["contact_updated"]


def _account_or_none(value: Any, handler: ValidatorFunctionWrapHandler) -> AccountRef | None:
    try:
        account: AccountRef | None = handler(value)
    except ValidationError:
        return None
    return account


class RecordedOnlyEvent(_Model):
    """An event the mirror records (from the raw body) and otherwise ignores; any shape parses.

    Only the account is kept, leniently: a missing or malformed one is ``None``, never an error.
    """

    account: Annotated[AccountRef | None, WrapValidator(_account_or_none)] = None

    @model_validator(mode="before")
    @classmethod
    def _account_from_conversation(cls, data: Any) -> Any:
        # Typing events carry the account only inside their conversation.
        if isinstance(data, dict) and data.get("account") is None:
            conversation = data.get("conversation")
            if isinstance(conversation, dict) and conversation.get("account") is not None:
                return {**data, "account": conversation["account"]}
        return data

    @property
    def account_id(self) -> int | None:
        return self.account.id if self.account else None

    @property
    def conversation(self) -> ConversationData | None:
        return None

    @property
    def message(self) -> NormalizedMessage | None:
        return None

    @property
    def contact(self) -> ContactData | None:
        return None


class WebwidgetTriggered(RecordedOnlyEvent):
    event: Literal["webwidget_triggered"]


class ConversationTypingOn(RecordedOnlyEvent):
    event: Literal["conversation_typing_on"]


class ConversationTypingOff(RecordedOnlyEvent):
    event: Literal["conversation_typing_off"]


class InboxCreated(RecordedOnlyEvent):
    event: Literal["inbox_created"]


class InboxUpdated(RecordedOnlyEvent):
    event: Literal["inbox_updated"]


class UnknownEvent(RecordedOnlyEvent):
    """Any event name this code does not know (a newer Chatwoot, a custom fork)."""

    event: str


def _flatten_changes(changed: ChangedAttributes) -> dict[str, AttributeChange]:
    return {name: change for entry in changed or [] for name, change in entry.items()}


_EVENT_MODELS: tuple[type[BaseModel], ...] = (
    ConversationCreated,
    ConversationUpdated,
    ConversationStatusChanged,
    MessageCreated,
    MessageUpdated,
    ContactCreated,
    ContactUpdated,
    WebwidgetTriggered,
    ConversationTypingOn,
    ConversationTypingOff,
    InboxCreated,
    InboxUpdated,
)
_UNKNOWN_TAG = "__unknown__"


def _event_name(model: type[BaseModel]) -> str:
    (name,) = get_args(model.model_fields["event"].annotation)
    return str(name)


KNOWN_EVENTS: frozenset[str] = frozenset(_event_name(model) for model in _EVENT_MODELS)
"""Every event name with a dedicated model (Chatwoot's ``Webhook::ALLOWED_WEBHOOK_EVENTS``)."""


def _event_tag(value: Any) -> str | None:
    name = value.get("event") if isinstance(value, dict) else getattr(value, "event", None)
    if not isinstance(name, str):
        return None
    return name if name in KNOWN_EVENTS else _UNKNOWN_TAG


WebhookEvent: TypeAlias = Annotated[
    Annotated[ConversationCreated, Tag("conversation_created")]
    | Annotated[ConversationUpdated, Tag("conversation_updated")]
    | Annotated[ConversationStatusChanged, Tag("conversation_status_changed")]
    | Annotated[MessageCreated, Tag("message_created")]
    | Annotated[MessageUpdated, Tag("message_updated")]
    | Annotated[ContactCreated, Tag("contact_created")]
    | Annotated[ContactUpdated, Tag("contact_updated")]
    | Annotated[WebwidgetTriggered, Tag("webwidget_triggered")]
    | Annotated[ConversationTypingOn, Tag("conversation_typing_on")]
    | Annotated[ConversationTypingOff, Tag("conversation_typing_off")]
    | Annotated[InboxCreated, Tag("inbox_created")]
    | Annotated[InboxUpdated, Tag("inbox_updated")]
    | Annotated[UnknownEvent, Tag(_UNKNOWN_TAG)],
    Discriminator(_event_tag),
]

# Built on the first parse, not at import: the webhook function never parses, the processor on its first batch.
_WEBHOOK_EVENT_ADAPTER: TypeAdapter[WebhookEvent] = TypeAdapter(WebhookEvent, config=ConfigDict(defer_build=True))
_MAX_REPORTED_PROBLEMS = 5


def parse_webhook(body: bytes | bytearray | str | Mapping[str, Any]) -> WebhookEvent:
    """Parse a raw webhook body (or an already decoded JSON object) into its event model.

    Unknown event names give an ``UnknownEvent``; a body that is not a JSON object with a non-empty
    string ``event``, or a known event whose typed fields are missing or wrong, raises
    ``InvalidPayload``.
    """
    data = _decode_object(body)
    name = data.get("event")
    if name is None:
        raise InvalidPayload("missing_event", "webhook body has no 'event' key")
    if not isinstance(name, str) or not name:
        raise InvalidPayload("invalid_event", "webhook 'event' is not a non-empty string")
    try:
        return _WEBHOOK_EVENT_ADAPTER.validate_python(data)
    except ValidationError as error:
        problems = _describe_problems(error)
        shown = ", ".join(problems[:_MAX_REPORTED_PROBLEMS])
        more = len(problems) - _MAX_REPORTED_PROBLEMS
        suffix = f" (and {more} more)" if more > 0 else ""
        # `from None`: the pydantic error embeds input values, which must not reach logs.
        raise InvalidPayload(
            "invalid_fields", f"invalid {name} payload: {shown}{suffix}", event=name, problems=problems
        ) from None


def _decode_object(body: bytes | bytearray | str | Mapping[str, Any]) -> dict[str, Any]:
    if isinstance(body, Mapping):
        return dict(body)
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        # ValueError covers JSONDecodeError and UnicodeDecodeError.
        raise InvalidPayload("not_json", "webhook body is not valid UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise InvalidPayload("not_an_object", "webhook body is not a JSON object")
    return data


def _describe_problems(error: ValidationError) -> tuple[str, ...]:
    problems = []
    for detail in error.errors(include_url=False, include_input=False, include_context=False):
        # The first location element is the union tag (the event name); the rest is the field path.
        location = ".".join(str(part) for part in detail["loc"][1:]) or "<body>"
        problems.append(f"{location} ({detail['type']})")
    return tuple(problems)
