"""Contacts: the people who write in. Creating one sends ``contact_created``; changing one ``contact_updated``."""

from __future__ import annotations

from typing import Any

from chatwoot_simulator.changes import ChangeTrackingMixin
from chatwoot_simulator.core import clone
from chatwoot_simulator.state import Contact

JSON = dict[str, Any]


class ContactsMixin(ChangeTrackingMixin):
    def create_contact(
        self,
        account_id: int,
        name: str,
        *,
        email: str | None = None,
        phone_number: str | None = None,
        identifier: str | None = None,
        custom_attributes: JSON | None = None,
        additional_attributes: JSON | None = None,
    ) -> Contact:
        """Create a contact (sends ``contact_created``)."""
        with self._lock:
            self._store.account(account_id)
            now = self._now()
            contact = Contact(
                id=self._next_id("contact"),
                account_id=account_id,
                name=name,
                email=email,
                phone_number=phone_number,
                identifier=identifier,
                created_at=now,
                updated_at=now,
                custom_attributes=dict(custom_attributes or {}),
                additional_attributes=dict(additional_attributes or {}),
            )
            self._store.contacts[contact.id] = contact
            self._emit(account_id, "contact_created", "contact", contact.id)
            result = clone(contact)
        self.webhooks.after_change()
        return result

    def update_contact(
        self,
        account_id: int,
        contact_id: int,
        *,
        name: str | None = None,
        email: str | None = None,
        phone_number: str | None = None,
        identifier: str | None = None,
        custom_attributes: JSON | None = None,
    ) -> Contact:
        """Change contact fields (sends ``contact_updated`` with ``changed_attributes`` if anything changed)."""
        changes = {
            key: value
            for key, value in {
                "name": name,
                "email": email,
                "phone_number": phone_number,
                "identifier": identifier,
                "custom_attributes": custom_attributes,
            }.items()
            if value is not None
        }
        with self._lock:
            contact = self._store.contact(account_id, contact_id)
            self._update_contact(contact, changes)
            result = clone(contact)
        self.webhooks.after_change()
        return result
