"""The start-up hook that connects the Chatwoot account named by CHATWOOT_* and prints its webhook URL."""

from __future__ import annotations

import io
import sys
import types
from dataclasses import dataclass
from typing import Any

import pytest

from localdev.run import connect_chatwoot
from localdev.settings import LocalSettings

SERVICE_MODULE = "chatwoot_integration.services.integrations"
CHATWOOT = {
    "CHATWOOT_BASE_URL": "http://127.0.0.1:3100",
    "CHATWOOT_ACCOUNT_ID": "4",
    "CHATWOOT_API_TOKEN": "api-token-value",
    "CHATWOOT_WEBHOOK_SECRET": "webhook-secret-value",
}
SERVICE: Any = object()  # the integration service ensure_local_integration is given (a stand-in here)


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

    connect_chatwoot(SERVICE, LocalSettings.from_environ({}), out)

    assert "not connected" in out.getvalue()
    assert "CHATWOOT_WEBHOOK_SECRET" in out.getvalue()


def test_the_integration_is_ensured_and_its_webhook_url_printed(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []

    def ensure_local_integration(service: Any, **kwargs: Any) -> Integration:
        calls.append({"service": service, **kwargs})
        return Integration(id=12, webhook_url="http://127.0.0.1:3000/webhooks/chatwoot/12")

    install_service(monkeypatch, ensure_local_integration)
    out = io.StringIO()

    connect_chatwoot(SERVICE, LocalSettings.from_environ(CHATWOOT), out)

    assert calls == [
        {
            "service": SERVICE,
            "tenant": "local",
            "base_url": "http://127.0.0.1:3100",
            "account_id": 4,
            "api_token": "api-token-value",
            "webhook_secret": "webhook-secret-value",
        }
    ]
    printed = out.getvalue()
    assert "integration 12 of tenant local" in printed
    assert "http://127.0.0.1:3000/webhooks/chatwoot/12" in printed
    assert "api-token-value" not in printed
    assert "webhook-secret-value" not in printed


def test_a_failing_connection_is_reported_without_secrets_and_start_goes_on(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def ensure_local_integration(service: Any, **kwargs: Any) -> Integration:
        raise ConnectionError("Chatwoot at http://127.0.0.1:3100 refused the connection")

    install_service(monkeypatch, ensure_local_integration)
    out = io.StringIO()

    connect_chatwoot(SERVICE, LocalSettings.from_environ(CHATWOOT), out)

    assert "connecting account 4 failed" in out.getvalue()
    assert "api-token-value" not in out.getvalue() + caplog.text
