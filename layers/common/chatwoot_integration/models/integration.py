"""Integrations (a tenant's connection to one Chatwoot account), their assignment policy, and what an admin gives
and sees."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, SecretStr

from .common import MAX_ID, Model

IntegrationSyncStatus = Literal["never", "running", "ok", "error", "auth_error"]
# The platform's identifier of a law firm (it uses UUIDs); every integration belongs to exactly one.
TENANT_PATTERN = r"^[A-Za-z0-9._-]{1,64}$"


class AssignmentPolicy(Model):
    """How smart assignment behaves for one integration. Off until an operator turns it on."""

    enabled: bool = False
    mode: Literal["balanced", "round_robin"] = "balanced"
    busy_counts_as_available: bool = False
    default_capacity: int = Field(default=10, ge=0, le=10000)
    skill_label_prefix: str = Field(default="area:", max_length=50)
    skill_attribute: str | None = Field(default=None, max_length=100)
    skill_fallback: Literal["wait", "any"] = "wait"
    exclude_labels: tuple[str, ...] = ()
    reassign_when_offline: bool = False


class Integration(Model):
    id: int
    tenant: str
    name: str
    base_url: str
    account_id: int
    credentials_ref: str | None
    webhook_secret_previous_until: datetime | None
    legacy_unsigned: bool
    store_message_content: bool
    assignment_policy: AssignmentPolicy
    active: bool
    config_version: int
    sync_status: IntegrationSyncStatus
    sync_error: str | None
    sync_cursor: datetime | None
    sync_progress: dict[str, Any] | None
    last_sync_at: datetime | None
    last_full_sync_at: datetime | None
    created_at: datetime
    updated_at: datetime


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
    accepted for ``previous_secret_valid_hours`` so deliveries signed before Chatwoot switched are not lost.

    Re-pointing the integration (another ``base_url`` or ``account_id``) needs a new ``api_token`` in the same
    request: the stored token is only ever sent to the origin it was entered for."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    base_url: str | None = Field(default=None, pattern=_URL_PATTERN, max_length=500)
    account_id: int | None = Field(default=None, gt=0, le=MAX_ID)
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
    tenant: str
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
