"""SQL for integrations: configuration rows, local credentials, and the sync bookkeeping."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from psycopg import sql

from ..db import Connection
from ..models.integration import Integration
from ._sql import set_columns, to_json

_COLUMNS = (
    "tenant",
    "name",
    "base_url",
    "account_id",
    "credentials_ref",
    "credentials",
    "webhook_secret_previous_until",
    "legacy_unsigned",
    "store_message_content",
    "assignment_policy",
    "active",
    "config_version",
)
_JSON_COLUMNS = {"credentials", "assignment_policy"}
_SYNC_OUTCOME_COLUMNS = {
    "sync_status",
    "sync_error",
    "sync_cursor",
    "sync_progress",
    "last_sync_at",
    "last_full_sync_at",
}


class IntegrationRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def insert(self, values: dict[str, Any]) -> Integration:
        _check_columns(values)
        names = list(values)
        row = self._conn.execute(
            sql.SQL("INSERT INTO integracoes_chatwoot ({}) VALUES ({}) RETURNING *").format(
                sql.SQL(", ").join(map(sql.Identifier, names)),
                sql.SQL(", ").join(sql.Placeholder(n) for n in names),
            ),
            _params(values),
        ).fetchone()
        assert row is not None
        return _integration(row)

    def update(self, integration_id: int, values: dict[str, Any]) -> Integration | None:
        assignments = set_columns(values, _COLUMNS)
        if not values:
            return self.get(integration_id)
        row = self._conn.execute(
            sql.SQL("UPDATE integracoes_chatwoot SET {} WHERE id = %(id)s RETURNING *").format(assignments),
            {**_params(values), "id": integration_id},
        ).fetchone()
        return _integration(row) if row else None

    def bump_config_version(self, integration_id: int) -> None:
        self._conn.execute(
            "UPDATE integracoes_chatwoot SET config_version = config_version + 1 WHERE id = %s", (integration_id,)
        )

    def get(self, integration_id: int) -> Integration | None:
        row = self._conn.execute("SELECT * FROM integracoes_chatwoot WHERE id = %s", (integration_id,)).fetchone()
        return _integration(row) if row else None

    def get_for_update(self, integration_id: int) -> Integration | None:
        row = self._conn.execute(
            "SELECT * FROM integracoes_chatwoot WHERE id = %s FOR UPDATE", (integration_id,)
        ).fetchone()
        return _integration(row) if row else None

    def find(self, tenant: str, base_url: str, account_id: int) -> Integration | None:
        """The tenant's integration of one Chatwoot account (``base_url`` normalised), if connected."""
        row = self._conn.execute(
            "SELECT * FROM integracoes_chatwoot WHERE tenant = %s AND base_url = %s AND account_id = %s",
            (tenant, base_url, account_id),
        ).fetchone()
        return _integration(row) if row else None

    def tenant_of(self, integration_id: int) -> str | None:
        row = self._conn.execute("SELECT tenant FROM integracoes_chatwoot WHERE id = %s", (integration_id,)).fetchone()
        return row["tenant"] if row else None

    def list_for_tenant(self, tenant: str) -> list[Integration]:
        rows = self._conn.execute("SELECT * FROM integracoes_chatwoot WHERE tenant = %s ORDER BY id", (tenant,))
        return [_integration(r) for r in rows]

    def list_all(self, *, active_only: bool = False) -> list[Integration]:
        query = "SELECT * FROM integracoes_chatwoot" + (" WHERE active" if active_only else "") + " ORDER BY id"
        return [_integration(r) for r in self._conn.execute(query)]

    def delete(self, integration_id: int) -> bool:
        return self._conn.execute("DELETE FROM integracoes_chatwoot WHERE id = %s", (integration_id,)).rowcount > 0

    # Sync bookkeeping -------------------------------------------------------------------------------

    def acquire_sync_lease(self, integration_id: int, owner: str, until: datetime, now: datetime) -> bool:
        """Take the integration's sync lease unless another live run holds it (a row update, never a session lock)."""
        cur = self._conn.execute(
            "UPDATE integracoes_chatwoot SET sync_lease_owner = %s, sync_lease_until = %s,"
            " sync_status = 'running'"
            " WHERE id = %s AND (sync_lease_until IS NULL OR sync_lease_until < %s OR sync_lease_owner = %s)",
            (owner, until, integration_id, now, owner),
        )
        return cur.rowcount > 0

    def release_sync_lease(self, integration_id: int, owner: str, outcome: dict[str, Any]) -> bool:
        """Record a run's outcome and release the lease, only if this run still holds it."""
        assignments: list[sql.Composable] = [sql.SQL("sync_lease_owner = NULL, sync_lease_until = NULL")]
        if outcome:
            assignments.append(set_columns(outcome, _SYNC_OUTCOME_COLUMNS))
        cur = self._conn.execute(
            sql.SQL("UPDATE integracoes_chatwoot SET {} WHERE id = %(id)s AND sync_lease_owner = %(owner)s").format(
                sql.SQL(", ").join(assignments)
            ),
            {**_params(outcome), "id": integration_id, "owner": owner},
        )
        return cur.rowcount > 0


def _check_columns(values: dict[str, Any]) -> None:
    unknown = set(values) - set(_COLUMNS)
    if unknown:
        raise ValueError(f"not an integration column: {sorted(unknown)}")


def _params(values: dict[str, Any]) -> dict[str, Any]:
    return {
        k: (to_json(v) if (k in _JSON_COLUMNS or k == "sync_progress") and v is not None else v)
        for k, v in values.items()
    }


def _integration(row: dict[str, Any]) -> Integration:
    return Integration.model_validate({k: row[k] for k in Integration.model_fields})
