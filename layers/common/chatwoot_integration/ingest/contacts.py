"""The contact family: ``contact_created`` and ``contact_updated``, and the contact snapshots other events carry.

A conversation's or message's contact (``meta.sender``) is a snapshot that may be older than what is stored,
so it only inserts a contact not known yet. ``contact_created`` is the contact's first version (anything
stored is as new or newer), so it inserts too. Only ``contact_updated`` overwrites, in delivery order.
``contact_updated`` fires on every incoming message because Chatwoot bumps the contact's last activity: a
change of nothing else is noise, ignored.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..mapping import contact_record
from ..models.integration import Integration
from ..models.party import Contact
from ..uow import UnitOfWork
from ..webhooks.payloads import ContactCreated, ContactUpdated
from .delivery import PendingDelivery, Verdict

ContactEvent = ContactCreated | ContactUpdated
EVENTS: tuple[type[ContactEvent], ...] = (ContactCreated, ContactUpdated)

_NOISE = frozenset({"last_activity_at", "updated_at"})


def verdict(event: ContactEvent, integration: Integration) -> Verdict:
    if isinstance(event, ContactUpdated) and event.changes and set(event.changes) <= _NOISE:
        return Verdict(status="ignored", reason="activity_only")
    return Verdict(
        status="applied",
        contact=contact_record(integration.id, event),
        contact_overwrites=isinstance(event, ContactUpdated),
    )


def write(uow: UnitOfWork, items: Sequence[PendingDelivery]) -> None:
    """Insert the contacts not known yet (one statement), then apply the updates; credit each change."""
    snapshots: dict[tuple[int, int], PendingDelivery] = {}
    for item in items:
        contact = item.verdict.contact
        if contact is not None and not item.verdict.contact_overwrites:
            snapshots.setdefault((contact.integration_id, contact.contact_id), item)
    if snapshots:
        new_ids = set(uow.parties.insert_contacts([_contact(item) for item in snapshots.values()]))
        for (_, contact_id), item in snapshots.items():
            if contact_id in new_ids:
                item.credit("contact.created", {"contact_id": contact_id})
    for item in items:
        contact = item.verdict.contact
        if contact is not None and item.verdict.contact_overwrites and uow.parties.upsert_contact(contact):
            item.credit("contact.updated", {"contact_id": contact.contact_id})


def _contact(item: PendingDelivery) -> Contact:
    assert item.verdict.contact is not None
    return item.verdict.contact
