"""The API's routes. Each one calls one service and returns a model.

Every route is under ``/integrations``: a tenant reaches its data through its integrations, and the handler has
already checked (``auth.authorize_request``) that an integration in the path is the caller's tenant's and that
the caller's role may use the route. The services and the caller come from the handler through the resolver's
context.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter

from ..bootstrap import Components
from ..models.actor import Actor
from ..models.agent import Agent, AgentFilter, AgentPatch, AgentSummary
from ..models.change import Change
from ..models.common import MAX_ID, Availability, ConversationStatus, Priority, SyncStatus
from ..models.conversation import ConversationDetail, ConversationFilter, ConversationPatch
from ..models.integration import IntegrationChanges, IntegrationView, NewIntegration
from ..observability import logger
from ..repositories.deliveries import DeliveryStatus
from ..services.changes import read_feed, read_tenant_feed
from ..services.deliveries import list_deliveries as read_deliveries
from ..services.integrations import IntegrationService
from ..sync.models import IntegrationSyncReport
from .schemas import (
    AgentList,
    AssignmentRequest,
    AssignmentResult,
    ChangeFeed,
    ChangeItem,
    ConversationList,
    DeliveryList,
)

router = APIGatewayHttpRouter()

IntegrationId = Annotated[int, Path(gt=0, le=MAX_ID, description="id of the integration (one Chatwoot account)")]
ConversationId = Annotated[int, Path(gt=0, le=MAX_ID, description="Chatwoot display id of the conversation")]
AgentId = Annotated[int, Path(gt=0, le=MAX_ID, description="Chatwoot user id of the agent")]


def components() -> Components:
    """The container's graph, as the handler handed it to this request."""
    graph: Components = router.context["components"]
    return graph


def caller() -> Actor:
    """Who is calling, as the handler authorized them for this route."""
    who: Actor = router.context["caller"]
    return who


def integrations() -> IntegrationService:
    """The integration service; webhook URLs use PUBLIC_BASE_URL, or this API's own domain when it is empty."""
    service = components().integrations
    if service.public_base_url:
        return service
    return service.for_base_url(f"https://{router.current_event.request_context.domain_name}")


def publish_changes() -> None:
    """After a committed write, push its change events to the bus (best effort; the sync drains leftovers)."""
    try:
        components().publisher.publish_pending(max_events=100)
    except Exception:
        logger.warning("change events not published now; the next sync publishes them", exc_info=True)


# Conversations -------------------------------------------------------------------------------------------


@router.get(
    "/integrations/<integration_id>/conversations", summary="List mirrored conversations", tags=["conversations"]
)
def list_conversations(
    integration_id: IntegrationId,
    status: Annotated[ConversationStatus | None, Query()] = None,
    assignee_id: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
    unassigned: Annotated[bool, Query()] = False,
    inbox_id: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
    team_id: Annotated[int | None, Query(gt=0, le=MAX_ID)] = None,
    label: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    priority: Annotated[Priority | None, Query()] = None,
    sync_status: Annotated[SyncStatus | None, Query()] = None,
    parte_id: Annotated[str | None, Query(min_length=1, max_length=100)] = None,
    updated_since: Annotated[datetime | None, Query()] = None,
    sort: Annotated[Literal["last_activity_at", "created_at"], Query()] = "last_activity_at",
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
) -> ConversationList:
    filters = ConversationFilter(
        status=status,
        assignee_id=assignee_id,
        unassigned=unassigned,
        inbox_id=inbox_id,
        team_id=team_id,
        label=label,
        priority=priority,
        sync_status=sync_status,
        parte_id=parte_id,
        updated_since=updated_since,
    )
    items, next_cursor = components().conversations.list(integration_id, filters, sort=sort, limit=limit, cursor=cursor)
    return ConversationList(items=items, next_cursor=next_cursor)


@router.get(
    "/integrations/<integration_id>/conversations/<conversation_id>",
    summary="Read a conversation",
    tags=["conversations"],
)
def get_conversation(integration_id: IntegrationId, conversation_id: ConversationId) -> ConversationDetail:
    return components().conversations.get(integration_id, conversation_id)


