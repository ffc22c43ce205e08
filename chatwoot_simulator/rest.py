"""Chatwoot's account REST API (chatwoot.md 1d), independent of the HTTP server that carries it.

:meth:`RestApi.handle` takes a method, a request target, headers and a body and returns a
:class:`RestResponse`: injected faults first, then authentication by the ``api_access_token`` header,
then the route. Controllers here parse and check input, call the simulator, and render with
:mod:`chatwoot_simulator.presenters`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, cast
from urllib.parse import parse_qs, urlsplit

from pydantic import BaseModel, ConfigDict, ValidationError

from chatwoot_simulator.clock import to_iso
from chatwoot_simulator.counters import UNMATCHED_ROUTE
from chatwoot_simulator.faults import InjectedFault
from chatwoot_simulator.presenters import (
    contact_push_event_data,
    rest_agent,
    rest_contact,
    rest_conversation,
    rest_inbox,
    rest_message,
    rest_team,
    team_record,
    user_push_event_data,
)
from chatwoot_simulator.simulator import Simulator
from chatwoot_simulator.state import (
    PRIORITY_ORDER,
    Agent,
    Availability,
    Conversation,
    ConversationStatus,
    InvalidValueError,
    Message,
    NotFoundError,
    Priority,
    Role,
)
from chatwoot_simulator.store import Store

JSON = dict[str, Any]
_SIGN_IN_REQUIRED = "You need to sign in or sign up before continuing."
_BAD_CREDENTIALS = "Invalid Access Token"
_NOT_IN_ACCOUNT = "You are not authorized to access this account"
_NOT_ALLOWED = "You are not authorized to do this action"
_NOT_FOUND = "Resource could not be found"

MESSAGES_LATEST = 20
MESSAGES_BEFORE = 20
MESSAGES_AFTER = 100
MESSAGES_BETWEEN = 1000


class RestResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = {}

    def parsed(self) -> Any:
        return json.loads(self.body)


class HttpError(Exception):
    """Raised by controllers to answer with an error body ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


@dataclass
class RequestContext:
    sim: Simulator
    account_id: int
    viewer: Agent
    path: dict[str, int]
    query: dict[str, list[str]]
    body: JSON = field(default_factory=dict)

    def param(self, name: str) -> str | None:
        """A body parameter, else the first query value (Rails merges both into ``params``)."""
        if name in self.body:
            value = self.body[name]
            return None if value is None else str(value)
        values = self.query.get(name)
        return values[0] if values else None


Controller = Callable[[RequestContext], RestResponse]


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    controller: Controller
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>\\d+)", self.template)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


# ---------------------------------------------------------------- request bodies


class ToggleStatusBody(BaseModel):
    status: ConversationStatus | None = None
    snoozed_until: float | None = None


class TogglePriorityBody(BaseModel):
    # Chatwoot's documentation also lists "none"; both it and "" clear the priority.
    priority: Priority | Literal["none", ""] | None = None

    def value(self) -> Priority | None:
        return None if self.priority in (None, "none", "") else cast(Priority, self.priority)


class LabelsBody(BaseModel):
    labels: list[str]


class AgentUpdateBody(BaseModel):
    name: str | None = None
    role: Role | None = None
    availability: Availability | None = None
    auto_offline: bool | None = None


# ---------------------------------------------------------------- responses


def json_response(status: int, body: Any) -> RestResponse:
    return RestResponse(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        content_type="application/json; charset=utf-8",
    )


def error_response(status: int, message: str) -> RestResponse:
    return json_response(status, {"error": message})


def fault_response(fault: InjectedFault) -> RestResponse:
    """What a client really meets: rack-attack's plain 429, a proxy's HTML 5xx, a JSON 401."""
    if fault.status == 401:
        return error_response(401, _BAD_CREDENTIALS)
    if fault.status == 429:
        return RestResponse(
            status=429,
            body=b"Retry later\n",
            content_type="text/plain",
            headers={"Retry-After": str(fault.retry_after)},
        )
    title = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    text = f"<html><body><h1>{fault.status} {title.get(fault.status, 'Error')}</h1></body></html>"
    return RestResponse(status=fault.status, body=text.encode(), content_type="text/html")


# ---------------------------------------------------------------- the API


