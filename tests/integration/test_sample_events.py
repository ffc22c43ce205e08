"""Every function's sample event in events/ (what ``sam local invoke`` sends) through its handler, in-process,
against a real PostgreSQL."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from chatwoot_integration.db import Database
from chatwoot_simulator import Simulator, serve
from localdev.apigw import LocalLambdaContext
from localdev.invoke import exec_file
from tests.factories import create_integration

REPO = Path(__file__).resolve().parents[2]
SAMPLE_SECRET = "sample-webhook-secret-change-me"  # the secret events/webhook.json is signed with


def load(function: str) -> ModuleType:
    return exec_file(REPO / "functions" / function / "app.py", f"sample_{function}")


def event(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((REPO / "events" / f"{name}.json").read_text())
    return data


def invoke(function: str, sample: str) -> Any:
    return load(function).lambda_handler(
        event(sample), LocalLambdaContext(function, timeout_seconds=30, memory_limit_in_mb=512)
    )


@pytest.fixture(autouse=True)
def local_settings(handler_environment: None, monkeypatch: pytest.MonkeyPatch, db: Database) -> Iterator[None]:
    # The sample is signed at a fixed moment; accept its age so the same bytes verify in this test.
    monkeypatch.setenv("WEBHOOK_TOLERANCE_SECONDS", str(20 * 365 * 24 * 3600))
    sim = Simulator(seed=4)
    accounts = [sim.create_account(f"Escritório {n}") for n in range(3)]  # the samples speak of account 3
    with serve(simulator=sim) as chatwoot, db.transaction() as conn:
        create_integration(
            conn,
            account_id=accounts[-1].id,
            base_url=chatwoot.url,
            credentials={"api_token": accounts[-1].api_token, "webhook_secret": SAMPLE_SECRET},
        )
        yield
    sim.close()


def test_every_function_has_a_sample_event() -> None:
    functions = sorted(p.name for p in (REPO / "functions").iterdir() if (p / "app.py").exists())
    samples = sorted(p.stem for p in (REPO / "events").glob("*.json"))
    assert functions == samples == ["api", "migrate", "processor", "sync", "webhook"]


def test_webhook_sample_is_accepted(db: Database) -> None:
    response = invoke("webhook", "webhook")
    assert response["statusCode"] == 202, response
    assert json.loads(response["body"])["status"] == "accepted"
    assert db.connection().execute("SELECT count(*) AS n FROM entregas_webhook_chatwoot").fetchone() == {"n": 1}


def test_processor_sample_is_applied(db: Database) -> None:
    response = invoke("processor", "processor")
    assert response == {"batchItemFailures": []}
    rows = db.connection().execute("SELECT integration_id, conversation_id FROM conversas_chatwoot").fetchall()
    assert rows


def test_api_sample_lists_conversations(db: Database) -> None:
    response = invoke("api", "api")
    assert response["statusCode"] == 200, response
    assert json.loads(response["body"]) == {"items": [], "next_cursor": None}


def test_sync_sample_runs_a_pass_and_reports(db: Database) -> None:
    report = invoke("sync", "sync")
    assert isinstance(report, dict)
    assert [i["status"] for i in report["integrations"]] == ["ok"]
    status = db.connection().execute("SELECT sync_status FROM integracoes_chatwoot").fetchone()
    assert status == {"sync_status": "ok"}


def test_migrate_sample_applies_nothing_new(db: Database) -> None:
    result = invoke("migrate", "migrate")
    assert result["applied"] == []
    assert result["schema_version"] >= 5
