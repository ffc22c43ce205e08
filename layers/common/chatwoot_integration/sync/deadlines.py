"""The deadlines a sync run keeps: the Lambda invocation's, or an API request's (API Gateway waits 30 s)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Protocol

from .budget import Deadline

# Left between the sync's own deadline and the Lambda's: enough to record the outcome and release the lease.
LAMBDA_SAFETY_SECONDS = 10.0
# API Gateway stops waiting after 30 s; a sync started from the API stops this much earlier (or earlier still
# if the API function's own timeout comes first) to answer with its report.
API_GATEWAY_SECONDS = 30.0
API_SAFETY_SECONDS = 4.0


class RemainingTime(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


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
