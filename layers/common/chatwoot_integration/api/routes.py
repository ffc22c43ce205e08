"""The API's routes. Each one authorizes from the token's claims, calls one service, and returns a model.

The services come from the container's graph (``bootstrap.Components``), which the handler hands to each
request through the resolver's context.
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
from ..models.common import MAX_ID, Availability, ConversationStatus, Priority, SyncStatus
from ..models.conversation import ConversationDetail, ConversationFilter, ConversationPatch
from ..models.integration import IntegrationChanges, IntegrationView, NewIntegration
from ..observability import logger
from ..services.changes import read_feed
from ..services.integrations import IntegrationService
from ..sync.models import IntegrationSyncReport
from .auth import caller_from_claims, require_account, require_admin
from .schemas import (
    AgentList,
    AssignmentRequest,
    AssignmentResult,
    ChangeFeed,
    ChangeItem,
    ConversationList,
)

router = APIGatewayHttpRouter()

AccountId = Annotated[int, Path(gt=0, le=MAX_ID, description="Chatwoot account id")]
ConversationId = Annotated[int, Path(gt=0, le=MAX_ID, description="Chatwoot display id of the conversation")]
AgentId = Annotated[int, Path(gt=0, le=MAX_ID, description="Chatwoot user id of the agent")]
IntegrationId = Annotated[int, Path(gt=0, le=MAX_ID)]


def components() -> Components:
    """The container's graph, as the handler handed it to this request."""
    graph: Components = router.context["components"]
    return graph


def caller() -> Actor:
    authorizer = router.current_event.request_context.authorizer
    claims = authorizer.jwt_claim if authorizer is not None else None
    return caller_from_claims(claims)


def account_caller(account_id: int) -> Actor:
    who = caller()
    require_account(who, account_id)
    return who


def admin_caller() -> Actor:
    who = caller()
    require_admin(who)
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