class RestApi:
    """Routes requests to controllers; counts every request in ``sim.requests``."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        prefix = "/api/v1/accounts/{account_id}"
        conversation = prefix + "/conversations/{conversation_id}"
        self._routes = [
            Route("GET", prefix + "/conversations", list_conversations),
            Route("GET", conversation, show_conversation),
            Route("POST", conversation + "/toggle_status", toggle_status),
            Route("POST", conversation + "/toggle_priority", toggle_priority),
            Route("GET", conversation + "/labels", list_labels),
            Route("POST", conversation + "/labels", replace_labels),
            Route("POST", conversation + "/assignments", create_assignment),
            Route("GET", conversation + "/messages", list_messages),
            Route("GET", prefix + "/agents", list_agents),
            Route("PATCH", prefix + "/agents/{agent_id}", update_agent),
            Route("GET", prefix + "/inboxes", list_inboxes),
            Route("GET", prefix + "/inbox_members/{inbox_id}", list_inbox_members),
            Route("GET", prefix + "/teams", list_teams),
            Route("GET", prefix + "/teams/{team_id}/team_members", list_team_members),
            Route("GET", prefix + "/contacts/{contact_id}", show_contact),
        ]

    @property
    def routes(self) -> list[str]:
        return [route.name for route in self._routes]

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> RestResponse:
        split = urlsplit(target)
        # Rails squeezes repeated slashes and ignores a trailing one.
        path = re.sub("/{2,}", "/", split.path).rstrip("/") or "/"
        route, path_params = self._match(method.upper(), path)
        route_name = route.name if route else UNMATCHED_ROUTE
        fault = self._sim.faults.apply()
        if fault is not None:
            response = fault_response(fault)
        elif route is None:
            response = error_response(404, "Not Found")
        else:
            response = self._dispatch(route, path_params, parse_qs(split.query), headers, body)
        self._sim.requests.record(route_name, response.status)
        return response

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, int]]:
        for route in self._routes:
            if route.method == method and (found := route.pattern.match(path)):
                return route, {key: int(value) for key, value in found.groupdict().items()}
        return None, {}

    def _dispatch(
        self,
        route: Route,
        path: dict[str, int],
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> RestResponse:
        try:
            viewer = self._authenticate(headers, path["account_id"])
            context = RequestContext(
                sim=self._sim,
                account_id=path["account_id"],
                viewer=viewer,
                path=path,
                query=query,
                body=_parse_body(body),
            )
            return route.controller(context)
        except HttpError as error:
            return error_response(error.status, error.message)
        except NotFoundError:
            return error_response(404, _NOT_FOUND)
        except (InvalidValueError, ValidationError) as error:
            return error_response(422, _first_line(error))

    def _authenticate(self, headers: Mapping[str, str], account_id: int) -> Agent:
        token = _header(headers, "api_access_token")
        if not token:
            raise HttpError(401, _SIGN_IN_REQUIRED)
        viewer = self._sim.authenticate(token)
        if viewer is None:
            raise HttpError(401, _BAD_CREDENTIALS)
        self._sim.get_account(account_id)
        if viewer.account_id != account_id:
            raise HttpError(401, _NOT_IN_ACCOUNT)
        return viewer


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = {key.lower(): item for key, item in headers.items()}
        value = lowered.get(name.lower())
    return value


def _parse_body(body: bytes) -> JSON:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        raise HttpError(400, "Invalid JSON body") from None
    if not isinstance(parsed, dict):
        raise HttpError(400, "The JSON body must be an object")
    return parsed


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__


def _to_i(value: str | None) -> int | None:
    """Ruby's ``String#to_i``: leading digits, else 0; ``None`` when absent."""
    if value is None:
        return None
    match = re.match(r"\s*([+-]?\d+)", value)
    return int(match.group(1)) if match else 0


def _visible(store: Store, viewer: Agent, conversation: Conversation) -> bool:
    """Administrators see everything; agents only conversations of inboxes they belong to."""
    return viewer.role == "administrator" or viewer.id in store.inboxes[conversation.inbox_id].member_ids


def _conversation(store: Store, context: RequestContext) -> Conversation:
    conversation = store.conversation(context.account_id, context.path["conversation_id"])
    if not _visible(store, context.viewer, conversation):
        raise HttpError(401, _NOT_ALLOWED)
    return conversation


# ---------------------------------------------------------------- conversations

_SORTS: dict[str, list[tuple[Callable[[Conversation], Any], bool]]] = {
    # (key, descending) pairs, most significant first; the pk breaks ties so pages never overlap.
    "last_activity_at_desc": [(lambda c: c.last_activity_at, True), (lambda c: c.pk, True)],
    "last_activity_at_asc": [(lambda c: c.last_activity_at, False), (lambda c: c.pk, False)],
    "created_at_desc": [(lambda c: c.created_at, True), (lambda c: c.pk, True)],
    "created_at_asc": [(lambda c: c.created_at, False), (lambda c: c.pk, False)],
    "priority_desc": [(lambda c: PRIORITY_ORDER[c.priority], True), (lambda c: c.last_activity_at, True)],
    "priority_asc": [(lambda c: PRIORITY_ORDER[c.priority], False), (lambda c: c.last_activity_at, True)],
    "priority_desc_created_at_asc": [
        (lambda c: PRIORITY_ORDER[c.priority], True),
        (lambda c: c.created_at, False),
    ],
    "waiting_since_asc": [(lambda c: (c.waiting_since is None, c.waiting_since or 0.0), False)],
    "waiting_since_desc": [(lambda c: (c.waiting_since is not None, c.waiting_since or 0.0), True)],
}


