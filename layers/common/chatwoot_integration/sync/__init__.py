"""The scheduled sync that keeps the mirror true to Chatwoot (see ``service`` for what one run does).

- ``models``: the scheduler's event, the tunables, the resume state and the report.
- ``service``: :class:`SyncService`, one run over the integrations, each under its lease.
- ``agents``, ``passes``: the steps (agents and membership; conversations, contacts, messages, deletions).
- ``repository``: the sync's own SQL; ``mapping``: REST shapes to mirror rows; ``budget``: the deadline.
- ``runtime``: the per-container service and the Lambda deadline, for the handler and the API route.
"""

from .models import IntegrationSyncReport, SyncMode, SyncProgress, SyncReport, SyncRequest, SyncSettings
from .service import SyncService

__all__ = [
    "IntegrationSyncReport",
    "SyncMode",
    "SyncProgress",
    "SyncReport",
    "SyncRequest",
    "SyncService",
    "SyncSettings",
]
