"""Who asks for a use case: the caller identity the services take, whatever door the request came in by."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["admin", "agent"]


class Actor(BaseModel):
    """A person (or a platform service) acting through the API: who (``sub``), which role, which accounts.

    Change events name the actor by ``sub``. Automatic writers (webhooks, the sync, smart assignment) are named by
    plain strings instead (``chatwoot``, ``sync``, ``assignment``).
    """

    model_config = ConfigDict(defer_build=True, frozen=True)

    sub: str
    role: Role
    accounts: frozenset[int]

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def may_see(self, account_id: int) -> bool:
        return account_id in self.accounts
