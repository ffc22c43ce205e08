"""One Chatwoot client per integration and container, built from the integration's stored credentials."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx

from ..chatwoot import ChatwootClient, get_http_client
from ..db import Database
from ..errors import Conflict, NotFound
from ..models.integration import Integration
from ..repositories.integrations import IntegrationRepository
from ..secrets import SecretStore

ClientFactory = Callable[[Integration, str, Callable[[], float | None]], ChatwootClient]


def deadline_from_context(context: Any, *, margin_seconds: float) -> Callable[[], float | None]:
    """The monotonic time by which Chatwoot calls must be done: the invocation's remaining time less a margin."""
    ends_at = time.monotonic() + context.get_remaining_time_in_millis() / 1000 - margin_seconds
    return lambda: ends_at


def default_client_factory(http: httpx.Client | None = None) -> ClientFactory:
    def build(integration: Integration, api_token: str, deadline: Callable[[], float | None]) -> ChatwootClient:
        return ChatwootClient(
            integration.base_url,
            integration.account_id,
            api_token,
            http=http or get_http_client(),
            deadline=deadline,
        )

    return build


class ChatwootClients:
    """Clients are cached per (integration, configuration version): a new token or URL builds a new client.

    ``deadline`` is read on every call, so the Lambda handler can point it at the current invocation's
    remaining time (``set_deadline``) while the clients themselves live as long as the container.
    """

    def __init__(self, database: Database, store: SecretStore, factory: ClientFactory | None = None) -> None:
        self._database = database
        self._store = store
        self._factory = factory or default_client_factory()
        self._clients: dict[tuple[int, int], ChatwootClient] = {}
        self._lock = threading.Lock()
        self._deadline: Callable[[], float | None] = lambda: None

    def set_deadline(self, deadline: Callable[[], float | None]) -> None:
        self._deadline = deadline

    def for_integration(self, integration: Integration) -> ChatwootClient:
        key = (integration.id, integration.config_version)
        with self._lock:
            client = self._clients.get(key)
        if client is not None:
            return client
        secret = self._store.load(integration.id)
        if secret is None:
            raise Conflict(f"integration {integration.id} has no stored API token")
        client = self._factory(integration, secret.api_token.get_secret_value(), self._current_deadline)
        with self._lock:
            for stale in [k for k in self._clients if k[0] == integration.id]:
                del self._clients[stale]
            self._clients[key] = client
        return client

    def _current_deadline(self) -> float | None:
        # Read through the attribute on every call: set_deadline replaces it per invocation.
        return self._deadline()

    def for_account(self, account_id: int) -> tuple[Integration, ChatwootClient]:
        with self._database.transaction() as conn:
            integration = IntegrationRepository(conn).get_by_account(account_id)
        if integration is None or not integration.active:
            raise NotFound(f"account {account_id} is not connected")
        return integration, self.for_integration(integration)
