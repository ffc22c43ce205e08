"""Chatwoot webhook bodies as pydantic models, one per event, discriminated by ``event``, and their parser.

A body is Chatwoot's object ``webhook_data`` with an ``event`` key merged in at the top level (no
envelope). Conversation events carry the conversation itself, message events the message with the
full conversation nested under ``conversation``, contact events the contact (the shapes are in ``shapes``).

Every event exposes the same small interface so the processor does not branch on types:
``account_id``, ``conversation``, ``message`` (normalised) and ``contact``, each ``None`` where it does
not apply. Events the mirror does not act on (widget, typing, inbox, unknown names) subclass
``RecordedOnlyEvent`` and parse permissively: they are recorded, never an error.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Annotated, Any, Literal, TypeAlias, get_args

from pydantic import (
    BaseModel,
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
from chatwoot_integration.webhooks.shapes import (
    AccountRef,
    Attachments,
    AttributeChange,
    Attributes,
    ChangedAttributes,
    ContactData,
    ConversationData,
    ConversationMessage,
    Flag,
    InboxRef,
    NormalizedMessage,
    NormalizedMessageType,
    Sender,
    Shape,
    normalize_sender_type,
)
from chatwoot_integration.webhooks.timestamps import UtcDatetime

__all__ = [
    "KNOWN_EVENTS",
    "ContactCreated",
    "ContactData",
    "ContactUpdated",
    "ConversationCreated",
    "ConversationData",
    "ConversationMessage",
    "ConversationStatusChanged",
    "ConversationTypingOff",
    "ConversationTypingOn",
    "ConversationUpdated",
    "InboxCreated",
    "InboxUpdated",
    "InvalidPayload",
    "MessageCreated",
    "MessageUpdated",
    "NormalizedMessage",
    "RecordedOnlyEvent",
    "UnknownEvent",
    "WebhookEvent",
    "WebwidgetTriggered",
    "normalize_sender_type",
    "parse_webhook",
]


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


class _MessageEvent(Shape):
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


class RecordedOnlyEvent(Shape):
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
