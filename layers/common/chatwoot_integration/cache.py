"""The one per-container cache of values that belong to an integration (its secret, its Chatwoot client).

A value is kept until it is older than the TTL, or until the integration's ``config_version`` moves (a new
token, URL or secret bumps it), whichever comes first. A TTL of ``None`` keeps a value until the version
moves; a TTL of 0 keeps nothing. Misses are cached too (an unknown integration is not looked up on every
request), for the same TTL. Everything else a container keeps (settings, the database, the services) is built
once by :mod:`chatwoot_integration.bootstrap`.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass(frozen=True)
class _Entry(Generic[T]):
    value: T | None
    version: int | None
    stored_at: float


class IntegrationCache(Generic[T]):
    """``load(integration_id)`` behind a per-integration cache; safe to share between threads."""

    def __init__(
        self,
        load: Callable[[int], T | None] | None = None,
        *,
        ttl_seconds: float | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._load = load or _nothing
        self._ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[int, _Entry[T]] = {}
        self._lock = threading.Lock()

    def get(
        self, integration_id: int, *, version: int | None = None, load: Callable[[int], T | None] | None = None
    ) -> T | None:
        """The cached value, or a fresh one when the entry is missing, expired, or of another ``version``.

        ``load`` replaces the cache's own loader for this call (a value built from more than the id).
        """
        now = self._clock()
        with self._lock:
            entry = self._entries.get(integration_id)
        if entry is not None and self._fresh(entry, version, now):
            return entry.value
        value = (load or self._load)(integration_id)
        with self._lock:
            self._entries[integration_id] = _Entry(value, version, now)
        return value

    def invalidate(self, integration_id: int | None = None) -> None:
        """Forget one integration's value (or every value)."""
        with self._lock:
            if integration_id is None:
                self._entries.clear()
            else:
                self._entries.pop(integration_id, None)

    def _fresh(self, entry: _Entry[T], version: int | None, now: float) -> bool:
        if version is not None and entry.version != version:
            return False
        return self._ttl is None or now - entry.stored_at < self._ttl


def _nothing(_integration_id: int) -> None:
    return None
