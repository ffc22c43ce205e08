"""What the handlers cache per process (as a warm Lambda container does): settings read from the environment, the
webhook receiver, the api's and the sync's services, the processor's assignment service."""

from __future__ import annotations

from chatwoot_integration.api import context
from chatwoot_integration.config import get_settings
from chatwoot_integration.ingest import batch
from chatwoot_integration.ingest.receive import set_receiver
from chatwoot_integration.sync import runtime


def forget_handler_state() -> None:
    """Drop every per-process cache, so the next invocation builds it again from the current environment."""
    get_settings.cache_clear()
    set_receiver(None)
    batch.get_assignment.cache_clear()
    runtime.reset()
    context.reset()