def _sort(conversations: list[Conversation], sort_by: str | None) -> list[Conversation]:
    keys = _SORTS.get(sort_by or "", _SORTS["last_activity_at_desc"])
    result = sorted(conversations, key=lambda c: c.pk)
    # Stable sorts from the least significant key up give a multi-key order with mixed directions.
    for key, descending in reversed(keys):
        result.sort(key=key, reverse=descending)
    return result


def list_conversations(context: RequestContext) -> RestResponse:
    """``ConversationFinder``: counts before the assignee filter, then a page or the updated_within window."""
    sim, viewer = context.sim, context.viewer
    status = context.param("status") or "open"
    assignee_type = context.param("assignee_type") or "all"
    inbox_id = _to_i(context.param("inbox_id"))
    team_id = _to_i(context.param("team_id"))
    labels = context.query.get("labels[]", []) + context.query.get("labels", [])
    page = max(_to_i(context.param("page")) or 1, 1)
    updated_within = _to_i(context.param("updated_within"))
    with sim.locked() as store:
        found = [
            c for c in store.conversations.values() if c.account_id == context.account_id and _visible(store, viewer, c)
        ]
        if inbox_id is not None:
            found = [c for c in found if c.inbox_id == inbox_id]
        if status != "all":
            found = [c for c in found if c.status == status]
        if team_id is not None:
            found = [c for c in found if c.team_id == team_id]
        if labels:
            found = [c for c in found if set(labels) & set(c.labels)]
        unassigned = sum(1 for c in found if c.assignee_id is None)
        meta = {
            "mine_count": sum(1 for c in found if c.assignee_id == viewer.id),
            "assigned_count": len(found) - unassigned,
            "unassigned_count": unassigned,
            "all_count": len(found),
        }
        if assignee_type == "me":
            found = [c for c in found if c.assignee_id == viewer.id]
        elif assignee_type == "unassigned":
            found = [c for c in found if c.assignee_id is None]
        elif assignee_type == "assigned":
            found = [c for c in found if c.assignee_id is not None]
        found = _sort(found, context.param("sort_by"))
        if updated_within is not None:
            cutoff_us = round((sim.clock.now() - updated_within) * 1_000_000)
            found = [c for c in found if c.updated_at_us > cutoff_us]
        else:
            start = (page - 1) * sim.page_size
            found = found[start : start + sim.page_size]
        payload = [rest_conversation(store, c, viewer_id=viewer.id) for c in found]
    return json_response(200, {"data": {"meta": meta, "payload": payload}})


