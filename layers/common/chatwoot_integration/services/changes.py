"""The change feed and the publication of change events to EventBridge after commit."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from ..models.change import Change
from ..observability import logger
from ..uow import UnitOfWorkFactory

SOURCE = "chatwoot-integration"
_PUT_EVENTS_BATCH = 10  # EventBridge's limit per PutEvents call


def read_feed(
    unit_of_work: UnitOfWorkFactory, integration_id: int, *, after: str | None, limit: int
) -> tuple[list[Change], str | None]:
    """A page of the integration's change feed after the cursor ``after``, and the cursor to poll from next."""
    with unit_of_work(read_only=True) as uow:
        return uow.changes.feed(integration_id, after=after, limit=limit)


def read_tenant_feed(
    unit_of_work: UnitOfWorkFactory, tenant: str, *, after: str | None, limit: int
) -> tuple[list[Change], str | None]:
    """A page of the change feed of every integration of ``tenant``, in one commit order."""
    with unit_of_work(read_only=True) as uow:
        return uow.changes.tenant_feed(tenant, after=after, limit=limit)


class ChangePublisher:
    """Publishes committed outbox rows to the bus and marks them published.

    Rows are claimed with ``FOR UPDATE SKIP LOCKED`` so concurrent publishers never send one twice; a failed
    ``PutEvents`` entry stays unpublished and is retried by the next publisher run (every sync run drains the
    backlog). With no bus configured (local runs) the feed is the only consumer: nothing is published and the
    rows are left as they are, which costs no transaction after each write.
    """

    def __init__(
        self, unit_of_work: UnitOfWorkFactory, bus_name: str | None, client_factory: Callable[[], Any] | None = None
    ):
        self._unit_of_work = unit_of_work
        self._bus_name = bus_name
        self._client_factory = client_factory or _default_events_client
        self._client: Any = None

    def publish_pending(self, *, max_events: int = 500) -> int:
        if not self._bus_name:
            return 0
        published = 0
        while published < max_events:
            limit = min(100, max_events - published)
            with self._unit_of_work() as uow:
                batch = uow.changes.unpublished(limit=limit)
                if not batch:
                    break
                sent = self._send(batch)
                uow.changes.mark_published(sent)
            published += len(sent)
            if len(sent) < len(batch):
                break  # the bus refused some: leave them for the next run
            if len(batch) < limit:
                break  # that was all of it; asking again would only cost a transaction
        return published

    def _send(self, batch: list[Change]) -> list[int]:
        if self._client is None:
            self._client = self._client_factory()
        sent: list[int] = []
        for start in range(0, len(batch), _PUT_EVENTS_BATCH):
            chunk = batch[start : start + _PUT_EVENTS_BATCH]
            response = self._client.put_events(
                Entries=[
                    {
                        "Source": SOURCE,
                        "DetailType": change.type,
                        "Detail": json.dumps(change.model_dump(mode="json")),
                        "EventBusName": self._bus_name,
                    }
                    for change in chunk
                ]
            )
            for change, entry in zip(chunk, response.get("Entries", []), strict=False):
                if entry.get("EventId"):
                    sent.append(change.id)
                else:
                    logger.warning(
                        "change event not accepted by the bus",
                        extra={"event_id": change.id, "error_code": entry.get("ErrorCode")},
                    )
        return sent


def _default_events_client() -> Any:
    import boto3  # noqa: PLC0415

    return boto3.client("events")
