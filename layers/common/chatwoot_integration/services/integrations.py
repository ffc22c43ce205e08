"""Connecting a tenant's Chatwoot accounts: create, change, rotate secrets, disconnect.

Every method takes the tenant it acts for: an integration of another tenant is answered exactly as one that does
not exist. A ``base_url`` passes the egress check (``check_url``: https, no loopback, private, link-local or
metadata address unless the operator allows it) and is stored normalised; re-pointing an integration (another
``base_url`` or ``account_id``) needs a new API token in the same request, so the stored token never travels to
an origin it was not entered for.
"""

from __future__ import annotations

import secrets as random_tokens
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import psycopg
from pydantic import SecretStr

from ..clock import utcnow
from ..errors import Conflict, NotFound, ValidationFailed
from ..models.change import NewChange
from ..models.integration import (
    AssignmentPolicy,
    Integration,
    IntegrationChanges,
    IntegrationView,
    NewIntegration,
)
from ..secrets import IntegrationSecret, SecretStore
from ..uow import UnitOfWorkFactory

_PENDING_REF = "pending"

UrlCheck = Callable[[str], str]
"""Checks a Chatwoot base URL against the egress policy and returns it normalised; raises ``ValueError``
(``EgressRefused`` is one) with a message safe to show the admin."""