def show_conversation(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        conversation = _conversation(store, context)
        return json_response(200, rest_conversation(store, conversation, viewer_id=context.viewer.id))


def toggle_status(context: RequestContext) -> RestResponse:
    """Set the status (no ``status`` toggles open/resolved). An ``agent`` token that opens also takes it."""
    body = ToggleStatusBody.model_validate(context.body)
    sim, account_id, display_id = context.sim, context.account_id, context.path["conversation_id"]
    with sim.locked() as store:
        current = _conversation(store, context).status
    status: ConversationStatus = body.status or ("resolved" if current == "open" else "open")
    conversation = sim.set_status(account_id, display_id, status, snoozed_until=body.snoozed_until)
    if context.viewer.role == "agent" and conversation.status == "open":
        conversation = sim.assign(account_id, display_id, context.viewer.id)
    return json_response(
        200,
        {
            "meta": {},
            "payload": {
                "success": True,
                "conversation_id": display_id,
                "current_status": conversation.status,
                "snoozed_until": to_iso(conversation.snoozed_until),
            },
        },
    )


def toggle_priority(context: RequestContext) -> RestResponse:
    """``head :ok``: an empty 200."""
    body = TogglePriorityBody.model_validate(context.body)
    with context.sim.locked() as store:
        _conversation(store, context)
    context.sim.set_priority(context.account_id, context.path["conversation_id"], body.value())
    return RestResponse(status=200)


def list_labels(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        return json_response(200, {"payload": list(_conversation(store, context).labels)})


def replace_labels(context: RequestContext) -> RestResponse:
    body = LabelsBody.model_validate(context.body)
    with context.sim.locked() as store:
        _conversation(store, context)
    conversation = context.sim.set_labels(context.account_id, context.path["conversation_id"], body.labels)
    return json_response(200, {"payload": conversation.labels})


def create_assignment(context: RequestContext) -> RestResponse:
    """``assignee_id`` wins over ``team_id``; answers the agent, the team row, or ``null``."""
    sim, account_id, display_id = context.sim, context.account_id, context.path["conversation_id"]
    with sim.locked() as store:
        _conversation(store, context)
    if "assignee_id" in context.body:
        conversation = sim.assign(account_id, display_id, _to_i(context.param("assignee_id")))
        if conversation.assignee_id is None:
            return json_response(200, None)
        return json_response(200, rest_agent(sim.get_agent(account_id, conversation.assignee_id)))
    if "team_id" in context.body:
        conversation = sim.assign_team(account_id, display_id, _to_i(context.param("team_id")))
        if conversation.team_id is None:
            return json_response(200, None)
        return json_response(200, team_record(sim.get_team(account_id, conversation.team_id)))
    return json_response(200, None)


def list_messages(context: RequestContext) -> RestResponse:
    """``MessageFinder``: latest 20, 20 before ``before``, 100 after ``after``, up to 1000 between."""
    before = _to_i(context.param("before"))
    after = _to_i(context.param("after"))
    internal_filtered = (context.param("filter_internal_messages") or "").lower() == "true"
    with context.sim.locked() as store:
        conversation = _conversation(store, context)
        messages = store.conversation_messages(conversation)
        if internal_filtered:
            messages = [m for m in messages if not m.private and m.message_type != "activity"]
        page = _message_page(messages, before=before, after=after)
        meta: JSON = {
            "labels": list(conversation.labels),
            "additional_attributes": dict(conversation.additional_attributes),
            "contact": contact_push_event_data(store.contacts[conversation.contact_id]),
        }
        if conversation.assignee_id is not None and conversation.assignee_id in store.agents:
            meta["assignee"] = user_push_event_data(store.agents[conversation.assignee_id], in_request=True)
        meta["agent_last_seen_at"] = to_iso(conversation.agent_last_seen_at)
        meta["assignee_last_seen_at"] = to_iso(conversation.assignee_last_seen_at)
        payload = [rest_message(store, message) for message in page]
    return json_response(200, {"meta": meta, "payload": payload})


def _message_page(messages: list[Message], *, before: int | None, after: int | None) -> list[Message]:
    ordered = sorted(messages, key=lambda m: (m.created_at, m.id))
    if after is not None and before is not None:
        return [m for m in ordered if after <= m.id < before][:MESSAGES_BETWEEN]
    if before is not None:
        return [m for m in ordered if m.id < before][-MESSAGES_BEFORE:]
    if after is not None:
        return [m for m in ordered if m.id > after][:MESSAGES_AFTER]
    return ordered[-MESSAGES_LATEST:]


# ---------------------------------------------------------------- agents, inboxes, teams, contacts


def _sorted_agents(agents: list[Agent]) -> list[Agent]:
    return sorted(agents, key=lambda agent: (agent.name.lower(), agent.id))


def list_agents(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        agents = _sorted_agents(store.agents_of(context.account_id))
        return json_response(200, [rest_agent(agent) for agent in agents])


def update_agent(context: RequestContext) -> RestResponse:
    if context.viewer.role != "administrator":
        raise HttpError(401, _NOT_ALLOWED)
    body = AgentUpdateBody.model_validate(context.body)
    agent = context.sim.update_agent(
        context.account_id,
        context.path["agent_id"],
        name=body.name,
        role=body.role,
        availability=body.availability,
        auto_offline=body.auto_offline,
    )
    return json_response(200, rest_agent(agent))


def list_inboxes(context: RequestContext) -> RestResponse:
    viewer = context.viewer
    with context.sim.locked() as store:
        inboxes = sorted(
            (
                inbox
                for inbox in store.inboxes.values()
                if inbox.account_id == context.account_id
                and (viewer.role == "administrator" or viewer.id in inbox.member_ids)
            ),
            key=lambda inbox: (inbox.name.lower(), inbox.id),
        )
        return json_response(200, {"payload": [rest_inbox(inbox) for inbox in inboxes]})


def list_inbox_members(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        inbox = store.inbox(context.account_id, context.path["inbox_id"])
        members = _sorted_agents([store.agents[agent_id] for agent_id in inbox.member_ids])
        return json_response(200, {"payload": [rest_agent(agent) for agent in members]})


def list_teams(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        teams = sorted(
            (team for team in store.teams.values() if team.account_id == context.account_id),
            key=lambda team: team.id,
        )
        return json_response(200, [rest_team(team, viewer_id=context.viewer.id) for team in teams])


def list_team_members(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        team = store.team(context.account_id, context.path["team_id"])
        members = _sorted_agents([store.agents[agent_id] for agent_id in team.member_ids])
        return json_response(200, [rest_agent(agent) for agent in members])


def show_contact(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        contact = store.contact(context.account_id, context.path["contact_id"])
        return json_response(200, {"payload": rest_contact(store, contact, with_contact_inboxes=True)})
