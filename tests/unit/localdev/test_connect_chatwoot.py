"""The start-up hook that connects the Chatwoot account named by CHATWOOT_* and prints its webhook URL."""

from __future__ import annotations

import io
import sys
import types
from dataclasses import dataclass
from typing import Any

import pytest

from chatwoot_integration.db import Database
from localdev.run import connect_chatwoot
from localdev.settings import LocalSettings

SERVICE_MODULE = "chatwoot_integration.services.integrations"
CHATWOOT = {
    "CHATWOOT_BASE_URL": "http://127.0.0.1:3100",
    "CHATWOOT_ACCOUNT_ID": "4",
    "CHATWOOT_API_TOKEN": "api-token-value",
    "CHATWOOT_WEBHOOK_SECRET": "webhook-secret-value",
}
DATABASE = Database(lambda: "postgresql://unused")  # never connected: the service is a stand-in here


@dataclass
class Integration:
    id: int
    webhook_url: str


def install_service(monkeypatch: pytest.MonkeyPatch, ensure: Any) -> None:
    module = types.ModuleType(SERVICE_MODULE)
    module.ensure_local_integration = ensure  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, SERVICE_MODULE, module)


def test_without_the_four_variables_nothing_is_connected_and_the_output_says_how() -> None:
    out = io.StringIO()

    connect_chatwoot(DATABASE, LocalSettings.from_environ({}), "http://127.0.0.1:3000", out)

    assert "not connected" in out.getvalue()
    assert "CHATWOOT_WEBHOOK_SECRET" in out.getvalue()


def test_the_integration_is_ensured_and_its_webhook_url_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def ensure_local_integration(database: Database, **kwargs: Any) -> Integration:
        calls.append({"database": database, **kwargs})
        return Integration(id=12, webhook_url="http://127.0.0.1:3000/webhooks/chatwoot/12")

    install_service(monkeypatch, ensure_local_integration)
    out = io.StringIO()

    connect_chatwoot(DATABASE, LocalSettings.from_environ(CHATWOOT), "http://127.0.0.1:3000", out)

    assert calls == [
        {
            "database": DATABASE,
            "base_url": "http://127.0.0.1:3100",
            "account_id": 4,
            "api_token": "api-token-value",
            "webhook_secret": "webhook-secret-value",
            "public_base_url": "http://127.0.0.1:3000",
        }
    ]
    printed = out.getvalue()
    assert "integration 12" in printed
    assert "http://127.0.0.1:3000/webhooks/chatwoot/12" in printed
    assert "api-token-value" not in printed
    assert "webhook-secret-value" not in printed


def test_a_missing_integration_service_is_reported_and_start_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, SERVICE_MODULE, None)  # makes the import raise ImportError
    out = io.StringIO()

    connect_chatwoot(DATABASE, LocalSettings.from_environ(CHATWOOT), "http://127.0.0.1:3000", out)

    assert "integration service is not available yet" in out.getvalue()


def test_a_failing_connection_is_reported_without_secrets_and_start_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def ensure_local_integration(database: Database, **kwargs: Any) -> Integration:
        raise ConnectionError("Chatwoot at http://127.0.0.1:3100 refused the connection")

    install_service(monkeypatch, ensure_local_integration)
    out = io.StringIO()

    connect_chatwoot(DATABASE, LocalSettings.from_environ(CHATWOOT), "http://127.0.0.1:3000", out)

    assert "connecting account 4 failed" in out.getvalue()
    assert "api-token-value" not in out.getvalue() + caplog.text
