"""SQL for where an integration's credentials live: the row itself (local runs) or a reference to its secret."""

from __future__ import annotations

from typing import Any

from ..db import Connection
from ._sql import to_json


class CredentialRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def stored_in_row(self, integration_id: int) -> dict[str, Any] | None:
        """The secret JSON kept in the row with the row settings the webhook needs, or None when the row has none."""
        return self._conn.execute(
            "SELECT credentials, account_id, active, legacy_unsigned, webhook_secret_previous_until"
            " FROM integracoes_chatwoot WHERE id = %s AND credentials IS NOT NULL",
            (integration_id,),
        ).fetchone()

    def keep_in_row(self, integration_id: int, secret: dict[str, Any]) -> None:
        self._conn.execute(
            "UPDATE integracoes_chatwoot SET credentials = %s, credentials_ref = NULL WHERE id = %s",
            (to_json(secret), integration_id),
        )

    def refer_to_secret(self, integration_id: int, name: str) -> None:
        self._conn.execute(
            "UPDATE integracoes_chatwoot SET credentials_ref = %s, credentials = NULL WHERE id = %s",
            (name, integration_id),
        )
