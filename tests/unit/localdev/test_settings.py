"""The local tools' settings: defaults, empty variables, and when a Chatwoot account is to be connected."""

from __future__ import annotations

from pathlib import Path

from localdev.settings import DEFAULT_JWT_SECRET, REPO_ROOT, LocalSettings

CHATWOOT = {
    "CHATWOOT_BASE_URL": "http://127.0.0.1:3100",
    "CHATWOOT_ACCOUNT_ID": "1",
    "CHATWOOT_API_TOKEN": "api-token",
    "CHATWOOT_WEBHOOK_SECRET": "webhook-secret",
}


def test_defaults() -> None:
    settings = LocalSettings.from_environ({})

    assert settings.port == 3000
    assert settings.sync_interval_seconds == 300
    assert settings.local_state_dir == REPO_ROOT / ".local"
    assert settings.local_template == REPO_ROOT / "template.yaml"
    assert settings.database_url is None
    assert settings.jwt_secret == DEFAULT_JWT_SECRET
    assert settings.uses_default_jwt_secret
    assert settings.chatwoot is None


def test_empty_variables_keep_the_defaults() -> None:
    settings = LocalSettings.from_environ({"DATABASE_URL": "", "PORT": " ", "LOCAL_JWT_SECRET": ""})

    assert (settings.database_url, settings.port, settings.uses_default_jwt_secret) == (None, 3000, True)


def test_values_are_read_from_their_variables(tmp_path: Path) -> None:
    settings = LocalSettings.from_environ(
        {
            "PORT": "4000",
            "SYNC_INTERVAL_SECONDS": "0",
            "LOCAL_STATE_DIR": str(tmp_path),
            "LOCAL_JWT_SECRET": "s" * 40,
            "DATABASE_URL": "postgresql://u@h/db",
        }
    )

    assert settings.port == 4000
    assert settings.sync_interval_seconds == 0
    assert settings.local_state_dir == tmp_path.resolve()
    assert settings.jwt_secret == "s" * 40
    assert not settings.uses_default_jwt_secret
    assert settings.database_url == "postgresql://u@h/db"


def test_a_chatwoot_account_is_connected_only_when_all_four_variables_are_set() -> None:
    complete = LocalSettings.from_environ(CHATWOOT).chatwoot
    partial = LocalSettings.from_environ({**CHATWOOT, "CHATWOOT_WEBHOOK_SECRET": ""}).chatwoot

    assert complete is not None
    assert (complete.base_url, complete.account_id, complete.api_token, complete.webhook_secret) == (
        "http://127.0.0.1:3100",
        1,
        "api-token",
        "webhook-secret",
    )
    assert partial is None
