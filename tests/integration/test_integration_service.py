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
from chatwoot_integration.errors import Conflict, NotFound, ValidationFailed
from chatwoot_integration.models.integration import AssignmentPolicyPatch, IntegrationChanges, NewIntegration
from chatwoot_integration.secrets import DatabaseSecretStore, SecretsManagerStore
from chatwoot_integration.services.integrations import IntegrationService, ensure_local_integration
from chatwoot_integration.uow import unit_of_work_factory

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
TENANT = "firm-a"


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
    return IntegrationService(
        unit_of_work_factory(db), local_store(db), "http://127.0.0.1:3000", clock=lambda: NOW, check_url=checked
    )


def checked(url: str) -> str:
    """The egress check as the service sees it: a normalised URL back, or a ValueError saying why not."""
    if "169.254." in url:
        raise ValueError("host is a link-local address")
    return url.rstrip("/")


def dumped(view: Any) -> str:
    return view.model_dump_json()


def test_create_hides_secrets_and_gives_the_webhook_url(service: IntegrationService, db: Database) -> None:
    view = service.create(TENANT, new(), actor="admin-1")
    assert view.webhook_url == f"http://127.0.0.1:3000/webhooks/chatwoot/{view.id}"
    assert view.has_api_token and view.has_webhook_secret
    assert view.base_url == "https://chat.souza.example"
    assert "tok-123456" not in dumped(view) and "whsec-abcdef" not in dumped(view)
    secret = local_store(db).load(view.id)
    assert secret is not None
    assert secret.api_token.get_secret_value() == "tok-123456"
    assert secret.account_id == 7
    events = db.connection().execute("SELECT type, actor, integration_id, tenant FROM eventos_chatwoot").fetchall()
    assert events == [{"type": "integration.created", "actor": "admin-1", "integration_id": view.id, "tenant": TENANT}]
    assert view.tenant == TENANT


def test_one_integration_per_account_of_one_chatwoot_per_tenant(service: IntegrationService) -> None:
    service.create(TENANT, new(), actor="a")
    with pytest.raises(Conflict, match=r"account 7 of https://chat\.souza\.example is already connected"):
        service.create(TENANT, new(name="outra", base_url="https://chat.souza.example"), actor="a")
    # Account 7 of another Chatwoot, and the same account for another tenant, are other integrations.
    other_server = service.create(TENANT, new(base_url="https://chat.outro.example"), actor="a")
    other_tenant = service.create("firm-b", new(), actor="b")
    assert other_server.account_id == other_tenant.account_id == 7
    assert [v.id for v in service.list_for_tenant("firm-b")] == [other_tenant.id]


def test_rotation_keeps_the_previous_secret_for_the_overlap(service: IntegrationService, db: Database) -> None:
    view = service.create(TENANT, new(), actor="a")
    rotated = service.update(
        TENANT,
        view.id,
        IntegrationChanges(webhook_secret=SecretStr("whsec-new"), previous_secret_valid_hours=2),
        actor="a",
    )
    assert rotated.webhook_secret_rotation_until == NOW + timedelta(hours=2)
    secret = local_store(db).load(view.id)
    assert secret is not None
    assert secret.accepted_webhook_secrets(NOW) == ["whsec-new", "whsec-abcdef"]
    assert secret.accepted_webhook_secrets(NOW + timedelta(hours=3)) == ["whsec-new"]


def test_policy_patch_merges_and_is_validated(service: IntegrationService) -> None:
    view = service.create(TENANT, new(), actor="a")
    updated = service.update(
        TENANT,
        view.id,
        IntegrationChanges(assignment_policy=AssignmentPolicyPatch(enabled=True, default_capacity=4)),
        actor="a",
    )
    assert updated.assignment_policy.enabled
    assert updated.assignment_policy.default_capacity == 4
    assert updated.assignment_policy.mode == "balanced"


def test_legacy_mode_adds_a_long_random_token_to_the_url(service: IntegrationService, db: Database) -> None:
    view = service.create(TENANT, new(webhook_secret=None, legacy_unsigned=True), actor="a")
    assert not view.has_webhook_secret
    token = view.webhook_url.split("?token=")[1]
    assert len(token) >= 40
    secret = local_store(db).load(view.id)
    assert secret is not None and secret.legacy_token is not None
    assert secret.legacy_token.get_secret_value() == token
    rotated = service.update(TENANT, view.id, IntegrationChanges(rotate_legacy_token=True), actor="a")
    assert rotated.webhook_url.split("?token=")[1] != token


def test_deleting_needs_a_deactivated_integration(service: IntegrationService, db: Database) -> None:
    view = service.create(TENANT, new(), actor="a")
    with pytest.raises(Conflict, match="deactivate"):
        service.delete(TENANT, view.id, actor="a")
    service.update(TENANT, view.id, IntegrationChanges(active=False), actor="a")
    service.delete(TENANT, view.id, actor="a")
    with pytest.raises(NotFound):
        service.get(TENANT, view.id)
    with pytest.raises(NotFound):
        service.delete(TENANT, view.id, actor="a")


def test_a_new_api_token_lifts_an_auth_error(service: IntegrationService, db: Database) -> None:
    view = service.create(TENANT, new(), actor="a")
    with db.transaction() as conn:
        conn.execute("UPDATE integracoes_chatwoot SET sync_status = 'auth_error', sync_error = 'revoked'")
    updated = service.update(TENANT, view.id, IntegrationChanges(api_token=SecretStr("tok-new")), actor="a")
    assert updated.sync_status == "never"
    assert updated.sync_error is None


