"""Waiting for what another thread does (a webhook crossing the local stack), within a bound."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(condition: Callable[[], bool], timeout: float = 10) -> bool:
    """Whether ``condition`` holds within ``timeout`` seconds; a bound, never a performance assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()