@router.get("/accounts/<account_id>/conversations", summary="List mirrored conversations", tags=["conversations"])
def list_conversations(
    account_id: AccountId,
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
    account_caller(account_id)
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
    items, next_cursor = components().conversations.list(account_id, filters, sort=sort, limit=limit, cursor=cursor)
    return ConversationList(items=items, next_cursor=next_cursor)


@router.get(
    "/accounts/<account_id>/conversations/<conversation_id>", summary="Read a conversation", tags=["conversations"]
)
def get_conversation(account_id: AccountId, conversation_id: ConversationId) -> ConversationDetail:
    account_caller(account_id)
    return components().conversations.get(account_id, conversation_id)


@router.patch(
    "/accounts/<account_id>/conversations/<conversation_id>",
    summary="Change a conversation (Chatwoot first, then the mirror)",
    tags=["conversations"],
)
def patch_conversation(
    account_id: AccountId, conversation_id: ConversationId, patch: ConversationPatch
) -> ConversationDetail:
    who = account_caller(account_id)
    result = components().conversations.update(account_id, conversation_id, patch, actor=who)
    publish_changes()
    return result


@router.delete(
    "/accounts/<account_id>/conversations/<conversation_id>",
    summary="Remove a conversation from the mirror (not from Chatwoot)",
    tags=["conversations"],
    responses={204: {"description": "removed from the mirror"}},
)
def delete_conversation(account_id: AccountId, conversation_id: ConversationId) -> Response[None]:
    who = account_caller(account_id)
    components().conversations.delete(account_id, conversation_id, actor=who)
    publish_changes()
    return Response(status_code=204)


@router.post(
    "/accounts/<account_id>/conversations/<conversation_id>/sync",
    summary="Re-read a conversation from Chatwoot now",
    tags=["conversations"],
)
def sync_conversation(account_id: AccountId, conversation_id: ConversationId) -> ConversationDetail:
    who = account_caller(account_id)
    result = components().conversations.resync(account_id, conversation_id, actor=who)
    publish_changes()
    return result


@router.post(
    "/accounts/<account_id>/conversations/<conversation_id>/assignment",
    summary='Assign the best available agent ({}), or a named one ({"agent_id": N})',
    tags=["conversations"],
    responses={409: {"description": "nobody is eligible, with the reason"}},
)
def assign_conversation(
    account_id: AccountId, conversation_id: ConversationId, body: AssignmentRequest | None = None
) -> AssignmentResult:
    who = account_caller(account_id)
    assignment = components().assignment
    request = body or AssignmentRequest()
    if request.agent_id is not None:
        outcome = assignment.assign_agent(account_id, conversation_id, request.agent_id, actor=who.sub)
    else:
        outcome = assignment.assign_best(account_id, conversation_id, trigger="manual", actor=who.sub)
    publish_changes()
    assert outcome.agent_id is not None
    agent = components().agents.get(account_id, outcome.agent_id)
    return AssignmentResult(conversation_id=conversation_id, assignee=AgentSummary.of(agent), reason=outcome.reason)


# Agents ------------------------------------------------------------------------------------------------


@router.get("/accounts/<account_id>/agents", summary="List agents", tags=["agents"])
def list_agents(
    account_id: AccountId,
    availability: Annotated[Availability | None, Query()] = None,
    skill: Annotated[str | None, Query(min_length=1, max_length=255)] = None,
    has_capacity: Annotated[bool | None, Query()] = None,
) -> AgentList:
    account_caller(account_id)
    filters = AgentFilter(availability=availability, skill=skill, has_capacity=has_capacity)
    return AgentList(items=components().agents.list(account_id, filters))


@router.get("/accounts/<account_id>/agents/<agent_id>", summary="Read an agent", tags=["agents"])
def get_agent(account_id: AccountId, agent_id: AgentId) -> Agent:
    account_caller(account_id)
    return components().agents.get(account_id, agent_id)


@router.patch("/accounts/<account_id>/agents/<agent_id>", summary="Change an agent", tags=["agents"])
def patch_agent(account_id: AccountId, agent_id: AgentId, patch: AgentPatch) -> Agent:
    who = account_caller(account_id)
    result = components().agents.update(who, account_id, agent_id, patch)
    publish_changes()
    return result


# Change feed -------------------------------------------------------------------------------------------


@router.get("/accounts/<account_id>/changes", summary="Change events of an account, in commit order", tags=["changes"])
def list_changes(
    account_id: AccountId,
    after: Annotated[str | None, Query(max_length=200, description="cursor of the last event seen")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> ChangeFeed:
    account_caller(account_id)
    items, next_cursor = read_feed(components().unit_of_work, account_id, after=after, limit=limit)
    return ChangeFeed(
        items=[
            ChangeItem(
                cursor=c.cursor,
                type=c.type,
                account_id=c.account_id,
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


# Integrations (admin) ------------------------------------------------------------------------------------


@router.get("/integrations", summary="List integrations", tags=["integrations"])
def list_integrations() -> list[IntegrationView]:
    admin_caller()
    return integrations().list_all()


@router.post(
    "/integrations",
    summary="Connect a Chatwoot account",
    tags=["integrations"],
    responses={201: {"description": "created"}},
)
def create_integration(body: NewIntegration) -> Response[IntegrationView]:
    who = admin_caller()
    created = integrations().create(body, actor=who.sub)
    publish_changes()
    return Response(status_code=201, content_type="application/json", body=created)


@router.get("/integrations/<integration_id>", summary="Read an integration", tags=["integrations"])
def get_integration(integration_id: IntegrationId) -> IntegrationView:
    admin_caller()
    return integrations().get(integration_id)


@router.patch("/integrations/<integration_id>", summary="Change an integration", tags=["integrations"])
def patch_integration(integration_id: IntegrationId, body: IntegrationChanges) -> IntegrationView:
    who = admin_caller()
    result = integrations().update(integration_id, body, actor=who.sub)
    publish_changes()
    return result


@router.delete(
    "/integrations/<integration_id>",
    summary="Disconnect an (inactive) integration and remove its mirror",
    tags=["integrations"],
    responses={204: {"description": "deleted"}},
)
def delete_integration(integration_id: IntegrationId) -> Response[None]:
    who = admin_caller()
    integrations().delete(integration_id, actor=who.sub)
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
    admin_caller()
    # Loaded here, not with the module: no other route needs the sync at cold start.
    from ..sync.deadlines import api_deadline  # noqa: PLC0415

    # The run publishes its change events itself.
    return components().sync.run_one(integration_id, full=full, deadline=api_deadline(router.lambda_context))
