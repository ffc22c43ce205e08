"""``make run`` in-process against the repository's template: migrations, the real API, a connected account."""

from __future__ import annotations

import io
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from localdev.authorizer import issue_token
from localdev.run import LocalRunner
from localdev.settings import DEFAULT_JWT_SECRET, LocalSettings


@pytest.fixture
def runner(runner_database: str, handler_environment: None) -> Iterator[tuple[LocalRunner, io.StringIO]]:
    settings = LocalSettings.from_environ(
        {
            "DATABASE_URL": runner_database,
            "PORT": "0",
            "SYNC_INTERVAL_SECONDS": "0",
            "CHATWOOT_BASE_URL": "http://127.0.0.1:3999",
            "CHATWOOT_ACCOUNT_ID": "5",
            "CHATWOOT_API_TOKEN": "local-api-token",
            "CHATWOOT_WEBHOOK_SECRET": "local-webhook-secret",
        }
    )
    out = io.StringIO()
    local = LocalRunner(settings, out=out)
    try:
        local.start()
        yield local, out
    finally:
        local.stop()


def test_the_runner_migrates_serves_health_and_prints_the_banner(runner: tuple[LocalRunner, io.StringIO]) -> None:
    local, out = runner

    health = httpx.get(f"{local.url}/health", timeout=30)

    assert health.status_code == 200
    assert health.json() == {"status": "ok", "database": "ok"}
    printed = out.getvalue()
    assert "migrations: applied 0001_integrations" in printed
    assert f"API         {local.url}" in printed
    assert f"{local.url}/docs" in printed
    assert "make token" in printed
    assert DEFAULT_JWT_SECRET in printed
    assert "Sync        off" in printed


def test_the_chatwoot_account_from_the_environment_is_connected_with_its_webhook_url(
    runner: tuple[LocalRunner, io.StringIO], runner_database: str
) -> None:
    local, out = runner

    with psycopg.connect(runner_database) as conn:
        rows = conn.execute("SELECT id, account_id, base_url FROM integracoes_chatwoot").fetchall()

    assert len(rows) == 1
    integration_id, account_id, base_url = rows[0]
    assert (account_id, base_url) == (5, "http://127.0.0.1:3999")
    assert f"{local.url}/webhooks/chatwoot/{integration_id}" in out.getvalue()
    assert "local-api-token" not in out.getvalue()
    assert "local-webhook-secret" not in out.getvalue()


def test_a_token_from_make_token_opens_the_protected_api(runner: tuple[LocalRunner, io.StringIO]) -> None:
    local, _ = runner
    token = issue_token(DEFAULT_JWT_SECRET, subject="local-admin", role="admin", tenant="local")

    without = httpx.get(f"{local.url}/integrations", timeout=30)
    with_token = httpx.get(f"{local.url}/integrations", headers={"Authorization": f"Bearer {token}"}, timeout=30)

    assert without.status_code == 401
    assert without.json()["error"]["code"] == "unauthorized"
    assert with_token.status_code == 200, with_token.text
    listed = with_token.json()
    assert [(i["account_id"], i["webhook_url"]) for i in listed] == [
        (5, f"{local.url}/webhooks/chatwoot/{listed[0]['id']}")
    ]
    assert "local-api-token" not in with_token.text
    other_tenant = issue_token(DEFAULT_JWT_SECRET, subject="admin-b", role="admin", tenant="firm-b")
    assert httpx.get(f"{local.url}/integrations", headers={"Authorization": f"Bearer {other_tenant}"}).json() == []
