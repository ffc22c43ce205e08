"""One Chatwoot client per integration and container, built from the integration's stored credentials."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import httpx

from ..cache import IntegrationCache
from ..chatwoot.client import ChatwootClient
from ..chatwoot.egress import EgressPolicy, Resolver
from ..chatwoot.http import STRICT, get_http_client
from ..chatwoot.transport import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
from ..errors import Conflict, NotFound
from ..models.integration import Integration
from ..secrets import SecretStore
from ..uow import UnitOfWorkFactory

ClientFactory = Callable[[Integration, str, Callable[[], float | None]], ChatwootClient]


def deadline_from_context(context: Any, *, margin_seconds: float) -> Callable[[], float | None]:
    """The monotonic time by which Chatwoot calls must be done: the invocation's remaining time less a margin."""
    ends_at = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - margin_seconds
    return lambda: ends_at


def default_client_factory(
    http: httpx.Client | None = None,
    *,
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT,
    read_timeout: float = DEFAULT_READ_TIMEOUT,
    egress: EgressPolicy = STRICT,
    resolve: Resolver | None = None,
) -> ClientFactory:
    """Clients over the container's shared HTTP pool for the egress policy, with the configured timeouts."""

    def build(integration: Integration, api_token: str, deadline: Callable[[], float | None]) -> ChatwootClient:
        return ChatwootClient(
            integration.base_url,
            integration.account_id,
            api_token,
            http=http or get_http_client(egress, resolve),
            deadline=deadline,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )

    return build


class ChatwootClients:
    """Clients are cached per integration until its configuration version moves (a new token or URL builds a
    new client), in the container's one :class:`IntegrationCache`.

    ``deadline`` is read on every call, so the Lambda handler can point it at the current invocation's
    remaining time (``set_deadline``) while the clients themselves live as long as the container.
    """

    def __init__(self, unit_of_work: UnitOfWorkFactory, store: SecretStore, factory: ClientFactory | None = None):
        self._unit_of_work = unit_of_work
        self._store = store
        self._factory = factory or default_client_factory()
        self._clients: IntegrationCache[ChatwootClient] = IntegrationCache(ttl_seconds=None)
        self._deadline: Callable[[], float | None] = lambda: None

    def set_deadline(self, deadline: Callable[[], float | None]) -> None:
        self._deadline = deadline

    def for_integration(self, integration: Integration) -> ChatwootClient:
        client = self._clients.get(
            integration.id, version=integration.config_version, load=lambda _id: self._build(integration)
        )
        if client is None:
            self._clients.invalidate(integration.id)  # no token yet: look again next time
            raise Conflict(f"integration {integration.id} has no stored API token")
        return client

    def for_integration_id(self, integration_id: int) -> tuple[Integration, ChatwootClient]:
        """The integration and its client; an integration switched off is as good as absent."""
        with self._unit_of_work(read_only=True) as uow:
            integration = uow.integrations.get(integration_id)
        if integration is None or not integration.active:
            raise NotFound(f"integration {integration_id} is not connected")
        return integration, self.for_integration(integration)

    def _build(self, integration: Integration) -> ChatwootClient | None:
        secret = self._store.load(integration.id)
        if secret is None:
            return None
        return self._factory(integration, secret.api_token.get_secret_value(), self._current_deadline)

    def _current_deadline(self) -> float | None:
        # Read through the attribute on every call: set_deadline replaces it per invocation.
        return self._deadline()
