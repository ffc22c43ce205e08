"""What every part of the simulator shares: the tables behind one lock, the clock, and the id and token sources.

The :class:`~chatwoot_simulator.simulator.Simulator` is assembled from one mixin per concern; each mixin
derives from :class:`SimulatorCore` so it can reach this shared state, which the simulator's constructor
sets. Ids, tokens and uuids are drawn here only, from one seeded generator, so the order in which the
mixins ask for them decides every value and a fixed seed replays the same installation.
"""

from __future__ import annotations

import copy
import dataclasses
import random
import string
import threading
import typing
import uuid
from collections import defaultdict
from typing import Any, TypeVar

from chatwoot_simulator.clock import Clock
from chatwoot_simulator.state import Account, Agent, Contact, Conversation, Inbox, InvalidValueError, Message, Team
from chatwoot_simulator.store import Store
from chatwoot_simulator.webhooks import WebhookDispatcher

_TOKEN_ALPHABET = string.ascii_letters + string.digits


class SimulatorCore:
    """The state the mixins work on, and the helpers that draw ids, tokens, uuids and times from it."""

    _lock: threading.RLock
    _clock: Clock
    _rng: random.Random
    _store: Store
    _ids: defaultdict[str, int]
    _display_ids: defaultdict[int, int]
    _activity_messages: bool
    webhooks: WebhookDispatcher

    def _now(self) -> float:
        return self._clock.now()

    def _next_id(self, table: str) -> int:
        self._ids[table] += 1
        return self._ids[table]

    def _token(self) -> str:
        return "".join(self._rng.choice(_TOKEN_ALPHABET) for _ in range(24))

    def _uuid(self) -> str:
        return str(uuid.UUID(int=self._rng.getrandbits(128), version=4))


Record = TypeVar("Record", Account, Agent, Inbox, Team, Contact, Conversation, Message)


def clone(record: Record) -> Record:
    """A copy callers may keep and mutate: lists of ids and labels copied, attribute dicts deep-copied.

    Much cheaper than ``copy.deepcopy`` on the whole record, which matters when listing thousands.
    """
    copied = copy.copy(record)
    lists, dicts = _CONTAINER_FIELDS[type(record)]
    for name in lists:
        setattr(copied, name, list(getattr(record, name)))
    for name in dicts:
        value = getattr(record, name)
        setattr(copied, name, copy.deepcopy(value) if value else {})
    return copied


def _container_fields(record_type: type) -> tuple[tuple[str, ...], tuple[str, ...]]:
    hints = typing.get_type_hints(record_type)
    fields = [item.name for item in dataclasses.fields(record_type)]
    lists = tuple(name for name in fields if typing.get_origin(hints[name]) is list)
    dicts = tuple(name for name in fields if typing.get_origin(hints[name]) is dict)
    return lists, dicts


_CONTAINER_FIELDS: dict[type, tuple[tuple[str, ...], tuple[str, ...]]] = {
    record_type: _container_fields(record_type)
    for record_type in (Account, Agent, Inbox, Team, Contact, Conversation, Message)
}


def check_choice(value: Any, allowed: tuple[str, ...], name: str) -> Any:
    """Reject a value outside ``allowed`` the way Chatwoot's enum validations do (REST: 422)."""
    if value not in allowed:
        raise InvalidValueError(f"invalid {name} {value!r}; expected one of {', '.join(allowed)}")
    return value
