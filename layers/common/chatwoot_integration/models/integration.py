"""Integrations (one per connected Chatwoot account), their policy and their credentials."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import Field, SecretStr

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


class Credentials(Model):
    """Secrets of one integration. Stored in Secrets Manager in AWS, in the row only for local runs."""

    api_token: SecretStr
    webhook_secret: SecretStr
    previous_webhook_secret: SecretStr | None = None
    legacy_token: SecretStr | None = None

    def dump_secret_values(self) -> dict[str, str | None]:
        def reveal(value: SecretStr | None) -> str | None:
            return value.get_secret_value() if value is not None else None

        return {
            "api_token": reveal(self.api_token),
            "webhook_secret": reveal(self.webhook_secret),
            "previous_webhook_secret": reveal(self.previous_webhook_secret),
            "legacy_token": reveal(self.legacy_token),
        }


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
