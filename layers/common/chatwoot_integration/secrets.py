"""Integration secrets: where the API token and webhook secret live, and what the webhook function reads.

In AWS each integration has one Secrets Manager secret named ``<prefix><integration id>`` holding
:class:`IntegrationSecret`. Besides the credentials it carries a copy of the few settings the webhook
function needs to accept a delivery (account, active flag, legacy mode), so that function needs no database
access at all. Local runs keep the same JSON in the integration row (``credentials``) and read the settings
from the row itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ConfigDict, SecretStr

if TYPE_CHECKING:
    # Annotations only: the webhook function imports this module and must not load psycopg (cold start).
    from .uow import UnitOfWork, UnitOfWorkFactory


class IntegrationSecret(BaseModel):
    model_config = ConfigDict(defer_build=True, frozen=True, extra="ignore")

    api_token: SecretStr
    # None only for an integration that accepts unsigned deliveries (Chatwoot older than 4.12).
    webhook_secret: SecretStr | None = None
    previous_webhook_secret: SecretStr | None = None
    previous_webhook_secret_until: datetime | None = None
    legacy_token: SecretStr | None = None
    # Copies of row settings, for the webhook function (which never reads the database in AWS).
    account_id: int
    active: bool = True
    legacy_unsigned: bool = False

    def accepted_webhook_secrets(self, now: datetime) -> list[str]:
        """The current secret, and the previous one while a rotation's overlap lasts."""
        secrets = [self.webhook_secret.get_secret_value()] if self.webhook_secret is not None else []
        if self.previous_webhook_secret is not None and (
            self.previous_webhook_secret_until is None or now < self.previous_webhook_secret_until
        ):
            secrets.append(self.previous_webhook_secret.get_secret_value())
        return secrets

    def to_storage(self) -> dict[str, Any]:
        """The JSON stored (revealed secrets: only ever written to the secret store)."""
        data = self.model_dump(mode="json")
        for name in ("api_token", "webhook_secret", "previous_webhook_secret", "legacy_token"):
            value = getattr(self, name)
            data[name] = value.get_secret_value() if value is not None else None
        return data


class SecretStore(Protocol):
    def load(self, integration_id: int, uow: UnitOfWork | None = None) -> IntegrationSecret | None:
        """The integration's secret; ``uow`` is the caller's unit of work when it has one open."""
        ...

    def save(self, uow: UnitOfWork, integration_id: int, secret: IntegrationSecret) -> None:
        """Store the secret, and record in the row (through ``uow``) where it lives."""
        ...

    def delete(self, integration_id: int) -> None: ...


class DatabaseSecretStore:
    """Local runs: the secret JSON lives in the integration row, the settings come from the row."""

    def __init__(self, unit_of_work: UnitOfWorkFactory) -> None:
        self._unit_of_work = unit_of_work

    def load(self, integration_id: int, uow: UnitOfWork | None = None) -> IntegrationSecret | None:
        if uow is None:
            with self._unit_of_work(read_only=True) as own:
                row = own.credentials.stored_in_row(integration_id)
        else:
            row = uow.credentials.stored_in_row(integration_id)
        if row is None:
            return None
        return IntegrationSecret.model_validate(
            {
                **row["credentials"],
                "account_id": row["account_id"],
                "active": row["active"],
                "legacy_unsigned": row["legacy_unsigned"],
                "previous_webhook_secret_until": row["webhook_secret_previous_until"],
            }
        )

    def save(self, uow: UnitOfWork, integration_id: int, secret: IntegrationSecret) -> None:
        uow.credentials.keep_in_row(integration_id, secret.to_storage())

    def delete(self, integration_id: int) -> None:
        """The row's deletion removes it."""


class SecretsManagerStore:
    """AWS: one secret per integration, named ``<prefix><integration id>``."""

    def __init__(self, prefix: str, client_factory: Callable[[], Any] | None = None) -> None:
        self._prefix = prefix
        self._client_factory = client_factory or _default_secretsmanager_client
        self._client: Any = None

    def name_for(self, integration_id: int) -> str:
        return f"{self._prefix}{integration_id}"

    def load(self, integration_id: int, uow: UnitOfWork | None = None) -> IntegrationSecret | None:
        client = self._get_client()
        try:
            response = client.get_secret_value(SecretId=self.name_for(integration_id))
        except (client.exceptions.ResourceNotFoundException, client.exceptions.InvalidRequestException):
            return None  # never created, or scheduled for deletion with its integration
        return IntegrationSecret.model_validate_json(response["SecretString"])

    def save(self, uow: UnitOfWork, integration_id: int, secret: IntegrationSecret) -> None:
        client = self._get_client()
        name = self.name_for(integration_id)
        payload = json.dumps(secret.to_storage())
        try:
            client.put_secret_value(SecretId=name, SecretString=payload)
        except client.exceptions.ResourceNotFoundException:
            client.create_secret(
                Name=name,
                SecretString=payload,
                Description=f"Chatwoot integration {integration_id}: API token and webhook secret",
                Tags=[{"Key": "chatwoot-integration-id", "Value": str(integration_id)}],
            )
        uow.credentials.refer_to_secret(integration_id, name)

    def delete(self, integration_id: int) -> None:
        client = self._get_client()
        try:
            client.delete_secret(SecretId=self.name_for(integration_id), RecoveryWindowInDays=7)
        except client.exceptions.ResourceNotFoundException:
            return

    def _get_client(self) -> Any:
        if self._client is None:
            self._client = self._client_factory()
        return self._client


def _default_secretsmanager_client() -> Any:
    import boto3  # noqa: PLC0415 - only AWS needs it, and it is slow to import

    return boto3.client("secretsmanager")