def test_ensure_local_integration_creates_then_updates(db: Database, service: IntegrationService) -> None:
    first = ensure_local_integration(
        service, tenant="local", base_url="http://127.0.0.1:3100", account_id=1, api_token="t1", webhook_secret="s1"
    )
    again = ensure_local_integration(
        service, tenant="local", base_url="http://127.0.0.1:3100/", account_id=1, api_token="t2", webhook_secret="s2"
    )
    assert again.id == first.id
    secret = local_store(db).load(first.id)
    assert secret is not None
    assert secret.api_token.get_secret_value() == "t2"
    # Account 1 of another Chatwoot is another integration; the first keeps its token.
    elsewhere = ensure_local_integration(
        service, tenant="local", base_url="http://127.0.0.1:3101", account_id=1, api_token="t3", webhook_secret="s3"
    )
    assert elsewhere.id != first.id
    assert [v.id for v in service.list_for_tenant("local")] == [first.id, elsewhere.id]


def test_another_tenants_integration_is_not_found_for_every_method(service: IntegrationService, db: Database) -> None:
    view = service.create(TENANT, new(), actor="a")
    service.update(TENANT, view.id, IntegrationChanges(active=False), actor="a")
    before = db.connection().execute("SELECT * FROM integracoes_chatwoot").fetchall()
    calls = {
        "get": service.get,
        "update": lambda tenant, iid: service.update(tenant, iid, IntegrationChanges(name="x"), actor="b"),
        "delete": lambda tenant, iid: service.delete(tenant, iid, actor="b"),
    }
    for name, call in calls.items():
        with pytest.raises(NotFound) as other:
            call("firm-b", view.id)
        with pytest.raises(NotFound) as missing:
            call("firm-b", view.id + 1000)
        assert str(other.value).replace(str(view.id), "N") == str(missing.value).replace(str(view.id + 1000), "N"), name
    assert db.connection().execute("SELECT * FROM integracoes_chatwoot").fetchall() == before
    assert service.list_for_tenant("firm-b") == []


def test_repointing_needs_a_new_api_token_in_the_same_request(service: IntegrationService, db: Database) -> None:
    view = service.create(TENANT, new(), actor="a")
    before = db.connection().execute("SELECT * FROM integracoes_chatwoot").fetchall()
    for changes in (
        IntegrationChanges(base_url="https://attacker.example"),
        IntegrationChanges(account_id=8),
        IntegrationChanges(base_url="https://attacker.example", account_id=8, name="renamed"),
    ):
        with pytest.raises(ValidationFailed, match="needs the API token") as refused:
            service.update(TENANT, view.id, changes, actor="a")
        assert refused.value.details == [
            {"field": "api_token", "problem": "required when base_url or account_id changes"}
        ]
    assert db.connection().execute("SELECT * FROM integracoes_chatwoot").fetchall() == before
    # The same origin spelled differently is no re-point; with a new token the re-point goes through.
    service.update(TENANT, view.id, IntegrationChanges(base_url="https://chat.souza.example/"), actor="a")
    moved = service.update(
        TENANT,
        view.id,
        IntegrationChanges(base_url="https://chat.novo.example", account_id=8, api_token=SecretStr("tok-novo")),
        actor="a",
    )
    assert (moved.base_url, moved.account_id) == ("https://chat.novo.example", 8)
    secret = local_store(db).load(view.id)
    assert secret is not None
    assert (secret.api_token.get_secret_value(), secret.account_id) == ("tok-novo", 8)


def test_a_refused_base_url_is_a_validation_error_and_nothing_is_written(
    service: IntegrationService, db: Database
) -> None:
    with pytest.raises(ValidationFailed, match="base_url refused: host is a link-local address"):
        service.create(TENANT, new(base_url="http://169.254.169.254"), actor="a")
    assert db.connection().execute("SELECT count(*) AS n FROM integracoes_chatwoot").fetchone() == {"n": 0}
    view = service.create(TENANT, new(), actor="a")
    with pytest.raises(ValidationFailed, match="base_url refused"):
        service.update(
            TENANT, view.id, IntegrationChanges(base_url="http://169.254.169.254", api_token=SecretStr("t")), actor="a"
        )
    assert service.get(TENANT, view.id).base_url == "https://chat.souza.example"


@pytest.fixture
def secretsmanager() -> Iterator[Any]:
    with mock_aws():
        yield boto3.client("secretsmanager", region_name="us-east-1")


def test_secrets_manager_holds_credentials_and_the_webhook_settings(db: Database, secretsmanager: Any) -> None:
    store = SecretsManagerStore("chatwoot-integration/", client_factory=lambda: secretsmanager)
    service = IntegrationService(
        unit_of_work_factory(db), store, "https://api.example", clock=lambda: NOW, check_url=checked
    )
    view = service.create(TENANT, new(), actor="a")
    row = db.connection().execute("SELECT credentials, credentials_ref FROM integracoes_chatwoot").fetchone()
    assert row == {"credentials": None, "credentials_ref": f"chatwoot-integration/{view.id}"}
    stored = json.loads(secretsmanager.get_secret_value(SecretId=f"chatwoot-integration/{view.id}")["SecretString"])
    assert stored["api_token"] == "tok-123456"
    assert stored["account_id"] == 7
    assert stored["active"] is True
    service.update(TENANT, view.id, IntegrationChanges(active=False), actor="a")
    stored = json.loads(secretsmanager.get_secret_value(SecretId=f"chatwoot-integration/{view.id}")["SecretString"])
    assert stored["active"] is False
    service.delete(TENANT, view.id, actor="a")
    assert store.load(view.id) is None
