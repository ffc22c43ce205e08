"""``make run``: Chatwoot's signed webhook over HTTP reaches the mirror through the local API Gateway, the
webhook function and, with no queue, the processor in-process."""

from __future__ import annotations

import io
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest

from localdev.run import LocalRunner
from localdev.settings import LocalSettings
from tests.fixtures.chatwoot_payloads import load_fixture, raw_body, webhook_headers

WEBHOOK_SECRET = "make-run-webhook-secret"


@pytest.fixture
def runner(runner_database: str, handler_environment: None) -> Iterator[LocalRunner]:
    settings = LocalSettings.from_environ(
        {
            "DATABASE_URL": runner_database,
            "PORT": "0",
            "SYNC_INTERVAL_SECONDS": "0",
            "CHATWOOT_BASE_URL": "http://127.0.0.1:3999",
            "CHATWOOT_ACCOUNT_ID": "3",
            "CHATWOOT_API_TOKEN": "local-api-token",
            "CHATWOOT_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
    )
    local = LocalRunner(settings, out=io.StringIO())
    try:
        local.start()
        yield local
    finally:
        local.stop()


def test_a_signed_webhook_posted_to_make_run_lands_in_the_mirror(runner: LocalRunner, runner_database: str) -> None:
    with psycopg.connect(runner_database) as conn:
        row = conn.execute("SELECT id FROM integracoes_chatwoot WHERE account_id = 3").fetchone()
    assert row is not None
    url = f"{runner.url}/webhooks/chatwoot/{row[0]}"
    body = raw_body(load_fixture("message_created_incoming"))

    accepted = httpx.post(
        url, content=body, headers=webhook_headers(body, WEBHOOK_SECRET, int(time.time())), timeout=30
    )
    forged = httpx.post(
        url, content=body, headers=webhook_headers(body, "not-the-secret", int(time.time())), timeout=30
    )

    assert accepted.status_code == 202
    assert accepted.json()["status"] == "accepted"
    assert forged.status_code == 401
    assert forged.json() == {"error": {"code": "unauthorized", "message": "the delivery could not be authenticated"}}
    with psycopg.connect(runner_database) as conn:
        mirrored = conn.execute(
            "SELECT conversation_id, messages_count FROM conversas_chatwoot WHERE integration_id = %s", (row[0],)
        ).fetchall()
    assert mirrored == [(1043, 1)]
