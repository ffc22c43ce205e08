"""The simulator's side of outgoing webhooks: an account's webhook, the events changes raise, their payloads.

Changes only *record* an event (name, subject, ``changed_attributes`` as of the change); the
:class:`~chatwoot_simulator.webhooks.WebhookDispatcher` decides when it is sent and calls back into
:meth:`WebhookEventsMixin._render_event` at that moment, so the payload shows the state of the send time,
as Chatwoot's jobs do.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

from chatwoot_simulator.core import SimulatorCore
from chatwoot_simulator.state import InvalidValueError
from chatwoot_simulator.webhook_data import event_payload
from chatwoot_simulator.webhook_types import DEFAULT_SUBSCRIPTIONS, PendingEvent, Subject, WebhookHandler, WebhookTarget

JSON = dict[str, Any]

# The events whose payload carries ``changed_attributes`` (possibly null); the others never have the key.
_EVENTS_WITH_CHANGES = ("conversation_updated", "conversation_status_changed", "contact_updated")


class WebhookEventsMixin(SimulatorCore):
    def set_webhook(
        self,
        account_id: int,
        *,
        url: str | None = None,
        secret: str | None = None,
        handler: WebhookHandler | None = None,
        include_account: bool = True,
        subscriptions: Iterable[str] | None = None,
    ) -> None:
        """Configure the account's webhook: an HTTP ``url`` or a Python ``handler`` (not both).

        ``include_account=False`` reproduces Chatwoot before 4.14.2 (no ``account`` in conversation data).
        """
        if (url is None) == (handler is None):
            raise InvalidValueError("give exactly one of url and handler")
        with self._lock:
            self._store.account(account_id)
        self.webhooks.set_target(
            account_id,
            WebhookTarget(
                url=url,
                secret=secret,
                handler=handler,
                include_account=include_account,
                subscriptions=frozenset(subscriptions) if subscriptions is not None else DEFAULT_SUBSCRIPTIONS,
            ),
        )

    def remove_webhook(self, account_id: int) -> None:
        self.webhooks.set_target(account_id, None)

    def deliver_due(self) -> int:
        """Sync mode: send the deliveries whose delay has passed on the simulator's clock."""
        return self.webhooks.pump()

    def _emit(
        self,
        account_id: int,
        event: str,
        subject: Subject,
        subject_id: int,
        *,
        changed: list[JSON] | None = None,
    ) -> None:
        self.webhooks.emit(
            PendingEvent(
                account_id=account_id,
                event=event,
                subject=subject,
                subject_id=subject_id,
                changed_attributes=copy.deepcopy(changed),
                with_changed_attributes=event in _EVENTS_WITH_CHANGES,
            )
        )

    def _render_event(self, event: PendingEvent, include_account: bool) -> JSON | None:
        with self._lock:
            return event_payload(self._store, event, include_account=include_account)
