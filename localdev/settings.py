"""What the local tools read from their environment, parsed once into a model (the runner's config module)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from pydantic import BaseModel, Field, field_validator

REPO_ROOT = Path(__file__).resolve().parents[1]

# Published on purpose: it only ever signs tokens for a server bound to 127.0.0.1.
DEFAULT_JWT_SECRET = "chatwoot-integration-local-development-secret"  # noqa: S105
LOCAL_DATABASE_NAME = "chatwoot_local"


class ChatwootConnection(BaseModel):
    """The Chatwoot account ``make run`` connects at start, when all four variables are set."""

    base_url: str
    account_id: int
    api_token: str
    webhook_secret: str


class LocalSettings(BaseModel):
    """Environment of ``make run``, ``make migrate`` and ``make token``; unset or empty variables keep defaults."""

    port: int = Field(default=3000, ge=0, le=65535)
    local_state_dir: Path = REPO_ROOT / ".local"
    local_template: Path = REPO_ROOT / "template.yaml"
    sync_interval_seconds: float = Field(default=300, ge=0)
    local_jwt_secret: str | None = None
    # The platform's tenant (law firm) the integrations of a local run belong to, and the default of make token.
    local_tenant: str = Field(default="local", pattern=r"^[A-Za-z0-9._-]{1,64}$")
    database_url: str | None = None
    public_base_url: str | None = None

    chatwoot_base_url: str | None = None
    chatwoot_account_id: int | None = None
    chatwoot_api_token: str | None = None
    chatwoot_webhook_secret: str | None = None

    @field_validator("local_state_dir", "local_template")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        return value.expanduser().resolve()

    @classmethod
    def from_environ(cls, environ: Mapping[str, str] | None = None) -> LocalSettings:
        env = os.environ if environ is None else environ
        values = {name: env[name.upper()] for name in cls.model_fields if env.get(name.upper(), "").strip()}
        return cls.model_validate(values)

    @property
    def jwt_secret(self) -> str:
        return self.local_jwt_secret or DEFAULT_JWT_SECRET

    @property
    def uses_default_jwt_secret(self) -> bool:
        return not self.local_jwt_secret

    @property
    def chatwoot(self) -> ChatwootConnection | None:
        """The Chatwoot account to connect, or None unless every one of the four variables is set."""
        if (
            self.chatwoot_base_url
            and self.chatwoot_account_id is not None
            and self.chatwoot_api_token
            and self.chatwoot_webhook_secret
        ):
            return ChatwootConnection(
                base_url=self.chatwoot_base_url,
                account_id=self.chatwoot_account_id,
                api_token=self.chatwoot_api_token,
                webhook_secret=self.chatwoot_webhook_secret,
            )
        return None
