"""Who asks for a use case: the caller identity the services take, whatever door the request came in by."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .integration import TENANT_PATTERN

Role = Literal["admin", "agent"]


class Actor(BaseModel):
    """A person (or a platform service) acting for one tenant: who (``sub``), which role, which tenant.

    A tenant is one of the platform's law firms. Agents read and change the conversations and agents of their
    tenant's integrations; admins also manage the integrations. Nobody sees another tenant's data.

    Change events name the actor by ``sub``. Automatic writers (webhooks, the sync, smart assignment) are named by
    plain strings instead (``chatwoot``, ``sync``, ``assignment``).
    """

    model_config = ConfigDict(defer_build=True, frozen=True, strict=True)

    sub: str = Field(min_length=1, max_length=200)
    role: Role
    tenant: str = Field(pattern=TENANT_PATTERN)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"
