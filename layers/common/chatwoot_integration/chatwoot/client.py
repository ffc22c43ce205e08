"""Typed client for the part of Chatwoot's REST API this integration uses (account level, user token).

Every call is bounded: a few attempts, exponential backoff with full jitter, a total time budget and an
optional caller deadline (e.g. the Lambda's remaining time). Reads retry freely. A write is re-sent at once
only when Chatwoot certainly did not process it; after an ambiguous failure (read timeout, dropped
connection, 502/504) the client re-reads the conversation and re-sends only if the change is not there.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any, TypeVar

import httpx
from pydantic import ConfigDict

from chatwoot_integration.chatwoot import responses
from chatwoot_integration.chatwoot.errors import (
    UnknownAgentError,
    UnknownTeamError,
)
from chatwoot_integration.chatwoot.http import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT, get_http_client
from chatwoot_integration.chatwoot.models import (
    Agent,
    AssigneeFilter,
    Availability,
    Contact,
    Conversation,
    ConversationPage,
    ConversationSort,
    ConversationStatus,
    ConversationStatusFilter,
    Inbox,
    MessagesPage,
    Priority,
    Team,
    ToggleStatusResult,
    unix_to_datetime,
)
from chatwoot_integration.chatwoot.responses import decode_json, expect_object, parse
from chatwoot_integration.chatwoot.retry import RetryPolicy
from chatwoot_integration.chatwoot.transport import (
    ApiRequest,
    Call,
    QueryParams,
    Timing,
    Transport,
    log_fields,
)
from chatwoot_integration.chatwoot.writes import IdDirectory, Write, send_write

__all__ = ["DEFAULT_POLICY", "ChatwootClient", "get_http_client"]

logger = logging.getLogger(__name__)

DEFAULT_POLICY = RetryPolicy()
# Long enough to spare a list call per assignment in a batch, short enough that a new agent or team
# becomes assignable within a minute even without the refresh that a miss triggers.
DEFAULT_DIRECTORY_TTL = 60.0

T = TypeVar("T")
_DEFERRED = ConfigDict(defer_build=True)


def _utc_now() -> datetime:
    return datetime.now(UTC)


class ChatwootClient:
    """Typed access to one Chatwoot account.

    ``deadline`` returns the ``clock`` reading by which everything must be finished, or None. It is called
    before every attempt and backoff, so it may read per-invocation state. No attempt or backoff is started
    that would end past it or past ``policy.total_budget``; ``ChatwootBudgetExceeded`` is raised instead.
    ``jitter`` returns a uniform number in [0, 1) for the backoff; ``wall_clock`` (aware UTC) is only used
    to read HTTP-date ``Retry-After`` headers.
    """

    def __init__(
        self,
        base_url: str,
        account_id: int,
        api_token: str,
        *,
        http: httpx.Client | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        deadline: Callable[[], float | None] | None = None,
        jitter: Callable[[], float] = random.random,
        wall_clock: Callable[[], datetime] = _utc_now,
        connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
        read_timeout: float = DEFAULT_READ_TIMEOUT,
        directory_ttl: float = DEFAULT_DIRECTORY_TTL,
    ) -> None:
        if not base_url.startswith(("http://", "https://")):
            raise ValueError("base_url must be an http(s) URL")
        if not api_token:
            raise ValueError("api_token must not be empty")
        timing = Timing(
            policy=policy,
            sleep=sleep,
            clock=clock,
            deadline=deadline,
            jitter=jitter,
            wall_clock=wall_clock,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self._transport = Transport(base_url, api_token, http if http is not None else get_http_client(), timing)
        self._account_id = account_id
        self._directory_ttl = directory_ttl
        self._agents = IdDirectory()
        self._teams = IdDirectory()

    def __repr__(self) -> str:
        return f"ChatwootClient({self._transport!r}, account_id={self._account_id})"

    @property
    def account_id(self) -> int:
        return self._account_id

    # ---- conversations -------------------------------------------------------------------------------

    def list_conversations(
        self,
        *,
        status: ConversationStatusFilter = "all",
        assignee_type: AssigneeFilter | None = None,
        page: int = 1,
        sort_by: ConversationSort | None = None,
        updated_within: int | None = None,
        inbox_id: int | None = None,
        team_id: int | None = None,
        labels: Iterable[str] | None = None,
    ) -> ConversationPage:
        """One page of conversations; with ``updated_within`` (seconds), every conversation whose
        ``updated_at`` falls in that window, unpaged (``page`` is then not sent)."""
        params: QueryParams = [("status", status)]
        if assignee_type is not None:
            params.append(("assignee_type", assignee_type))
        if updated_within is None:
            params.append(("page", page))
        else:
            params.append(("updated_within", updated_within))
        optional: QueryParams = [("sort_by", sort_by), ("inbox_id", inbox_id), ("team_id", team_id)]
        params.extend((name, value) for name, value in optional if value is not None)
        params.extend(("labels[]", label) for label in labels or ())
        request = ApiRequest("GET", self._path("/conversations"), params=params)
        data = expect_object(expect_object(self._fetch_json(request), request).get("data"), request)
        return ConversationPage(
            items=parse(responses.CONVERSATIONS, data.get("payload"), request),
            meta=parse(responses.COUNTS, data.get("meta") or {}, request),
            page=None if updated_within is not None else page,
        )

    def get_conversation(self, display_id: int) -> Conversation:
        return self._fetch_conversation(self._transport.start_call(), display_id)

    def toggle_status(
        self, display_id: int, status: ConversationStatus, snoozed_until: int | None = None
    ) -> ToggleStatusResult:
        """Set the status; ``snoozed_until`` (unix seconds) only matters with ``snoozed``.

        With an ``agent``-role token Chatwoot also assigns a conversation it opens to the token's user:
        use an administrator's token.
        """
        responses.require_choice(status, ConversationStatus, "status")
        body: dict[str, Any] = {"status": status}
        if snoozed_until is not None:
            body["snoozed_until"] = snoozed_until
        wanted_snooze = None if snoozed_until is None else unix_to_datetime(snoozed_until)

        def applied(conversation: Conversation) -> bool:
            snooze_ok = wanted_snooze is None or conversation.snoozed_until == wanted_snooze
            return conversation.status == status and snooze_ok

        def from_response(response: httpx.Response, request: ApiRequest) -> ToggleStatusResult:
            payload = expect_object(decode_json(response, request), request).get("payload")
            return parse(responses.TOGGLE_STATUS, payload, request)

        return self._write(
            Write(
                request=self._conversation_write(display_id, "/toggle_status", body),
                display_id=display_id,
                applied=applied,
                result_from_state=responses.status_result,
                result_from_response=from_response,
            )
        )

    def toggle_priority(self, display_id: int, priority: Priority | None) -> None:
        """Set the priority; None clears it (Chatwoot stores ``priority.presence``)."""
        if priority is not None:
            responses.require_choice(priority, Priority, "priority")
        self._write(
            Write(
                request=self._conversation_write(display_id, "/toggle_priority", {"priority": priority}),
                display_id=display_id,
                applied=lambda conversation: conversation.priority == priority,
                result_from_state=responses.nothing,
                result_from_response=responses.no_body,
            )
        )

    def list_labels(self, display_id: int) -> list[str]:
        request = ApiRequest("GET", self._conversation_path(display_id, "/labels"))
        return responses.labels(self._fetch_json(request), request)

    def set_labels(self, display_id: int, labels: Iterable[str]) -> list[str]:
        """Replace the conversation's labels; returns the list Chatwoot now holds."""
        wanted = list(dict.fromkeys(labels))
        wanted_keys = {label.casefold() for label in wanted}
        return self._write(
            Write(
                request=self._conversation_write(display_id, "/labels", {"labels": wanted}),
                display_id=display_id,
                applied=lambda conversation: {label.casefold() for label in conversation.labels} == wanted_keys,
                result_from_state=lambda conversation: list(conversation.labels),
                result_from_response=lambda response, request: responses.labels(
                    decode_json(response, request), request
                ),
            )
        )

    def assign_agent(self, display_id: int, agent_id: int) -> Agent | None:
        """Assign the conversation to an agent of the account.

        Chatwoot silently unassigns when given an id it does not know, so the id is first checked against
        the account's agents (cached for ``directory_ttl``, refreshed once on a miss): ``UnknownAgentError``
        means nothing was sent. Returns the agent, or None if Chatwoot answered that nobody is assigned
        (the agent left the account in between).
        """
        self._require_known(self._agents, agent_id, self.list_agents, UnknownAgentError)

        def from_response(response: httpx.Response, request: ApiRequest) -> Agent | None:
            agent = parse(responses.OPTIONAL_AGENT, responses.optional_json(response, request), request)
            if agent is None:
                logger.warning("chatwoot assignment left the conversation unassigned", extra=log_fields(request))
                self._agents.invalidate()
            return agent

        return self._write(
            Write(
                request=self._conversation_write(display_id, "/assignments", {"assignee_id": agent_id}),
                display_id=display_id,
                applied=lambda conversation: conversation.assignee_id == agent_id,
                result_from_state=lambda conversation: conversation.meta.assignee,
                result_from_response=from_response,
            )
        )

    def unassign(self, display_id: int) -> None:
        """Remove the agent assignee: ``assignee_id: null``, which Chatwoot resolves to nobody."""
        self._write(
            Write(
                request=self._conversation_write(display_id, "/assignments", {"assignee_id": None}),
                display_id=display_id,
                applied=lambda conversation: conversation.assignee_id is None,
                result_from_state=responses.nothing,
                result_from_response=responses.no_body,
            )
        )

    def assign_team(self, display_id: int, team_id: int | None) -> Team | None:
        """Set the conversation's team; None removes it. An id Chatwoot does not know would silently remove
        the team, so it is checked first like agents (``UnknownTeamError``: nothing was sent)."""
        if team_id is not None:
            self._require_known(self._teams, team_id, self.list_teams, UnknownTeamError)
        return self._write(
            Write(
                request=self._conversation_write(display_id, "/assignments", {"team_id": team_id}),
                display_id=display_id,
                applied=lambda conversation: conversation.team_id == team_id,
                result_from_state=lambda conversation: conversation.meta.team,
                result_from_response=lambda response, request: parse(
                    responses.OPTIONAL_TEAM, responses.optional_json(response, request), request
                ),
            )
        )

    def list_messages(self, display_id: int, *, before: int | None = None, after: int | None = None) -> MessagesPage:
        """The latest 20 messages; 20 before message id ``before``; or up to 100 after ``after``."""
        params: QueryParams = [
            (name, value) for name, value in (("before", before), ("after", after)) if value is not None
        ]
        request = ApiRequest("GET", self._conversation_path(display_id, "/messages"), params=params or None)
        body = expect_object(self._fetch_json(request), request)
        return MessagesPage(
            items=parse(responses.MESSAGES, body.get("payload"), request),
            meta=parse(responses.MESSAGES_META, body.get("meta") or {}, request),
        )

    # ---- agents, inboxes, teams, contacts ------------------------------------------------------------

    def list_agents(self) -> list[Agent]:
        """Every agent of the account (one unpaginated array). Also refreshes the assignment guard."""
        request = ApiRequest("GET", self._path("/agents"))
        agents = parse(responses.AGENTS, self._fetch_json(request), request)
        self._agents.replace((agent.id for agent in agents), self._transport.now())
        return agents

    def update_agent_availability(self, agent_id: int, availability: Availability) -> Agent:
        """Set the agent's configured availability. The returned ``availability_status`` is the effective
        one, which stays ``offline`` for an ``auto_offline`` agent without a live presence."""
        responses.require_choice(availability, Availability, "availability")
        # PATCH of an absolute value: re-sending it is harmless, so it retries like a read.
        request = ApiRequest("PATCH", self._path(f"/agents/{agent_id}"), body={"availability": availability})
        return parse(responses.AGENT, self._fetch_json(request), request)

    def list_inboxes(self) -> list[Inbox]:
        request = ApiRequest("GET", self._path("/inboxes"))
        return parse(responses.INBOXES, responses.payload(self._fetch_json(request), request), request)

    def list_inbox_members(self, inbox_id: int) -> list[Agent]:
        request = ApiRequest("GET", self._path(f"/inbox_members/{inbox_id}"))
        return parse(responses.AGENTS, responses.payload(self._fetch_json(request), request), request)

    def list_teams(self) -> list[Team]:
        """Every team of the account. Also refreshes the team assignment guard."""
        request = ApiRequest("GET", self._path("/teams"))
        teams = parse(responses.TEAMS, self._fetch_json(request), request)
        self._teams.replace((team.id for team in teams), self._transport.now())
        return teams

    def list_team_members(self, team_id: int) -> list[Agent]:
        request = ApiRequest("GET", self._path(f"/teams/{team_id}/team_members"))
        return parse(responses.AGENTS, self._fetch_json(request), request)

    def get_contact(self, contact_id: int) -> Contact:
        request = ApiRequest("GET", self._path(f"/contacts/{contact_id}"))
        return parse(responses.CONTACT, responses.payload(self._fetch_json(request), request), request)

    # ---- internals -----------------------------------------------------------------------------------

    def _fetch_json(self, request: ApiRequest) -> Any:
        """Send an idempotent request with retries and return its decoded JSON body."""
        return decode_json(self._transport.send(self._transport.start_call(), request), request)

    def _require_known(
        self,
        directory: IdDirectory,
        item_id: int,
        refresh: Callable[[], object],
        error: type[UnknownAgentError | UnknownTeamError],
    ) -> None:
        if item_id <= 0:
            raise error(item_id)
        if directory.knows(item_id, self._transport.now(), self._directory_ttl):
            return
        refresh()
        if item_id not in directory.ids:
            raise error(item_id)

    def _write(self, write: Write[T]) -> T:
        return send_write(self._transport, write, self._fetch_conversation)

    def _fetch_conversation(self, call: Call, display_id: int) -> Conversation:
        request = ApiRequest("GET", self._conversation_path(display_id))
        return parse(responses.CONVERSATION, decode_json(self._transport.send(call, request), request), request)

    def _path(self, suffix: str) -> str:
        return f"/api/v1/accounts/{self._account_id}{suffix}"

    def _conversation_path(self, display_id: int, suffix: str = "") -> str:
        return self._path(f"/conversations/{display_id}{suffix}")

    def _conversation_write(self, display_id: int, suffix: str, body: dict[str, Any]) -> ApiRequest:
        return ApiRequest("POST", self._conversation_path(display_id, suffix), body=body, idempotent=False)
