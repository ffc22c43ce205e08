"""A small, faithful Chatwoot: state, the side effects Chatwoot's callbacks have, and the webhooks they send.

Everything is in memory behind one lock. Ids are sequential (conversation display ids per account, every
other id global, as in Chatwoot's tables); tokens, uuids and delivery ids come from a seeded generator, and
time from an injectable clock, so a test that fixes ``seed`` and ``clock`` sees the same values every run.

The rules reproduced here are the ones chatwoot.md documents (app/models/conversation.rb, message.rb):

* a conversation's ``updated_at`` moves on every change, messages included, and strictly increases;
* a status change sends ``conversation_status_changed`` (``changed_attributes: null``) and
  ``conversation_updated``; assignee, team, labels, priority, custom attributes, ``waiting_since`` and
  ``first_reply_created_at`` changes send ``conversation_updated``; ``last_activity_at`` alone sends nothing;
* ``waiting_since`` is set at creation and by an incoming message when empty, cleared by a public agent reply;
* an incoming message reopens a resolved or snoozed conversation and bumps the contact (``contact_updated``);
* ``message_created`` is sent for incoming, outgoing and template messages, private notes included, never
  for activity messages; deletes and agent changes send nothing.

Each concern is a mixin in its own module: :mod:`~chatwoot_simulator.accounts` (accounts, agents, inboxes,
teams), :mod:`~chatwoot_simulator.contacts`, :mod:`~chatwoot_simulator.conversations`,
:mod:`~chatwoot_simulator.messages`, :mod:`~chatwoot_simulator.changes` (saving and the events it raises),
:mod:`~chatwoot_simulator.webhook_events` (the account's webhook and rendering its payloads) and
:mod:`~chatwoot_simulator.queries` (reading back). This module puts them together around the shared state.
"""

from __future__ import annotations

import random
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import httpx

from chatwoot_simulator.accounts import AccountsMixin
from chatwoot_simulator.clock import Clock, WallClock
from chatwoot_simulator.contacts import ContactsMixin
from chatwoot_simulator.conversations import ConversationsMixin
from chatwoot_simulator.counters import RequestCounters
from chatwoot_simulator.faults import FaultInjector
from chatwoot_simulator.queries import QueriesMixin
from chatwoot_simulator.store import Store
from chatwoot_simulator.webhook_types import DeliveryMode
from chatwoot_simulator.webhooks import WebhookDispatcher


class Simulator(AccountsMixin, ContactsMixin, ConversationsMixin, QueriesMixin):
    """The simulated installation. Every public method is thread-safe.

    ``delivery="sync"`` sends webhooks in the thread that made the change, right after it (no threads,
    for tests and benchmarks); ``"async"`` sends them from a background thread (local runs).
    """

    def __init__(
        self,
        *,
        seed: int = 0,
        clock: Clock | None = None,
        page_size: int = 25,
        delivery: DeliveryMode = "sync",
        activity_messages: bool = True,
        webhook_transport: httpx.BaseTransport | None = None,
        rest_sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._lock = threading.RLock()
        self._clock = clock or WallClock()
        self._rng = random.Random(seed)  # noqa: S311 - seeded on purpose, so runs are reproducible
        self._store = Store()
        self._ids = defaultdict(int)
        self._display_ids = defaultdict(int)
        self._activity_messages = activity_messages
        self.page_size = page_size
        # Separate generators, so turning one fault switch on does not shift the values of the others.
        self.webhooks = WebhookDispatcher(
            render=self._render_event,
            clock=self._clock,
            seed=seed + 1,
            mode=delivery,
            transport=webhook_transport,
        )
        self.faults = FaultInjector(seed=seed + 2, sleep=rest_sleep)
        self.requests = RequestCounters()

    @property
    def clock(self) -> Clock:
        return self._clock

    def close(self) -> None:
        self.webhooks.close()

    def __enter__(self) -> Simulator:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    @contextmanager
    def locked(self) -> Iterator[Store]:
        """Read the tables directly (REST views do); never keep references past the block."""
        with self._lock:
            yield self._store


__all__ = ["Simulator"]
