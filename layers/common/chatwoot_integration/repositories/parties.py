"""SQL for contacts and their links to the platform's parties."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..db import Connection
from ..models.party import Contact, PartyLink
from ._sql import to_json

_UPSERT_CONTACTS = """
WITH incoming AS (
    SELECT DISTINCT ON (integration_id, contact_id) *
    FROM jsonb_to_recordset(%(rows)s::jsonb)
        AS t(integration_id bigint, contact_id integer, name text, email text, phone_number text, identifier text)
    ORDER BY integration_id, contact_id
)
INSERT INTO contatos_chatwoot AS c (integration_id, contact_id, name, email, phone_number, identifier)
SELECT integration_id, contact_id, name, email, phone_number, identifier FROM incoming
ORDER BY integration_id, contact_id
ON CONFLICT (integration_id, contact_id) DO UPDATE SET
    name = EXCLUDED.name, email = EXCLUDED.email, phone_number = EXCLUDED.phone_number,
    identifier = EXCLUDED.identifier
WHERE (c.name, c.email, c.phone_number, c.identifier)
      IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.email, EXCLUDED.phone_number, EXCLUDED.identifier)
"""


class PartyRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def upsert_contact(self, contact: Contact) -> bool:
        """Keep the contact's identifying fields; returns True when something changed."""
        return self.upsert_contacts([contact]) > 0

    def upsert_contacts(self, contacts: Sequence[Contact]) -> int:
        """Keep the contacts' identifying fields, in one statement; returns how many were new or changed."""
        if not contacts:
            return 0
        return self._conn.execute(_UPSERT_CONTACTS, {"rows": to_json([c.model_dump() for c in contacts])}).rowcount

    def insert_contacts(self, contacts: Sequence[Contact]) -> list[int]:
        """Store the contacts not known yet; returns the ids of those that were new.

        For contact data that comes as a snapshot inside another event (a conversation's ``meta.sender``): such
        a snapshot may be older than what is stored, so it never overwrites.
        """
        if not contacts:
            return []
        rows = self._conn.execute(
            "INSERT INTO contatos_chatwoot (integration_id, contact_id, name, email, phone_number, identifier)"
            " SELECT integration_id, contact_id, name, email, phone_number, identifier"
            " FROM jsonb_to_recordset(%s::jsonb) AS t(integration_id bigint, contact_id integer, name text, email text,"
            " phone_number text, identifier text)"
            " ORDER BY integration_id, contact_id"
            " ON CONFLICT (integration_id, contact_id) DO NOTHING RETURNING contact_id",
            (to_json([c.model_dump() for c in contacts]),),
        ).fetchall()
        return [r["contact_id"] for r in rows]

    def get_contact(self, integration_id: int, contact_id: int) -> Contact | None:
        row = self._conn.execute(
            "SELECT integration_id, contact_id, name, email, phone_number, identifier FROM contatos_chatwoot"
            " WHERE integration_id = %s AND contact_id = %s",
            (integration_id, contact_id),
        ).fetchone()
        return Contact.model_validate(row) if row else None

    def link(self, integration_id: int, contact_id: int, parte_id: str) -> PartyLink:
        row = self._conn.execute(
            "INSERT INTO partes_chatwoot (integration_id, contact_id, parte_id) VALUES (%s, %s, %s)"
            " ON CONFLICT (integration_id, contact_id) DO UPDATE SET parte_id = EXCLUDED.parte_id RETURNING *",
            (integration_id, contact_id, parte_id),
        ).fetchone()
        assert row is not None
        return _link(row)

    def unlink(self, integration_id: int, contact_id: int) -> bool:
        cur = self._conn.execute(
            "DELETE FROM partes_chatwoot WHERE integration_id = %s AND contact_id = %s", (integration_id, contact_id)
        )
        return cur.rowcount > 0

    def get_link(self, integration_id: int, contact_id: int) -> PartyLink | None:
        row = self._conn.execute(
            "SELECT * FROM partes_chatwoot WHERE integration_id = %s AND contact_id = %s", (integration_id, contact_id)
        ).fetchone()
        return _link(row) if row else None

    def contacts_of_party(self, integration_id: int, parte_id: str) -> list[int]:
        rows = self._conn.execute(
            "SELECT contact_id FROM partes_chatwoot WHERE integration_id = %s AND parte_id = %s ORDER BY contact_id",
            (integration_id, parte_id),
        )
        return [r["contact_id"] for r in rows]


def _link(row: dict[str, Any]) -> PartyLink:
    return PartyLink.model_validate({k: row[k] for k in PartyLink.model_fields})
