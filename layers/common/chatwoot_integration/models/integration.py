"""Integrations (one per connected Chatwoot account) and their assignment policy (API bodies: api.schemas)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field

from .common import Model

IntegrationSyncStatus = Literal["never", "running", "ok", "error", "auth_error"]


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
