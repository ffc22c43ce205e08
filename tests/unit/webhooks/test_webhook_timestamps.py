"""Chatwoot's mixed timestamp formats, normalised to aware UTC datetimes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from chatwoot_integration.webhooks.timestamps import to_utc_datetime, to_utc_datetime_or_none


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1781691130, datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)),
        (1781691130.548213, datetime(2026, 6, 17, 10, 12, 10, 548213, tzinfo=UTC)),
        ("1781691130", datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)),
        ("2026-06-17T10:21:47.904Z", datetime(2026, 6, 17, 10, 21, 47, 904000, tzinfo=UTC)),
        ("2026-06-17T07:21:47.904-03:00", datetime(2026, 6, 17, 10, 21, 47, 904000, tzinfo=UTC)),
        ("2026-06-17T10:21:47", datetime(2026, 6, 17, 10, 21, 47, tzinfo=UTC)),
        (
            datetime(2026, 6, 17, 7, 0, tzinfo=timezone(timedelta(hours=-3))),
            datetime(2026, 6, 17, 10, 0, tzinfo=UTC),
        ),
    ],
)
def test_formats_become_aware_utc(value: Any, expected: datetime) -> None:
    result = to_utc_datetime(value)

    assert result == expected
    assert result.utcoffset() == timedelta(0)


@pytest.mark.parametrize("value", [True, "yesterday", "", {"at": 1}, [1], float("inf"), 10**20, float("nan")])
def test_unusable_values_raise_value_error(value: Any) -> None:
    with pytest.raises(ValueError, match="timestamp"):
        to_utc_datetime(value)


@pytest.mark.parametrize("value", [0, 0.0, "0", None, "", "  "])
def test_zero_and_empty_mean_not_set(value: Any) -> None:
    assert to_utc_datetime_or_none(value) is None


def test_optional_parses_real_values() -> None:
    assert to_utc_datetime_or_none(1781691712) == datetime(2026, 6, 17, 10, 21, 52, tzinfo=UTC)
    assert to_utc_datetime_or_none("2026-06-18T09:00:00.000Z") == datetime(2026, 6, 18, 9, 0, tzinfo=UTC)


def test_optional_rejects_booleans() -> None:
    with pytest.raises(ValueError, match="timestamp"):
        to_utc_datetime_or_none(False)
