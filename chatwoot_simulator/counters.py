"""Per-route request counters of the REST API, for tests and benchmarks to assert on."""

from __future__ import annotations

import threading
from collections import Counter

UNMATCHED_ROUTE = "UNMATCHED"


class RequestCounters:
    """Counts requests by route (``"GET /api/v1/accounts/{account_id}/conversations"``) and by status.

    Every request is counted, including those answered by an injected fault.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._routes: Counter[str] = Counter()
        self._statuses: Counter[tuple[str, int]] = Counter()

    def record(self, route: str, status: int) -> None:
        with self._lock:
            self._routes[route] += 1
            self._statuses[(route, status)] += 1

    def by_route(self) -> dict[str, int]:
        with self._lock:
            return dict(self._routes)

    def by_status(self) -> dict[tuple[str, int], int]:
        with self._lock:
            return dict(self._statuses)

    def count(self, route: str, status: int | None = None) -> int:
        with self._lock:
            return self._routes[route] if status is None else self._statuses[(route, status)]

    def total(self) -> int:
        with self._lock:
            return sum(self._routes.values())

    def reset(self) -> None:
        with self._lock:
            self._routes.clear()
            self._statuses.clear()
