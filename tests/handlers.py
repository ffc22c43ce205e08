"""What the handlers keep per process (as a warm Lambda container does): the container's graph from ``bootstrap``."""

from __future__ import annotations

from chatwoot_integration.bootstrap import bootstrap
from tests.egress_support import resolve_test_names


def forget_handler_state() -> None:
    """Drop everything the handlers' graph built, so the next invocation builds it again from the environment."""
    bootstrap().configure(egress_resolver=resolve_test_names)
