"""What a conversation write needs besides sending: the id directories that guard assignments, and the
description of a write that lets an ambiguous failure be settled by re-reading the conversation."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

import httpx

from chatwoot_integration.chatwoot.errors import ChatwootError, ChatwootNotFound, ChatwootOutcomeUnknown
from chatwoot_integration.chatwoot.models import Conversation
from chatwoot_integration.chatwoot.transport import AmbiguousWrite, ApiRequest, Call, Failure, Transport, log_fields

logger = logging.getLogger("chatwoot_integration.chatwoot.client")

T = TypeVar("T")


@dataclass
class IdDirectory:
    """Ids known to exist in the account (agents or teams) and the clock reading of the last refresh."""

    ids: frozenset[int] = frozenset()
    refreshed_at: float | None = None

    def knows(self, item_id: int, now: float, ttl: float) -> bool:
        fresh = self.refreshed_at is not None and now - self.refreshed_at < ttl
        return fresh and item_id in self.ids

    def replace(self, ids: Iterable[int], now: float) -> None:
        self.ids = frozenset(ids)
        self.refreshed_at = now

    def invalidate(self) -> None:
        self.refreshed_at = None


@dataclass(frozen=True)
class Write(Generic[T]):
    """A conversation write: how to tell from a re-read that it is in place, and the result either way."""

    request: ApiRequest
    display_id: int
    applied: Callable[[Conversation], bool]
    result_from_state: Callable[[Conversation], T]
    result_from_response: Callable[[httpx.Response, ApiRequest], T]


FetchConversation = Callable[[Call, int], Conversation]


def send_write(transport: Transport, write: Write[T], fetch: FetchConversation) -> T:
    """Send a write. After an ambiguous failure, re-read the conversation: if the change is there, answer from
    that state; if not, send again (within the attempts and the budget)."""
    call = transport.start_call()
    while True:
        try:
            response = transport.send(call, write.request)
        except AmbiguousWrite as ambiguous:
            conversation = _reread(transport, call, write, ambiguous.failure, fetch)
            if write.applied(conversation):
                logger.info("chatwoot write confirmed by re-read", extra=log_fields(write.request))
                return write.result_from_state(conversation)
            if call.attempts >= transport.policy.max_attempts:
                raise ambiguous.failure.error from None
            logger.warning("chatwoot write not applied; sending it again", extra=log_fields(write.request))
            continue
        return write.result_from_response(response, write.request)


def _reread(
    transport: Transport, call: Call, write: Write[T], failure: Failure, fetch: FetchConversation
) -> Conversation:
    transport.pause_before_reread(call)
    try:
        # Same time budget as the write, fresh attempt count.
        return fetch(Call(started=call.started), write.display_id)
    except ChatwootNotFound:
        raise
    except ChatwootError as exc:
        request = write.request
        raise ChatwootOutcomeUnknown(
            f"{request.method} {request.path}: outcome unknown after ({failure.error.message}) and the "
            "conversation could not be re-read; nothing was sent again",
            status_code=failure.error.status_code,
            method=request.method,
            path=request.path,
        ) from exc
