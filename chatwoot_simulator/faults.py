"""REST fault injection: rate limiting, server errors, latency and revoked tokens, seeded and thread-safe."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict

SERVER_ERROR_STATUSES = frozenset({500, 502, 503, 504})


class InjectedFault(BaseModel):
    """A response that replaces the real one."""

    model_config = ConfigDict(frozen=True)

    status: int
    retry_after: int | None = None


class FaultSettings(BaseModel):
    """The current switches (a copy; change them through :class:`FaultInjector`)."""

    rate_limit_next: int = 0
    rate_limit_probability: float = 0.0
    retry_after: int = 30
    error_next: int = 0
    error_next_status: int = 503
    error_probability: float = 0.0
    error_probability_status: int = 500
    latency: float | tuple[float, float] | None = None
    revoked: bool = False


class FaultInjector:
    """Decides, request by request, whether to delay and whether to answer with a fault.

    Precedence: revoked token (401), then the next-K bursts (429 before 5xx), then the probabilities.
    ``sleep`` is injectable so tests can observe latency without waiting for it.
    """

    def __init__(self, seed: int = 0, sleep: Callable[[float], None] = time.sleep) -> None:
        self._rng = random.Random(seed)  # noqa: S311 - seeded on purpose, so runs are reproducible
        self._sleep = sleep
        self._lock = threading.Lock()
        self._settings = FaultSettings()

    def rate_limit_next(self, count: int, *, retry_after: int = 30) -> None:
        """Answer the next ``count`` requests with 429 and ``Retry-After: retry_after``."""
        with self._lock:
            self._settings = self._settings.model_copy(update={"rate_limit_next": count, "retry_after": retry_after})

    def rate_limit_probability(self, probability: float, *, retry_after: int = 30) -> None:
        with self._lock:
            self._settings = self._settings.model_copy(
                update={"rate_limit_probability": _probability(probability), "retry_after": retry_after}
            )

    def fail_next(self, count: int, *, status: int = 503) -> None:
        """Answer the next ``count`` requests with ``status`` (500, 502, 503 or 504)."""
        with self._lock:
            self._settings = self._settings.model_copy(
                update={"error_next": count, "error_next_status": _server_error(status)}
            )

    def fail_probability(self, probability: float, *, status: int = 500) -> None:
        with self._lock:
            self._settings = self._settings.model_copy(
                update={
                    "error_probability": _probability(probability),
                    "error_probability_status": _server_error(status),
                }
            )

    def set_latency(self, seconds: float | tuple[float, float] | None) -> None:
        """Delay every request by a fixed time, a uniform draw from ``(low, high)``, or not at all."""
        with self._lock:
            self._settings = self._settings.model_copy(update={"latency": seconds})

    def revoke_tokens(self, revoked: bool = True) -> None:
        """While revoked, every request is answered 401 as if its token had been deleted."""
        with self._lock:
            self._settings = self._settings.model_copy(update={"revoked": revoked})

    def clear(self) -> None:
        with self._lock:
            self._settings = FaultSettings()

    @property
    def settings(self) -> FaultSettings:
        with self._lock:
            return self._settings.model_copy()

    def apply(self) -> InjectedFault | None:
        """Wait the configured latency, then return the fault this request gets, if any."""
        with self._lock:
            delay = self._draw_latency()
            fault = self._draw_fault()
        if delay > 0:
            self._sleep(delay)
        return fault

    def _draw_latency(self) -> float:
        latency = self._settings.latency
        if latency is None:
            return 0.0
        if isinstance(latency, tuple):
            return self._rng.uniform(*latency)
        return latency

    def _draw_fault(self) -> InjectedFault | None:
        s = self._settings
        if s.revoked:
            return InjectedFault(status=401)
        if s.rate_limit_next > 0:
            self._settings = s.model_copy(update={"rate_limit_next": s.rate_limit_next - 1})
            return InjectedFault(status=429, retry_after=s.retry_after)
        if s.error_next > 0:
            self._settings = s.model_copy(update={"error_next": s.error_next - 1})
            return InjectedFault(status=s.error_next_status)
        if s.rate_limit_probability > 0 and self._rng.random() < s.rate_limit_probability:
            return InjectedFault(status=429, retry_after=s.retry_after)
        if s.error_probability > 0 and self._rng.random() < s.error_probability:
            return InjectedFault(status=s.error_probability_status)
        return None


def _probability(value: float) -> float:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"probability must be within [0, 1], got {value}")
    return value


def _server_error(status: int) -> int:
    if status not in SERVER_ERROR_STATUSES:
        raise ValueError(f"status must be one of {sorted(SERVER_ERROR_STATUSES)}, got {status}")
    return status
