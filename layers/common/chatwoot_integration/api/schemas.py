"""Request and response bodies of the API (what the OpenAPI document describes)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, StringConstraints

from ..models.agent import Agent
from ..models.common import MAX_ID, Availability, ConversationStatus, Model, Priority
from ..models.conversation import Conversation
from ..models.integration import AssignmentPolicy, IntegrationSyncStatus
from ..models.party import Contact, PartyLink

# Chatwoot labels (and the skills matched against them) are single words without commas.
LabelText = Annotated[str, StringConstraints(min_length=1, max_length=255, pattern=r"^[^\s,]+$")]


class Schema(BaseModel):
    """Response bodies; built on first use, so a container pays only for the routes it serves."""

    model_config = ConfigDict(defer_build=True)


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)


class ConversationPatch(Body):
    """Fields to change. Status, priority, assignee and labels are written to Chatwoot first; ``parte_id`` is
    local. An explicit ``null`` clears priority, assignee or party link."""

    status: ConversationStatus | None = None
    snoozed_until: datetime | None = Field(default=None, description="only with status snoozed")
    priority: Priority | None = None
    assignee_id: int | None = Field(default=None, gt=0, le=MAX_ID)
    labels: list[LabelText] | None = Field(default=None, max_length=100)
    parte_id: str | None = Field(default=None, min_length=1, max_length=100)


class AssignmentRequest(Body):
    """``{}`` asks for the best available agent; ``{"agent_id": N}`` assigns that agent."""

    agent_id: int | None = Field(default=None, gt=0, le=MAX_ID)


class AgentPatch(Body):
    """``availability`` is written to Chatwoot; ``capacity``, ``skills`` and ``user_id`` are local (admin only)."""

    availability: Availability | None = None
    capacity: int | None = Field(default=None, ge=0, le=10000)
    skills: list[LabelText] | None = Field(default=None, max_length=50)
    user_id: str | None = Field(default=None, min_length=1, max_length=200)


class AgentSummary(Schema):
    agent_id: int
    name: str
    email: str | None
    availability: str


class ConversationDetail(Conversation):
    assignee: AgentSummary | None = None
    contact: Contact | None = None
    party: PartyLink | None = None


class ConversationList(Schema):
    items: list[Conversation]
    next_cursor: str | None


class AgentList(Schema):
    items: list[Agent]


class AssignmentResult(Schema):
    conversation_id: int
    assignee: AgentSummary
    reason: str


class ChangeItem(Schema):
    cursor: str
    type: str
    account_id: int
    conversation_id: int | None = None
    agent_id: int | None = None
    actor: str
    at: datetime
    data: dict[str, Any]


class ChangeFeed(Schema):
    items: list[ChangeItem]
    next_cursor: str | None


# Integrations (admin) ---------------------------------------------------------------------------------


class AssignmentPolicyPatch(Model):
    """A partial policy: the fields given replace the stored ones."""

    enabled: bool | None = None
    mode: Literal["balanced", "round_robin"] | None = None
    busy_counts_as_available: bool | None = None
    default_capacity: int | None = Field(default=None, ge=0, le=10000)
    skill_label_prefix: str | None = Field(default=None, max_length=50)
    skill_attribute: str | None = Field(default=None, max_length=100)
    skill_fallback: Literal["wait", "any"] | None = None
    exclude_labels: tuple[str, ...] | None = None
    reassign_when_offline: bool | None = None


_URL_PATTERN = r"^https?://[^\s/?#]+(/[^\s?#]*)?$"


class NewIntegration(Model):
    """What an admin gives to connect a Chatwoot account."""

    name: str = Field(min_length=1, max_length=200)
    base_url: str = Field(pattern=_URL_PATTERN, max_length=500)
    account_id: int = Field(gt=0, le=MAX_ID)
    api_token: SecretStr = Field(min_length=1, max_length=500)
    webhook_secret: SecretStr | None = Field(default=None, min_length=1, max_length=500)
    legacy_unsigned: bool = False
    store_message_content: bool = True
    assignment_policy: AssignmentPolicy = AssignmentPolicy()
    active: bool = True


class IntegrationChanges(Model):
    """A PATCH of an integration. A new ``webhook_secret`` starts a rotation: the previous secret stays
    accepted for ``previous_secret_valid_hours`` so deliveries signed before Chatwoot switched are not lost."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    base_url: str | None = Field(default=None, pattern=_URL_PATTERN, max_length=500)
    api_token: SecretStr | None = Field(default=None, min_length=1, max_length=500)
    webhook_secret: SecretStr | None = Field(default=None, min_length=1, max_length=500)
    previous_secret_valid_hours: int = Field(default=24, ge=0, le=720)
    legacy_unsigned: bool | None = None
    rotate_legacy_token: bool = False
    store_message_content: bool | None = None
    assignment_policy: AssignmentPolicyPatch | None = None
    active: bool | None = None


class IntegrationView(Model):
    """An integration as the API shows it: secrets are write-only, only their presence is told."""

    id: int
    name: str
    base_url: str
    account_id: int
    has_api_token: bool
    has_webhook_secret: bool
    webhook_url: str
    webhook_secret_rotation_until: datetime | None
    legacy_unsigned: bool
    store_message_content: bool
    assignment_policy: AssignmentPolicy
    active: bool
    sync_status: IntegrationSyncStatus
    sync_error: str | None
    sync_cursor: datetime | None
    last_sync_at: datetime | None
    last_full_sync_at: datetime | None
    created_at: datetime
    updated_at: datetime
