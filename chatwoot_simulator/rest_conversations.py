"""The conversation endpoints: listing and showing, status, priority, labels, assignment and messages.

Reads render straight from the tables under the simulator's lock; changes go through the simulator's
Python API once the viewer is known to see the conversation, so a REST change sends exactly the webhooks
the same Python call would.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Literal, cast

from pydantic import BaseModel

from chatwoot_simulator.clock import to_iso
from chatwoot_simulator.presenters import (
    contact_push_event_data,
    rest_agent,
    rest_conversation,
    rest_message,
    team_record,
    user_push_event_data,
)
from chatwoot_simulator.rest_context import RequestContext, can_see, to_i, visible_conversation
from chatwoot_simulator.rest_responses import RestResponse, json_response
from chatwoot_simulator.state import PRIORITY_ORDER, Conversation, ConversationStatus, Message, Priority

JSON = dict[str, Any]

MESSAGES_LATEST = 20
MESSAGES_BEFORE = 20
MESSAGES_AFTER = 100
MESSAGES_BETWEEN = 1000


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
    inbox_id = to_i(context.param("inbox_id"))
    team_id = to_i(context.param("team_id"))
    labels = context.query.get("labels[]", []) + context.query.get("labels", [])
    page = max(to_i(context.param("page")) or 1, 1)
    updated_within = to_i(context.param("updated_within"))
    with sim.locked() as store:
        found = [
            c for c in store.conversations.values() if c.account_id == context.account_id and can_see(store, viewer, c)
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
        conversation = visible_conversation(store, context)
        return json_response(200, rest_conversation(store, conversation, viewer_id=context.viewer.id))


def toggle_status(context: RequestContext) -> RestResponse:
    """Set the status (no ``status`` toggles open/resolved). An ``agent`` token that opens also takes it."""
    body = ToggleStatusBody.model_validate(context.body)
    sim, account_id, display_id = context.sim, context.account_id, context.path["conversation_id"]
    with sim.locked() as store:
        current = visible_conversation(store, context).status
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
        visible_conversation(store, context)
    context.sim.set_priority(context.account_id, context.path["conversation_id"], body.value())
    return RestResponse(status=200)


def list_labels(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        return json_response(200, {"payload": list(visible_conversation(store, context).labels)})


def replace_labels(context: RequestContext) -> RestResponse:
    body = LabelsBody.model_validate(context.body)
    with context.sim.locked() as store:
        visible_conversation(store, context)
    conversation = context.sim.set_labels(context.account_id, context.path["conversation_id"], body.labels)
    return json_response(200, {"payload": conversation.labels})


def create_assignment(context: RequestContext) -> RestResponse:
    """``assignee_id`` wins over ``team_id``; answers the agent, the team row, or ``null``."""
    sim, account_id, display_id = context.sim, context.account_id, context.path["conversation_id"]
    with sim.locked() as store:
        visible_conversation(store, context)
    if "assignee_id" in context.body:
        conversation = sim.assign(account_id, display_id, to_i(context.param("assignee_id")))
        if conversation.assignee_id is None:
            return json_response(200, None)
        return json_response(200, rest_agent(sim.get_agent(account_id, conversation.assignee_id)))
    if "team_id" in context.body:
        conversation = sim.assign_team(account_id, display_id, to_i(context.param("team_id")))
        if conversation.team_id is None:
            return json_response(200, None)
        return json_response(200, team_record(sim.get_team(account_id, conversation.team_id)))
    return json_response(200, None)


def list_messages(context: RequestContext) -> RestResponse:
    """``MessageFinder``: latest 20, 20 before ``before``, 100 after ``after``, up to 1000 between."""
    before = to_i(context.param("before"))
    after = to_i(context.param("after"))
    internal_filtered = (context.param("filter_internal_messages") or "").lower() == "true"
    with context.sim.locked() as store:
        conversation = visible_conversation(store, context)
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
