"""The run's time budget: how long until the deadline, and whether another unit of work still fits."""

from __future__ import annotations

from collections.abc import Callable

Deadline = Callable[[], float | None]
"""Returns the monotonic-clock reading by which the run must have stopped, or None for no deadline."""


class DeadlineReached(Exception):
    """Raised between units of work when the next one would not fit before the deadline."""


class Budget:
    """``deadline`` is read on every check, so a caller can move it while the run goes on (the local runner
    expires its Lambda context on Ctrl-C and the run winds down at the next check)."""

    def __init__(self, deadline: Deadline, clock: Callable[[], float], reserve_seconds: float) -> None:
        self._deadline = deadline
        self._clock = clock
        self._reserve = reserve_seconds

    @property
    def deadline(self) -> Deadline:
        return self._deadline

    def remaining(self) -> float | None:
        """Seconds left before the deadline (negative once past it), or None without a deadline."""
        deadline = self._deadline()
        return None if deadline is None else deadline - self._clock()

    def exhausted(self) -> bool:
        remaining = self.remaining()
        return remaining is not None and remaining < self._reserve

    def check(self) -> None:
        """Stop here (``DeadlineReached``) unless another unit of work fits before the deadline."""
        if self.exhausted():
            raise DeadlineReached
