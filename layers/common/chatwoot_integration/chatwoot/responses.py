"""Reading Chatwoot's answers: JSON, the expected shape, and typed models, with errors that never quote values."""

from __future__ import annotations

from typing import Any, TypeVar, get_args

import httpx
from pydantic import ConfigDict, TypeAdapter, ValidationError

from chatwoot_integration.chatwoot.errors import ChatwootInvalidResponse
from chatwoot_integration.chatwoot.models import (
    Agent,
    Contact,
    Conversation,
    ConversationCounts,
    Inbox,
    Message,
    MessagesMeta,
    Team,
    ToggleStatusResult,
)
from chatwoot_integration.chatwoot.transport import ApiRequest

T = TypeVar("T")


def decode_json(response: httpx.Response, request: ApiRequest) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise ChatwootInvalidResponse(
            f"{request.method} {request.path}: response is not JSON",
            status_code=response.status_code,
            method=request.method,
            path=request.path,
        ) from exc


def expect_object(value: Any, request: ApiRequest) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise ChatwootInvalidResponse(
            f"{request.method} {request.path}: expected a JSON object, got {type(value).__name__}",
            method=request.method,
            path=request.path,
        )
    return value


def parse(adapter: TypeAdapter[T], value: Any, request: ApiRequest) -> T:
    """Validate a decoded body; a mismatch becomes ``ChatwootInvalidResponse`` naming fields, never values."""
    try:
        return adapter.validate_python(value)
    except ValidationError as exc:
        # Only locations and error types: the offending values may hold personal data or message content.
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"]) or "<root>"
        raise ChatwootInvalidResponse(
            f"{request.method} {request.path}: unexpected response shape "
            f"({exc.error_count()} error(s), first at {location}: {first['type']})",
            method=request.method,
            path=request.path,
        ) from None


DEFERRED = ConfigDict(defer_build=True)
# Schemas are built on first use (cold start): a function calls only a few of these endpoints.
AGENT = TypeAdapter(Agent)
AGENTS: TypeAdapter[list[Agent]] = TypeAdapter(list[Agent], config=DEFERRED)
OPTIONAL_AGENT: TypeAdapter[Agent | None] = TypeAdapter(Agent | None, config=DEFERRED)
TEAMS: TypeAdapter[list[Team]] = TypeAdapter(list[Team], config=DEFERRED)
OPTIONAL_TEAM: TypeAdapter[Team | None] = TypeAdapter(Team | None, config=DEFERRED)
INBOXES: TypeAdapter[list[Inbox]] = TypeAdapter(list[Inbox], config=DEFERRED)
CONTACT = TypeAdapter(Contact)
CONVERSATION = TypeAdapter(Conversation)
CONVERSATIONS: TypeAdapter[list[Conversation]] = TypeAdapter(list[Conversation], config=DEFERRED)
COUNTS = TypeAdapter(ConversationCounts)
MESSAGES: TypeAdapter[list[Message]] = TypeAdapter(list[Message], config=DEFERRED)
MESSAGES_META = TypeAdapter(MessagesMeta)
LABELS: TypeAdapter[list[str]] = TypeAdapter(list[str], config=DEFERRED)
TOGGLE_STATUS = TypeAdapter(ToggleStatusResult)


def require_choice(value: str, choices: Any, name: str) -> None:
    allowed = get_args(choices)
    if value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}")


def payload(body: Any, request: ApiRequest) -> Any:
    return expect_object(body, request).get("payload")


def optional_json(response: httpx.Response, request: ApiRequest) -> Any:
    """Assignment answers are ``null`` when nobody is assigned; tolerate an empty body meaning the same."""
    return decode_json(response, request) if response.content.strip() else None


def labels(body: Any, request: ApiRequest) -> list[str]:
    return parse(LABELS, payload(body, request), request)


def status_result(conversation: Conversation) -> ToggleStatusResult:
    return ToggleStatusResult(
        success=True,
        conversation_id=conversation.id,
        current_status=conversation.status,
        snoozed_until=conversation.snoozed_until,
    )


def nothing(_conversation: Conversation) -> None:
    return None


def no_body(_response: httpx.Response, _request: ApiRequest) -> None:
    return None
