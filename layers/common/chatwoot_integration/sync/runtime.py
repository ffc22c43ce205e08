"""The sync's collaborators for one container, built on first use (never at import time)."""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import lru_cache
from typing import Protocol

from ..config import get_settings
from ..db import Database, get_database
from ..secrets import secret_store_from_settings
from ..services.assignment import AssignmentService
from ..services.changes import ChangePublisher
from ..services.chatwoot_clients import ChatwootClients
from .budget import Deadline
from .service import SyncService

# Left between the sync's own deadline and the Lambda's: enough to record the outcome and release the lease.
LAMBDA_SAFETY_SECONDS = 10.0
# API Gateway stops waiting after 30 s; a sync started from the API stops this much earlier (or earlier still
# if the API function's own timeout comes first) to answer with its report.
API_GATEWAY_SECONDS = 30.0
API_SAFETY_SECONDS = 4.0


class RemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


@lru_cache(maxsize=1)
def sync_service() -> SyncService:
    settings = get_settings()
    database = get_database()
    clients = ChatwootClients(database, secret_store_from_settings())
    return SyncService(
        database,
        clients,
        assignment=AssignmentService(database, clients),
        publisher=ChangePublisher(database, settings.event_bus_name),
    )


def api_sync_service(
    database: Database, clients: ChatwootClients, assignment: AssignmentService, publisher: ChangePublisher
) -> SyncService:
    """The sync over the API function's own collaborators (its Chatwoot clients, its assignment service)."""
    return SyncService(database, clients, assignment=assignment, publisher=publisher)


def reset() -> None:
    """Forget the per-container service (tests point the process at another database or Chatwoot)."""
    sync_service.cache_clear()


def lambda_deadline(
    context: RemainingTime,
    *,
    safety_seconds: float = LAMBDA_SAFETY_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Deadline:
    """The invocation's deadline on ``clock``, read live from the context (the local runner can expire it)."""

    def deadline() -> float:
        return clock() + context.get_remaining_time_in_millis() / 1000 - safety_seconds

    return deadline


def api_deadline(
    context: RemainingTime | None,
    *,
    safety_seconds: float = API_SAFETY_SECONDS,
    clock: Callable[[], float] = time.monotonic,
) -> Deadline:
    """A sync run inside an API request: before API Gateway gives up, and before the function's own timeout."""
    gateway_end = clock() + API_GATEWAY_SECONDS - safety_seconds

    def deadline() -> float:
        if context is None:
            return gateway_end
        return min(gateway_end, clock() + context.get_remaining_time_in_millis() / 1000 - safety_seconds)

    return deadline
