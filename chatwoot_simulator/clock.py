"""Clocks for the simulator: the wall clock for local runs, a manual one for deterministic tests."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    """Unix time in seconds, as a float."""

    def now(self) -> float: ...


class WallClock:
    """The real time."""

    def now(self) -> float:
        return time.time()


class ManualClock:
    """A clock that only moves when told to, so every timestamp in a test is known in advance.

    ``tick`` (seconds) is added after every reading, which keeps successive events apart the way real
    time would without making any value depend on how fast the test runs.
    """

    def __init__(self, start: float = 1_781_690_000.0, tick: float = 0.0) -> None:
        self._now = start
        self._tick = tick
        self._lock = threading.Lock()

    def now(self) -> float:
        with self._lock:
            value = self._now
            self._now += self._tick
            return value

    def advance(self, seconds: float) -> None:
        with self._lock:
            self._now += seconds

    def set(self, value: float) -> None:
        with self._lock:
            self._now = value


def to_iso(timestamp: float | None) -> str | None:
    """Rails' JSON form of a time: UTC, milliseconds, ``Z`` suffix (``2026-06-17T10:12:10.512Z``)."""
    if timestamp is None:
        return None
    moment = datetime.fromtimestamp(timestamp, tz=UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def to_unix(timestamp: float | None) -> int:
    """Rails' ``time.to_i`` with Chatwoot's convention that a missing time is ``0``."""
    return int(timestamp) if timestamp is not None else 0
