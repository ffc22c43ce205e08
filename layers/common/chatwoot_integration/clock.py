"""The wall clock the services read (passed in as a collaborator, so tests can hand in their own)."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
