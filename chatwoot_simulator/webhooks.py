"""Webhook delivery the way Chatwoot does it (chatwoot.md 1c), with seeded delivery faults.

Chatwoot enqueues one job per (webhook, event), builds the payload when the job runs, POSTs it once with a
5 s timeout and never retries. This dispatcher does the same:

* :meth:`WebhookDispatcher.emit` records *what* changed (event name, subject id, ``changed_attributes``
  captured now) and applies the drop / duplicate / delay / reorder switches;
* the payload is rendered from the *current* state only when the delivery is sent, so a delayed
  delivery can carry newer state, and one whose subject was deleted is discarded;
* ``sync`` mode sends in the calling thread (to a Python handler or over HTTP) whenever the simulator
  finishes a change; ``async`` mode sends from one background thread, and :meth:`flush` waits for it.
"""

from __future__ import annotations

import heapq
import logging
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

import httpx

from chatwoot_simulator.clock import Clock
from chatwoot_simulator.webhook_signing import encode_body, sign
from chatwoot_simulator.webhook_types import (
    DeliveryMode,
    DeliveryRecord,
    EventRenderer,
    PendingEvent,
    WebhookDelivery,
    WebhookFaults,
    WebhookStats,
    WebhookTarget,
)

logger = logging.getLogger("chatwoot_simulator.webhooks")

WEBHOOK_TIMEOUT_SECONDS = 5.0


@dataclass(order=True)
class _Queued:
    due: float
    seq: int
    event: PendingEvent = field(compare=False)
    target: WebhookTarget = field(compare=False)
    delivery_id: str = field(compare=False)


