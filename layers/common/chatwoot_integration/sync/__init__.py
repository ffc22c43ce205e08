"""The scheduled sync that keeps the mirror true to Chatwoot (see ``service`` for what one run does).

- ``models``: the scheduler's event, the tunables, the resume state and the report.
- ``service``: :class:`SyncService`, one run over the integrations, each under its lease.
- ``agents``, ``passes``: the steps (agents and membership; conversations, contacts, messages, deletions).
- ``repository``: the sync's own SQL; ``mapping``: REST shapes to mirror rows; ``budget``: the deadline.
- ``runtime``: the per-container service and the deadlines of the Lambda handler and the API route.

Names are loaded on first use, so the API function can name the report model without loading the sync.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatwoot_integration.lazy import lazy_exports

if TYPE_CHECKING:
    from chatwoot_integration.sync.models import IntegrationSyncReport as IntegrationSyncReport
    from chatwoot_integration.sync.models import SyncMode as SyncMode
    from chatwoot_integration.sync.models import SyncProgress as SyncProgress
    from chatwoot_integration.sync.models import SyncReport as SyncReport
    from chatwoot_integration.sync.models import SyncRequest as SyncRequest
    from chatwoot_integration.sync.models import SyncSettings as SyncSettings
    from chatwoot_integration.sync.service import SyncService as SyncService

_EXPORTS = {
    "IntegrationSyncReport": "models",
    "SyncMode": "models",
    "SyncProgress": "models",
    "SyncReport": "models",
    "SyncRequest": "models",
    "SyncService": "service",
    "SyncSettings": "models",
}

__all__ = [
    "IntegrationSyncReport",
    "SyncMode",
    "SyncProgress",
    "SyncReport",
    "SyncRequest",
    "SyncService",
    "SyncSettings",
]


__getattr__ = lazy_exports(__name__, _EXPORTS)