class IntegrationService:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        store: SecretStore,
        public_base_url: str,
        clock: Callable[[], datetime] = utcnow,
        *,
        check_url: UrlCheck,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._store = store
        self._public_base_url = public_base_url.rstrip("/")
        self._clock = clock
        self._check_url = check_url

    @property
    def public_base_url(self) -> str:
        return self._public_base_url

    def for_base_url(self, public_base_url: str) -> IntegrationService:
        """The same service, showing webhook URLs under another base (the API's own domain in AWS)."""
        return IntegrationService(
            self._unit_of_work, self._store, public_base_url, self._clock, check_url=self._check_url
        )

    def create(self, tenant: str, data: NewIntegration, *, actor: str) -> IntegrationView:
        base_url = self._checked_url(data.base_url)
        secret = IntegrationSecret(
            api_token=data.api_token,
            webhook_secret=data.webhook_secret,
            legacy_token=SecretStr(random_tokens.token_urlsafe(32)) if data.legacy_unsigned else None,
            account_id=data.account_id,
            active=data.active,
            legacy_unsigned=data.legacy_unsigned,
        )
        try:
            with self._unit_of_work() as uow:
                repo = uow.integrations
                created = repo.insert(
                    {
                        "tenant": tenant,
                        "name": data.name,
                        "base_url": base_url,
                        "account_id": data.account_id,
                        "credentials_ref": _PENDING_REF,
                        "legacy_unsigned": data.legacy_unsigned,
                        "store_message_content": data.store_message_content,
                        "assignment_policy": data.assignment_policy.model_dump(mode="json"),
                        "active": data.active,
                    }
                )
                self._store.save(uow, created.id, secret)
                uow.changes.append(
                    [_event(created, "integration.created", actor, {"name": data.name, "active": data.active})]
                )
                integration = repo.get(created.id)
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(f"account {data.account_id} of {base_url} is already connected") from exc
        assert integration is not None
        return self._view(integration, secret)

    def update(self, tenant: str, integration_id: int, changes: IntegrationChanges, *, actor: str) -> IntegrationView:
        base_url = self._checked_url(changes.base_url) if changes.base_url is not None else None
        with self._unit_of_work() as uow:
            repo = uow.integrations
            current = _visible(repo.get_for_update(integration_id), tenant, integration_id)
            repointed = [
                name
                for name, value in (("base_url", base_url), ("account_id", changes.account_id))
                if value is not None and value != getattr(current, name)
            ]
            if repointed and changes.api_token is None:
                raise ValidationFailed(
                    f"changing {' and '.join(repointed)} needs the API token for the new account in the same request",
                    details=[{"field": "api_token", "problem": "required when base_url or account_id changes"}],
                )
            secret = self._store.load(integration_id, uow)
            if secret is None:
                raise Conflict(f"the credentials of integration {integration_id} are missing; set api_token again")
            values, secret, changed = self._apply(current, secret, changes, base_url)
            try:
                updated = repo.update(integration_id, values)
            except psycopg.errors.UniqueViolation as exc:
                raise Conflict("that Chatwoot account is already connected by another integration") from exc
            assert updated is not None
            if {"api_token", "webhook_secret", "legacy_unsigned", "active", "account_id"} & set(changed):
                self._store.save(uow, integration_id, secret)
                if "api_token" in changed:
                    repo.bump_config_version(integration_id)  # a new token lifts an auth_error
            if changed:
                uow.changes.append([_event(updated, "integration.updated", actor, {"changed": changed})])
            final = repo.get(integration_id)
        assert final is not None
        return self._view(final, secret)

    def get(self, tenant: str, integration_id: int) -> IntegrationView:
        with self._unit_of_work(read_only=True) as uow:
            integration = _visible(uow.integrations.get(integration_id), tenant, integration_id)
            return self._view(integration, self._store.load(integration_id, uow))

    def list_for_tenant(self, tenant: str) -> list[IntegrationView]:
        with self._unit_of_work(read_only=True) as uow:
            return [self._view(i, self._store.load(i.id, uow)) for i in uow.integrations.list_for_tenant(tenant)]

    def tenant_of(self, integration_id: int) -> str | None:
        """The tenant an integration belongs to (None when there is no such integration)."""
        with self._unit_of_work(read_only=True) as uow:
            return uow.integrations.tenant_of(integration_id)

    def find(self, tenant: str, base_url: str, account_id: int) -> Integration | None:
        """The tenant's integration of a Chatwoot account, if one is connected (the local tools look it up)."""
        with self._unit_of_work(read_only=True) as uow:
            return uow.integrations.find(tenant, self._checked_url(base_url), account_id)

    def delete(self, tenant: str, integration_id: int, *, actor: str) -> None:
        """Disconnect an account and remove its mirror. Only an inactive integration can be deleted, so a
        single mistaken call cannot wipe a live mirror."""
        with self._unit_of_work() as uow:
            repo = uow.integrations
            current = _visible(repo.get_for_update(integration_id), tenant, integration_id)
            if current.active:
                raise Conflict(
                    "deactivate the integration (PATCH active=false) before deleting it; deleting removes its mirrored data"
                )
            repo.delete(integration_id)
            uow.changes.append([_event(current, "integration.deleted", actor, {})])
        self._store.delete(integration_id)

    def webhook_url(self, integration_id: int, secret: IntegrationSecret | None) -> str:
        url = f"{self._public_base_url}/webhooks/chatwoot/{integration_id}"
        if secret is not None and secret.legacy_unsigned and secret.legacy_token is not None:
            url += f"?token={secret.legacy_token.get_secret_value()}"
        return url

    def _checked_url(self, url: str) -> str:
        try:
            return self._check_url(url)
        except ValueError as refused:
            raise ValidationFailed(
                f"base_url refused: {refused}", details=[{"field": "base_url", "problem": str(refused)}]
            ) from refused

    def _apply(
        self, current: Integration, secret: IntegrationSecret, changes: IntegrationChanges, base_url: str | None
    ) -> tuple[dict[str, Any], IntegrationSecret, list[str]]:
        """The row's new values, the new secret, and the names of what changed."""
        values: dict[str, Any] = {}
        changed: list[str] = []
        given = {
            name: getattr(changes, name) for name in ("name", "store_message_content", "active", "legacy_unsigned")
        }
        given.update(base_url=base_url, account_id=changes.account_id)
        for name, value in given.items():
            if value is not None and value != getattr(current, name):
                values[name] = value
                changed.append(name)
        if changes.assignment_policy is not None:
            patch = changes.assignment_policy.model_dump(exclude_none=True)
            policy = AssignmentPolicy.model_validate({**current.assignment_policy.model_dump(), **patch})
            if policy != current.assignment_policy:
                values["assignment_policy"] = policy.model_dump(mode="json")
                changed.append("assignment_policy")
        secret_updates = self._secret_updates(secret, changes, values, changed)
        if secret_updates:
            secret = secret.model_copy(update=secret_updates)
        return values, secret, changed

    def _secret_updates(
        self, secret: IntegrationSecret, changes: IntegrationChanges, values: dict[str, Any], changed: list[str]
    ) -> dict[str, Any]:
        """What the stored secret gets: its copies of row settings, and new credentials (added to ``changed``)."""
        updates: dict[str, Any] = {name: values[name] for name in ("active", "account_id") if name in values}
        if "legacy_unsigned" in values:
            updates["legacy_unsigned"] = values["legacy_unsigned"]
            if values["legacy_unsigned"] and secret.legacy_token is None:
                updates["legacy_token"] = SecretStr(random_tokens.token_urlsafe(32))
        if changes.rotate_legacy_token:
            updates["legacy_token"] = SecretStr(random_tokens.token_urlsafe(32))
            changed.append("legacy_token")
        if changes.api_token is not None and changes.api_token != secret.api_token:
            updates["api_token"] = changes.api_token
            changed.append("api_token")
        if changes.webhook_secret is not None and changes.webhook_secret != secret.webhook_secret:
            until = self._clock() + timedelta(hours=changes.previous_secret_valid_hours)
            updates.update(
                webhook_secret=changes.webhook_secret,
                previous_webhook_secret=secret.webhook_secret,
                previous_webhook_secret_until=until if secret.webhook_secret is not None else None,
            )
            values["webhook_secret_previous_until"] = until
            changed.append("webhook_secret")
        return updates

    def _view(self, integration: Integration, secret: IntegrationSecret | None) -> IntegrationView:
        rotation_until = integration.webhook_secret_previous_until
        if rotation_until is not None and rotation_until <= self._clock():
            rotation_until = None
        return IntegrationView(
            id=integration.id,
            tenant=integration.tenant,
            name=integration.name,
            base_url=integration.base_url,
            account_id=integration.account_id,
            has_api_token=secret is not None,
            has_webhook_secret=secret is not None and secret.webhook_secret is not None,
            webhook_url=self.webhook_url(integration.id, secret),
            webhook_secret_rotation_until=rotation_until,
            legacy_unsigned=integration.legacy_unsigned,
            store_message_content=integration.store_message_content,
            assignment_policy=integration.assignment_policy,
            active=integration.active,
            sync_status=integration.sync_status,
            sync_error=integration.sync_error,
            sync_cursor=integration.sync_cursor,
            last_sync_at=integration.last_sync_at,
            last_full_sync_at=integration.last_full_sync_at,
            created_at=integration.created_at,
            updated_at=integration.updated_at,
        )


