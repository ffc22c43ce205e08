"""Retry policy for the Chatwoot client: bounded attempts, exponential backoff with full jitter, a time budget."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

RETRYABLE_STATUSES: frozenset[int] = frozenset({429, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    """How hard the client tries before giving up. Immutable, so one instance can be shared.

    A plain dataclass: it is code configuration, never parsed from outside, and it is built at import.
    """

    max_attempts: int = 5
    base_delay: float = 0.5
    max_delay: float = 8.0
    # Wall time from the first attempt of a call (including its backoffs and re-reads) after which
    # no new attempt or backoff is started.
    total_budget: float = 20.0
    # An attempt is only started if at least this much time is left; a shorter one could only time out.
    min_attempt_time: float = 0.5
    retry_statuses: frozenset[int] = RETRYABLE_STATUSES

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError("max_attempts must be at least 1")
        if min(self.base_delay, self.max_delay, self.total_budget) <= 0 or self.min_attempt_time < 0:
            raise ValueError("delays and budgets must be positive")


def backoff_delay(policy: RetryPolicy, attempt: int, fraction: float) -> float:
    """Full-jitter backoff after failed attempt number ``attempt`` (1-based).

    ``fraction`` is a uniform random number in [0, 1): the delay is that share of the capped exponential
    ceiling, which spreads concurrent clients apart instead of having them retry in lockstep.
    """
    ceiling = min(policy.max_delay, policy.base_delay * 2 ** (attempt - 1))
    return max(0.0, min(fraction, 1.0)) * ceiling


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` header: delta-seconds or an HTTP-date; None if absent or unusable.

    A date in the past means "now" (0 seconds). ``now`` must be timezone-aware.
    """
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        # RFC 9110 dates are always GMT; "-0000" parses as naive.
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())
