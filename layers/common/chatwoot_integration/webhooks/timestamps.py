"""Chatwoot's mixed timestamp formats, normalised to timezone-aware UTC datetimes.

One payload carries integer unix seconds (``0`` meaning "never"), float unix seconds with
microseconds (``updated_at``) and ISO-8601 strings, depending on the field and the event.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import BeforeValidator

_NUMERIC_STRING = re.compile(r"[0-9]+(\.[0-9]+)?")


def to_utc_datetime(value: Any) -> datetime:
    """Parse unix seconds (int, float or numeric string) or an ISO-8601 string into aware UTC.

    Naive ISO strings are taken as UTC, which is how Rails serialises times. Float seconds keep their
    microseconds: ``updated_at`` is the ordering guard and is compared at full precision.
    """
    if isinstance(value, datetime):
        return _as_utc(value)
    if isinstance(value, bool):
        raise ValueError("expected a timestamp, got a boolean")
    if isinstance(value, int | float):
        return _from_unix(value)
    if isinstance(value, str):
        text = value.strip()
        if _NUMERIC_STRING.fullmatch(text):
            return _from_unix(float(text))
        try:
            return _as_utc(datetime.fromisoformat(text))
        except ValueError:
            raise ValueError("expected an ISO-8601 timestamp") from None
    raise ValueError("expected unix seconds or an ISO-8601 timestamp")


def to_utc_datetime_or_none(value: Any) -> datetime | None:
    """Like ``to_utc_datetime``, but ``None``, ``""`` and Chatwoot's ``0`` ("never") become ``None``."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, str) and _NUMERIC_STRING.fullmatch(value.strip()):
        value = float(value)
    if isinstance(value, int | float) and not isinstance(value, bool) and value == 0:
        return None
    return to_utc_datetime(value)


def _from_unix(seconds: float) -> datetime:
    try:
        return datetime.fromtimestamp(seconds, tz=UTC)
    except (OverflowError, OSError, ValueError):
        raise ValueError("unix timestamp out of range") from None


def _as_utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)


UtcDatetime = Annotated[datetime, BeforeValidator(to_utc_datetime)]
"""A required instant in any of Chatwoot's formats, as aware UTC."""

OptionalUtcDatetime = Annotated[datetime | None, BeforeValidator(to_utc_datetime_or_none)]
"""An optional instant; Chatwoot's ``0`` and ``null`` both mean "not set"."""