def ensure_local_integration(
    service: IntegrationService,
    *,
    tenant: str,
    base_url: str,
    account_id: int,
    api_token: str,
    webhook_secret: str,
    name: str | None = None,
) -> IntegrationView:
    """Create or update the integration of a local run from its environment (``make run``)."""
    existing = service.find(tenant, base_url, account_id)
    if existing is None:
        return service.create(
            tenant,
            NewIntegration(
                name=name or f"Chatwoot account {account_id}",
                base_url=base_url,
                account_id=account_id,
                api_token=SecretStr(api_token),
                webhook_secret=SecretStr(webhook_secret),
            ),
            actor="local-runner",
        )
    return service.update(
        tenant,
        existing.id,
        IntegrationChanges(
            base_url=base_url,
            api_token=SecretStr(api_token),
            webhook_secret=SecretStr(webhook_secret),
            previous_secret_valid_hours=0,
            active=True,
        ),
        actor="local-runner",
    )


def _visible(integration: Integration | None, tenant: str, integration_id: int) -> Integration:
    """The integration if it is the tenant's; another tenant's answers exactly as a missing one."""
    if integration is None or integration.tenant != tenant:
        raise NotFound(f"integration {integration_id} not found")
    return integration


def _event(integration: Integration, kind: str, actor: str, data: dict[str, Any]) -> NewChange:
    return NewChange(
        integration_id=integration.id,
        tenant=integration.tenant,
        type=kind,
        actor=actor,
        data={"integration_id": integration.id, **data},
    )