@router.patch(
    "/integrations/<integration_id>/conversations/<conversation_id>",
    summary="Change a conversation (Chatwoot first, then the mirror)",
    tags=["conversations"],
)
def patch_conversation(
    integration_id: IntegrationId, conversation_id: ConversationId, patch: ConversationPatch
) -> ConversationDetail:
    who = caller()
    result = components().conversations.update(integration_id, conversation_id, patch, actor=who)
    publish_changes()
    return result


@router.delete(
    "/integrations/<integration_id>/conversations/<conversation_id>",
    summary="Remove a conversation from the mirror (not from Chatwoot)",
    tags=["conversations"],
    responses={204: {"description": "removed from the mirror"}},
)
def delete_conversation(integration_id: IntegrationId, conversation_id: ConversationId) -> Response[None]:
    who = caller()
    components().conversations.delete(integration_id, conversation_id, actor=who)
    publish_changes()
    return Response(status_code=204)


@router.post(
    "/integrations/<integration_id>/conversations/<conversation_id>/sync",
    summary="Re-read a conversation from Chatwoot now",
    tags=["conversations"],
)
def sync_conversation(integration_id: IntegrationId, conversation_id: ConversationId) -> ConversationDetail:
    who = caller()
    result = components().conversations.resync(integration_id, conversation_id, actor=who)
    publish_changes()
    return result


@router.post(
    "/integrations/<integration_id>/conversations/<conversation_id>/assignment",
    summary='Assign the best available agent ({}), or a named one ({"agent_id": N})',
    tags=["conversations"],
    responses={409: {"description": "nobody is eligible, with the reason"}},
)
def assign_conversation(
    integration_id: IntegrationId, conversation_id: ConversationId, body: AssignmentRequest | None = None
) -> AssignmentResult:
    who = caller()
    assignment = components().assignment
    request = body or AssignmentRequest()
    if request.agent_id is not None:
        outcome = assignment.assign_agent(integration_id, conversation_id, request.agent_id, actor=who.sub)
    else:
        outcome = assignment.assign_best(integration_id, conversation_id, trigger="manual", actor=who.sub)
    publish_changes()
    assert outcome.agent_id is not None
    agent = components().agents.get(integration_id, outcome.agent_id)
    return AssignmentResult(conversation_id=conversation_id, assignee=AgentSummary.of(agent), reason=outcome.reason)


# Agents ------------------------------------------------------------------------------------------------


@router.get("/integrations/<integration_id>/agents", summary="List agents", tags=["agents"])
def list_agents(
    integration_id: IntegrationId,
    availability: Annotated[Availability | None, Query()] = None,
    skill: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    has_capacity: Annotated[bool | None, Query()] = None,
) -> AgentList:
    filters = AgentFilter(availability=availability, skill=skill, has_capacity=has_capacity)
    return AgentList(items=components().agents.list(integration_id, filters))


@router.get("/integrations/<integration_id>/agents/<agent_id>", summary="Read an agent", tags=["agents"])
def get_agent(integration_id: IntegrationId, agent_id: AgentId) -> Agent:
    return components().agents.get(integration_id, agent_id)


@router.patch("/integrations/<integration_id>/agents/<agent_id>", summary="Change an agent", tags=["agents"])
def patch_agent(integration_id: IntegrationId, agent_id: AgentId, patch: AgentPatch) -> Agent:
    who = caller()
    result = components().agents.update(who, integration_id, agent_id, patch)
    publish_changes()
    return result


# Change feed -------------------------------------------------------------------------------------------


