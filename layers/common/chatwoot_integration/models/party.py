"""Links between the legal platform's parties (partes) and Chatwoot contacts."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol

from .common import Model


class ChatwootContact(Protocol):
    """What every contact shape Chatwoot sends has: a webhook's contact or sender, a REST ``meta.sender``."""

    @property
    def id(self) -> int: ...
    @property
    def name(self) -> str | None: ...
    @property
    def email(self) -> str | None: ...
    @property
    def phone_number(self) -> str | None: ...
    @property
    def identifier(self) -> str | None: ...


class Contact(Model):
    account_id: int
    contact_id: int
    name: str | None = None
    email: str | None = None
    phone_number: str | None = None
    identifier: str | None = None

    @classmethod
    def from_chatwoot(cls, account_id: int, contact: ChatwootContact) -> Contact:
        """The fields kept for linking a contact to the platform's parties, from whichever shape carries them."""
        return cls(
            account_id=account_id,
            contact_id=contact.id,
            name=contact.name,
            email=contact.email,
            phone_number=contact.phone_number,
            identifier=contact.identifier,
        )


class PartyLink(Model):
    account_id: int
    contact_id: int
    parte_id: str
    created_at: datetime
    updated_at: datetime
