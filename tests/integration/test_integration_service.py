"""Connecting Chatwoot accounts: secrets stay write-only, rotations keep the old secret for a while."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import boto3
import pytest
from moto import mock_aws
from pydantic import SecretStr

from chatwoot_integration.db import Database
from chatwoot_integration.errors import Conflict, NotFound
from chatwoot_integration.models.integration import AssignmentPolicyPatch, IntegrationChanges, NewIntegration
from chatwoot_integration.secrets import DatabaseSecretStore, SecretsManagerStore
from chatwoot_integration.services.integrations import IntegrationService, ensure_local_integration
from chatwoot_integration.uow import unit_of_work_factory

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def new(**overrides: Any) -> NewIntegration:
    values: dict[str, Any] = {
        "name": "Escritório Souza",
        "base_url": "https://chat.souza.example/",
        "account_id": 7,
        "api_token": SecretStr("tok-123456"),
        "webhook_secret": SecretStr("whsec-abcdef"),
    }
    values.update(overrides)
    return NewIntegration(**values)


def local_store(db: Database) -> DatabaseSecretStore:
    return DatabaseSecretStore(unit_of_work_factory(db))


@pytest.fixture
def service(db: Database) -> IntegrationService:
    return IntegrationService(unit_of_work_factory(db), local_store(db), "http://127.0.0.1:3000", clock=lambda: NOW)


def dumped(view: Any) -> str:
    return view.model_dump_json()


def test_create_hides_secrets_and_gives_the_webhook_url(service: IntegrationService, db: Database) -> None:
    view = service.create(new(), actor="admin-1")
    assert view.webhook_url == f"http://127.0.0.1:3000/webhooks/chatwoot/{view.id}"
    assert view.has_api_token and view.has_webhook_secret
    assert view.base_url == "https://chat.souza.example"
    assert "tok-123456" not in dumped(view) and "whsec-abcdef" not in dumped(view)
    secret = local_store(db).load(view.id)
    assert secret is not None
    assert secret.api_token.get_secret_value() == "tok-123456"
    assert secret.account_id == 7
    events = db.connection().execute("SELECT type, actor, account_id FROM eventos_chatwoot").fetchall()
    assert events == [{"type": "integration.created", "actor": "admin-1", "account_id": 7}]


def test_one_integration_per_account(service: IntegrationService) -> None:
    service.create(new(), actor="a")
    with pytest.raises(Conflict, match="account 7 is already connected"):
        service.create(new(name="outra"), actor="a")


def test_rotation_keeps_the_previous_secret_for_the_overlap(service: IntegrationService, db: Database) -> None:
    view = service.create(new(), actor="a")
    rotated = service.update(
        view.id, IntegrationChanges(webhook_secret=SecretStr("whsec-new"), previous_secret_valid_hours=2), actor="a"
    )
    assert rotated.webhook_secret_rotation_until == NOW + timedelta(hours=2)
    secret = local_store(db).load(view.id)
    assert secret is not None
    assert secret.accepted_webhook_secrets(NOW) == ["whsec-new", "whsec-abcdef"]
    assert secret.accepted_webhook_secrets(NOW + timedelta(hours=3)) == ["whsec-new"]


def test_policy_patch_merges_and_is_validated(service: IntegrationService) -> None:
    view = service.create(new(), actor="a")
    updated = service.update(
        view.id,
        IntegrationChanges(assignment_policy=AssignmentPolicyPatch(enabled=True, default_capacity=4)),
        actor="a",
    )
    assert updated.assignment_policy.enabled
    assert updated.assignment_policy.default_capacity == 4
    assert updated.assignment_policy.mode == "balanced"


def test_legacy_mode_adds_a_long_random_token_to_the_url(service: IntegrationService, db: Database) -> None:
    view = service.create(new(webhook_secret=None, legacy_unsigned=True), actor="a")
    assert not view.has_webhook_secret
    token = view.webhook_url.split("?token=")[1]
    assert len(token) >= 40
    secret = local_store(db).load(view.id)
    assert secret is not None and secret.legacy_token is not None
    assert secret.legacy_token.get_secret_value() == token
    rotated = service.update(view.id, IntegrationChanges(rotate_legacy_token=True), actor="a")
    assert rotated.webhook_url.split("?token=")[1] != token


def test_deleting_needs_a_deactivated_integration(service: IntegrationService, db: Database) -> None:
    view = service.create(new(), actor="a")
    with pytest.raises(Conflict, match="deactivate"):
        service.delete(view.id, actor="a")
    service.update(view.id, IntegrationChanges(active=False), actor="a")
    service.delete(view.id, actor="a")
    with pytest.raises(NotFound):
        service.get(view.id)
    with pytest.raises(NotFound):
        service.delete(view.id, actor="a")


def test_a_new_api_token_lifts_an_auth_error(service: IntegrationService, db: Database) -> None:
    view = service.create(new(), actor="a")
    with db.transaction() as conn:
        conn.execute("UPDATE integracoes_chatwoot SET sync_status = 'auth_error', sync_error = 'revoked'")
    updated = service.update(view.id, IntegrationChanges(api_token=SecretStr("tok-new")), actor="a")
    assert updated.sync_status == "never"
    assert updated.sync_error is None


def test_ensure_local_integration_creates_then_updates(db: Database, service: IntegrationService) -> None:
    first = ensure_local_integration(
        service,
        base_url="http://127.0.0.1:3100",
        account_id=1,
        api_token="t1",
        webhook_secret="s1",
    )
    again = ensure_local_integration(
        service,
        base_url="http://127.0.0.1:3101",
        account_id=1,
        api_token="t2",
        webhook_secret="s2",
    )
    assert again.id == first.id
    assert again.base_url == "http://127.0.0.1:3101"
    secret = local_store(db).load(first.id)
    assert secret is not None
    assert secret.api_token.get_secret_value() == "t2"


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_secrets_manager_holds_credentials_and_the_webhook_settings(db: Database, secretsmanager: Any) -> None:
    store = SecretsManagerStore("chatwoot-integration/", client_factory=lambda: secretsmanager)
    service = IntegrationService(unit_of_work_factory(db), store, "https://api.example", clock=lambda: NOW)
    view = service.create(new(), actor="a")
    row = db.connection().execute("SELECT credentials, credentials_ref FROM integracoes_chatwoot").fetchone()
    assert row == {"credentials": None, "credentials_ref": f"chatwoot-integration/{view.id}"}
    stored = json.loads(secretsmanager.get_secret_value(SecretId=f"chatwoot-integration/{view.id}")["SecretString"])
    assert stored["api_token"] == "tok-123456"
    assert stored["account_id"] == 7
    assert stored["active"] is True
    service.update(view.id, IntegrationChanges(active=False), actor="a")
    stored = json.loads(secretsmanager.get_secret_value(SecretId=f"chatwoot-integration/{view.id}")["SecretString"])
    assert stored["active"] is False
    service.delete(view.id, actor="a")
    assert store.load(view.id) is None