@router.get(
    "/integrations/<integration_id>/changes",
    summary="Change events of an integration, in commit order",
    tags=["changes"],
)
def list_changes(
    integration_id: IntegrationId,
    after: Annotated[str | None, Query(max_length=200, description="cursor of the last event seen")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ChangeFeed:
    items, next_cursor = read_feed(components().unit_of_work, integration_id, after=after, limit=limit)
    return _feed(items, next_cursor)


@router.get(
    "/changes",
    summary="Change events of every integration of the caller's tenant, in one commit order",
    description="Each event names its integration; events of an integration deleted since stay in the feed.",
    tags=["changes"],
)
def list_tenant_changes(
    after: Annotated[str | None, Query(max_length=200, description="cursor of the last event seen")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ChangeFeed:
    items, next_cursor = read_tenant_feed(components().unit_of_work, caller().tenant, after=after, limit=limit)
    return _feed(items, next_cursor)


def _feed(items: list[Change], next_cursor: str | None) -> ChangeFeed:
    return ChangeFeed(
        items=[
            ChangeItem(
                cursor=c.cursor,
                type=c.type,
                integration_id=c.integration_id,
                conversation_id=c.conversation_id,
                agent_id=c.agent_id,
                actor=c.actor,
                at=c.at,
                data=c.data,
            )
            for c in items
        ],
        next_cursor=next_cursor,
    )


# Webhook deliveries (admins of the tenant) -------------------------------------------------------------------


@router.get(
    "/integrations/<integration_id>/deliveries",
    summary="What became of each webhook delivery, newest first (never its body)",
    description=(
        "outcome: applied, stale (the mirror already held a state at least as new), duplicate, ignored "
        "(an event the mirror does not keep, or an integration switched off), rejected (with the reason), failed."
    ),
    tags=["integrations"],
)
def list_deliveries(
    integration_id: IntegrationId,
    outcome: Annotated[DeliveryStatus | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> DeliveryList:
    items, next_cursor = read_deliveries(
        components().unit_of_work, integration_id, outcome=outcome, cursor=cursor, limit=limit
    )
    return DeliveryList(items=items, next_cursor=next_cursor)


# Integrations (admins of the tenant) -----------------------------------------------------------------------


@router.get("/integrations", summary="List the tenant's integrations", tags=["integrations"])
def list_integrations() -> list[IntegrationView]:
    return integrations().list_for_tenant(caller().tenant)


@router.post(
    "/integrations",
    summary="Connect a Chatwoot account",
    tags=["integrations"],
    responses={201: {"description": "created"}},
)
def create_integration(body: NewIntegration) -> Response[IntegrationView]:
    who = caller()
    created = integrations().create(who.tenant, body, actor=who.sub)
    publish_changes()
    return Response(status_code=201, content_type="application/json", body=created)


@router.get("/integrations/<integration_id>", summary="Read an integration", tags=["integrations"])
def get_integration(integration_id: IntegrationId) -> IntegrationView:
    return integrations().get(caller().tenant, integration_id)


@router.patch(
    "/integrations/<integration_id>",
    summary="Change an integration",
    description="Changing base_url or account_id needs the new account's api_token in the same request.",
    tags=["integrations"],
)
def patch_integration(integration_id: IntegrationId, body: IntegrationChanges) -> IntegrationView:
    who = caller()
    result = integrations().update(who.tenant, integration_id, body, actor=who.sub)
    publish_changes()
    return result


@router.delete(
    "/integrations/<integration_id>",
    summary="Disconnect an (inactive) integration and remove its mirror",
    tags=["integrations"],
    responses={204: {"description": "deleted"}},
)
def delete_integration(integration_id: IntegrationId) -> Response[None]:
    who = caller()
    integrations().delete(who.tenant, integration_id, actor=who.sub)
    publish_changes()
    return Response(status_code=204)


@router.post(
    "/integrations/<integration_id>/sync",
    summary="Sync the integration with Chatwoot now and return the run's report",
    description=(
        "Runs in the request, stopping a few seconds before API Gateway's 30 s: a pass that does not finish in "
        "time reports status cut and the next scheduled run resumes it. Another run holding the integration "
        "answers status skipped."
    ),
    tags=["integrations"],
)
def sync_integration(
    integration_id: IntegrationId,
    full: Annotated[bool, Query(description="walk every conversation and find the deleted ones")] = False,
) -> IntegrationSyncReport:
    # Loaded here, not with the module: no other route needs the sync at cold start.
    from ..sync.deadlines import api_deadline  # noqa: PLC0415

    # The run publishes its change events itself.
    return components().sync.run_one(integration_id, full=full, deadline=api_deadline(router.lambda_context))
