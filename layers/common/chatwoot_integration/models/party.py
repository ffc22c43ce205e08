"""Links between the legal platform's parties (partes) and Chatwoot contacts."""

from __future__ import annotations

from datetime import datetime

from .common import Model


class Contact(Model):
    integration_id: int
    contact_id: int
    name: str | None = None
    email: str | None = None
    phone_number: str | None = None
    identifier: str | None = None


class PartyLink(Model):
    integration_id: int
    contact_id: int
    parte_id: str
    created_at: datetime
    updated_at: datetime