class WebhookDispatcher:
    """Queues, perturbs and sends webhook deliveries. Thread-safe."""

    def __init__(
        self,
        *,
        render: EventRenderer,
        clock: Clock,
        seed: int = 0,
        mode: DeliveryMode = "sync",
        transport: httpx.BaseTransport | None = None,
        history: int = 10_000,
    ) -> None:
        self._render = render
        self._clock = clock
        self._mode: DeliveryMode = mode
        self._transport = transport
        self._rng = random.Random(seed)  # noqa: S311 - seeded on purpose, so runs are reproducible
        self._cond = threading.Condition()
        self._targets: dict[int, WebhookTarget] = {}
        self._faults = WebhookFaults()
        self._held: list[_Queued] = []
        self._ready: list[_Queued] = []
        self._seq = 0
        self._in_flight = 0
        self._stats = WebhookStats()
        self._records: deque[DeliveryRecord] = deque(maxlen=history)
        self._client: httpx.Client | None = None
        self._local = threading.local()
        self._stopping = False
        self._thread: threading.Thread | None = None
        if mode == "async":
            self._thread = threading.Thread(target=self._run, name="chatwoot-sim-webhooks", daemon=True)
            self._thread.start()

    @property
    def mode(self) -> DeliveryMode:
        return self._mode

    # ------------------------------------------------------------ configuration

    def set_target(self, account_id: int, target: WebhookTarget | None) -> None:
        with self._cond:
            if target is None:
                self._targets.pop(account_id, None)
            else:
                self._targets[account_id] = target

    def target(self, account_id: int) -> WebhookTarget | None:
        with self._cond:
            return self._targets.get(account_id)

    def configure(
        self,
        *,
        drop_rate: float | None = None,
        duplicate_rate: float | None = None,
        delay: float | tuple[float, float] | None = None,
        reorder_window: int | None = None,
    ) -> WebhookFaults:
        """Change some fault switches, keeping the others. Use :meth:`clear_faults` to reset all."""
        with self._cond:
            changes: dict[str, Any] = {}
            if drop_rate is not None:
                changes["drop_rate"] = drop_rate
            if duplicate_rate is not None:
                changes["duplicate_rate"] = duplicate_rate
            if delay is not None:
                changes["delay"] = delay
            if reorder_window is not None:
                changes["reorder_window"] = reorder_window
            self._faults = WebhookFaults.model_validate({**self._faults.model_dump(), **changes})
            return self._faults

    def clear_faults(self) -> None:
        with self._cond:
            self._faults = WebhookFaults()

    @property
    def faults(self) -> WebhookFaults:
        with self._cond:
            return self._faults

    def stats(self) -> WebhookStats:
        with self._cond:
            pending = len(self._held) + len(self._ready) + self._in_flight
            return self._stats.model_copy(update={"pending": pending})

    def records(self) -> list[DeliveryRecord]:
        with self._cond:
            return list(self._records)

    # ------------------------------------------------------------ enqueueing

    def emit(self, event: PendingEvent) -> None:
        """Queue a delivery of ``event`` to its account's webhook, if it subscribes to the event."""
        with self._cond:
            target = self._targets.get(event.account_id)
            if target is None or event.event not in target.subscriptions:
                return
            faults = self._faults
            if faults.drop_rate > 0 and self._rng.random() < faults.drop_rate:
                self._stats.dropped += 1
                return
            copies = 1
            if faults.duplicate_rate > 0 and self._rng.random() < faults.duplicate_rate:
                # A duplicate dispatch is a second job: it gets its own delivery id (chatwoot.md 1c).
                copies = 2
                self._stats.duplicated += 1
            for _ in range(copies):
                self._enqueue(event, target, faults)
            self._cond.notify_all()

    def _enqueue(self, event: PendingEvent, target: WebhookTarget, faults: WebhookFaults) -> None:
        queued = _Queued(
            due=self._schedule_now() + self._sample_delay(faults),
            seq=self._next_seq(),
            event=event,
            target=target,
            delivery_id=str(uuid.UUID(int=self._rng.getrandbits(128), version=4)),
        )
        if faults.reorder_window > 1:
            self._held.append(queued)
            if len(self._held) >= faults.reorder_window:
                self._release_held()
        else:
            heapq.heappush(self._ready, queued)

    def _release_held(self) -> None:
        batch, self._held = self._held, []
        self._rng.shuffle(batch)
        # The shuffled order is the send order: renumber so the heap keeps it among equal due times.
        due = max(item.due for item in batch)
        for item in batch:
            item.due = due
            item.seq = self._next_seq()
            heapq.heappush(self._ready, item)

    def _sample_delay(self, faults: WebhookFaults) -> float:
        if faults.delay is None:
            return 0.0
        if isinstance(faults.delay, tuple):
            low, high = faults.delay
            return self._rng.uniform(low, high)
        return faults.delay

    def _next_seq(self) -> int:
        self._seq += 1
        return self._seq

    def _schedule_now(self) -> float:
        # Sync mode follows the simulator's clock (a test advances it); the sender thread follows real time.
        return self._clock.now() if self._mode == "sync" else time.monotonic()

    # ------------------------------------------------------------ sending

    @contextmanager
    def deferred(self) -> Iterator[None]:
        """Within this block, :meth:`after_change` does not send (a REST change answers before its webhook)."""
        self._local.deferred = getattr(self._local, "deferred", 0) + 1
        try:
            yield
        finally:
            self._local.deferred -= 1

    def after_change(self) -> None:
        """Called by the simulator when a change is complete: in sync mode, send what is due now."""
        if self._mode == "sync" and not getattr(self._local, "deferred", 0):
            self.pump()

    def pump(self) -> int:
        """Sync mode: send every due delivery in this thread. Re-entrant calls return at once."""
        if self._mode != "sync" or getattr(self._local, "pumping", False):
            return 0
        self._local.pumping = True
        sent = 0
        try:
            while (item := self._take_due()) is not None:
                self._deliver(item)
                sent += 1
        finally:
            self._local.pumping = False
        return sent

    def flush(self, timeout: float = 10.0) -> bool:
        """Send everything queued now, ignoring delays and the reorder window (which is sent shuffled).

        Returns once nothing is pending, or ``False`` if the sender thread did not finish in ``timeout``.
        """
        with self._cond:
            if self._held:
                self._release_held()
            ordered = sorted(self._ready)
            self._ready = []
            for item in ordered:
                item.due = float("-inf")
                item.seq = self._next_seq()
                heapq.heappush(self._ready, item)
            self._cond.notify_all()
        if self._mode == "sync":
            self.pump()
            if getattr(self._local, "pumping", False):
                # Called from a handler: what is in flight includes this very delivery.
                return True
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._ready or self._in_flight:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(remaining)
        return True

    def _take_due(self) -> _Queued | None:
        with self._cond:
            if self._ready and self._ready[0].due <= self._schedule_now():
                self._in_flight += 1
                return heapq.heappop(self._ready)
            return None

    def _run(self) -> None:
        while True:
            with self._cond:
                item: _Queued | None = None
                while not self._stopping:
                    now = time.monotonic()
                    if self._ready and self._ready[0].due <= now:
                        item = heapq.heappop(self._ready)
                        self._in_flight += 1
                        break
                    wait = self._ready[0].due - now if self._ready else None
                    self._cond.wait(wait)
                if item is None:
                    return
            self._deliver(item)

    def _deliver(self, item: _Queued) -> None:
        try:
            record = self._send(item)
        except Exception:  # a broken handler must not kill the sender; Chatwoot only logs it too
            logger.exception("webhook delivery crashed", extra={"delivery_id": item.delivery_id})
            record = self._record(item, "failed", None)
        with self._cond:
            self._in_flight -= 1
            if record.outcome == "sent":
                self._stats.sent += 1
            elif record.outcome == "failed":
                self._stats.failed += 1
            else:
                self._stats.discarded += 1
            self._records.append(record)
            self._cond.notify_all()

    def _send(self, item: _Queued) -> DeliveryRecord:
        payload = self._render(item.event, item.target.include_account)
        if payload is None:
            # The job's record is gone (deleted conversation): ActiveJob discards it without a POST.
            return self._record(item, "discarded", None)
        body = encode_body(payload)
        headers = {
            "Content-Type": "application/json",
            "Accept": "application/json",
            "X-Chatwoot-Delivery": item.delivery_id,
        }
        if item.target.secret:
            timestamp = str(int(self._clock.now()))
            headers["X-Chatwoot-Timestamp"] = timestamp
            headers["X-Chatwoot-Signature"] = sign(item.target.secret, timestamp, body)
        delivery = WebhookDelivery(
            account_id=item.event.account_id,
            event=item.event.event,
            delivery_id=item.delivery_id,
            url=item.target.url,
            headers=headers,
            body=body,
        )
        status = self._post(item.target, delivery)
        if status is not None and 200 <= status < 300:
            return self._record(item, "sent", status)
        logger.warning(
            "webhook delivery failed, not retried",
            extra={"account_id": item.event.account_id, "event": item.event.event, "status": status},
        )
        return self._record(item, "failed", status)

    def _post(self, target: WebhookTarget, delivery: WebhookDelivery) -> int | None:
        if target.handler is not None:
            result = target.handler(delivery)
            return 200 if result is None else result
        if target.url is None:
            return None
        try:
            response = self._http().post(target.url, content=delivery.body, headers=delivery.headers)
        except httpx.HTTPError:
            return None
        return response.status_code

    def _http(self) -> httpx.Client:
        with self._cond:
            if self._client is None:
                self._client = httpx.Client(timeout=WEBHOOK_TIMEOUT_SECONDS, transport=self._transport)
            return self._client

    @staticmethod
    def _record(item: _Queued, outcome: Literal["sent", "failed", "discarded"], status: int | None) -> DeliveryRecord:
        return DeliveryRecord(
            account_id=item.event.account_id,
            event=item.event.event,
            delivery_id=item.delivery_id,
            outcome=outcome,
            status=status,
        )

    def close(self) -> None:
        """Stop the sender thread (queued deliveries are abandoned) and the HTTP client."""
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=WEBHOOK_TIMEOUT_SECONDS + 1)
        with self._cond:
            if self._client is not None:
                self._client.close()
                self._client = None
