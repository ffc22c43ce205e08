"""Configuration, parsed once per container from the environment (by ``bootstrap``). The only module that reads
``os.environ``."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from .chatwoot.egress import EgressPolicy


class Settings(BaseModel):
    """Everything the functions read from their environment.

    Locally ``DATABASE_URL`` names the database; in AWS the functions reach RDS Proxy at ``DB_HOST`` with the
    credentials in the ``DB_SECRET_ARN`` secret.
    """

    model_config = ConfigDict(defer_build=True)

    database_url: str | None = None
    db_host: str | None = None
    db_port: int = 5432
    db_name: str = "postgres"
    db_secret_arn: str | None = None
    db_connect_timeout_seconds: int = 5

    secrets_backend: Literal["database", "secretsmanager"] = "database"
    integration_secrets_prefix: str = "chatwoot-integration/"

    ingest_queue_url: str | None = None
    event_bus_name: str | None = None
    public_base_url: str = "http://127.0.0.1:3000"

    webhook_tolerance_seconds: int = Field(default=300, ge=1)
    webhook_max_body_bytes: int = Field(default=1024 * 1024, ge=1)
    integration_cache_ttl_seconds: float = Field(default=30.0, ge=0)

    chatwoot_connect_timeout_seconds: float = 3.0
    chatwoot_read_timeout_seconds: float = 10.0
    # Chatwoot over plain http, and the hosts/CIDRs a self-hosted Chatwoot may live on besides public addresses
    # (e.g. the VPC's CIDR). The cloud metadata addresses are refused whatever is listed.
    chatwoot_allow_http: bool = False
    chatwoot_allowed_networks: str = ""

    def egress_policy(self) -> EgressPolicy:
        """Where the Chatwoot client may connect (see :mod:`chatwoot_integration.chatwoot.egress`)."""
        from .chatwoot.egress import EgressPolicy  # noqa: PLC0415

        return EgressPolicy.from_text(self.chatwoot_allow_http, self.chatwoot_allowed_networks)

    @classmethod
    def from_environ(cls, environ: dict[str, str] | None = None) -> Settings:
        env = os.environ if environ is None else environ
        values = {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        return cls.model_validate(values)
