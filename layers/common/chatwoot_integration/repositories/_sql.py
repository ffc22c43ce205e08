"""Small helpers shared by the repositories."""

from __future__ import annotations

import json
from collections.abc import Collection, Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any

import psycopg
from psycopg import sql

from ..errors import InvalidTransition

INVALID_TRANSITION_SQLSTATE = "CW001"


def to_json(value: Any) -> str:
    """JSON for a ``jsonb`` parameter, with datetimes as ISO 8601 (what PostgreSQL parses back exactly)."""
    return json.dumps(value, default=_default, separators=(",", ":"))


def _default(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, tuple | set | frozenset):
        return list(value)
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def set_columns(values: Mapping[str, Any], allowed: Collection[str]) -> sql.Composed:
    """``col = %(col)s, ...`` for each key of ``values``; a key outside ``allowed`` is a caller's mistake."""
    unknown = set(values) - set(allowed)
    if unknown:
        raise ValueError(f"not updatable here: {sorted(unknown)}")
    return sql.SQL(", ").join(sql.SQL("{} = {}").format(sql.Identifier(k), sql.Placeholder(k)) for k in values)


@contextmanager
def translate_transition_errors() -> Iterator[None]:
    """Turn the triggers' refusals (SQLSTATE CW001) into :class:`InvalidTransition` with their message."""
    try:
        yield
    except psycopg.Error as exc:
        if exc.sqlstate == INVALID_TRANSITION_SQLSTATE and exc.diag.message_primary:
            raise InvalidTransition(exc.diag.message_primary, details={"hint": exc.diag.message_hint}) from exc
        raise
