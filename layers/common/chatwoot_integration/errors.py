"""Typed domain errors. Handlers map them to HTTP in one place; nothing below a handler knows about HTTP."""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """Base of every error the service layer raises on purpose. ``code`` is stable and machine-readable."""

    code = "error"

    def __init__(self, message: str, *, details: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class NotFound(DomainError):
    code = "not_found"


class ValidationFailed(DomainError):
    code = "validation_error"


class Conflict(DomainError):
    code = "conflict"


class Forbidden(DomainError):
    code = "forbidden"


class Unauthorized(DomainError):
    code = "unauthorized"


class InvalidTransition(Conflict):
    """A state change the database refuses (raised by a trigger with SQLSTATE ``CW001``)."""

    code = "invalid_transition"


class UpstreamError(DomainError):
    """Chatwoot refused or failed a write-through call; the mirror was left unchanged."""

    code = "chatwoot_error"


class UnprocessableEntity(DomainError):
    code = "unprocessable"

    @classmethod
    def not_an_agent(cls, agent_id: int, integration_id: int, *, field: str) -> UnprocessableEntity:
        """The body names an agent the integration's account does not have (or no longer has)."""
        return cls(f"agent {agent_id} is not an agent of integration {integration_id}", details=[{"field": field}])


class MirrorPending(DomainError):
    """Chatwoot accepted a change but the mirror could not record it now; the next sync brings it up to date."""

    code = "mirror_pending"
