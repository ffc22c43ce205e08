"""Per-container collaborators of the API, built on first use (never at import time)."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from ..config import get_settings
from ..db import Database, get_database
from ..secrets import SecretStore, secret_store_from_settings
from ..services.agents import AgentService
from ..services.assignment import AssignmentService
from ..services.changes import ChangePublisher
from ..services.chatwoot_clients import ChatwootClients
from ..services.conversations import ConversationService
from ..services.integrations import IntegrationService


@dataclass
class ApiServices:
    database: Database
    secrets: SecretStore
    clients: ChatwootClients
    conversations: ConversationService
    agents: AgentService
    assignment: AssignmentService
    integrations: IntegrationService
    publisher: ChangePublisher


@lru_cache(maxsize=1)
def services() -> ApiServices:
    settings = get_settings()
    database = get_database()
    store = secret_store_from_settings()
    clients = ChatwootClients(database, store)
    return ApiServices(
        database=database,
        secrets=store,
        clients=clients,
        conversations=ConversationService(database, clients),
        agents=AgentService(database, clients, AssignmentService(database, clients)),
        assignment=AssignmentService(database, clients),
        integrations=IntegrationService(database, store, settings.public_base_url),
        publisher=ChangePublisher(database, settings.event_bus_name),
    )


def reset() -> None:
    """Forget the cached collaborators (tests point the process at another database or settings)."""
    services.cache_clear()
