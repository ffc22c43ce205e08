"""The change feed: the audit trail of who changed what, and the same events on the EventBridge bus."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.db import Database
from chatwoot_integration.services.changes import ChangePublisher
from chatwoot_integration.uow import unit_of_work_factory
from tests.api_support import ApiClient, World, make_token


def read_all(client: ApiClient, world: World, *, expect: int, token: str | None = "default") -> list[dict[str, Any]]:
    """Follow the feed to its end, waiting until at least ``expect`` events arrived (the feed holds back events
    while older transactions anywhere on the server are still running)."""
    items: list[dict[str, Any]] = []
    cursor = None
    deadline = time.monotonic() + 15
    while True:
        query = {"limit": 2, **({"after": cursor} if cursor else {})}
        response = client.get(f"/integrations/{world.integration_id}/changes", query=query, token=token)
        assert response.status == 200
        page = response.json()
        items.extend(page["items"])
        cursor = page["next_cursor"]
        if not page["items"]:
            if len(items) >= expect or time.monotonic() > deadline:
                return items
            time.sleep(0.05)


def test_feed_names_the_actor_of_each_change_in_order(client: ApiClient, world: World) -> None:
    baseline = len(read_all(client, world, expect=0))
    cid = world.conversations[0]
    lawyer = make_token(sub="lawyer-7", role="agent")
    client.patch(
        f"/integrations/{world.integration_id}/conversations/{cid}", json_body={"priority": "high"}, token=lawyer
    )
    client.delete(f"/integrations/{world.integration_id}/conversations/{world.conversations[1]}")
    events = read_all(client, world, expect=baseline + 2)
    mine = [e for e in events if e["actor"] in ("lawyer-7", "admin-1")]
    assert [(e["type"], e["actor"], e["conversation_id"]) for e in mine] == [
        ("conversation.updated", "lawyer-7", cid),
        ("conversation.deleted", "admin-1", world.conversations[1]),
    ]
    assert mine[0]["data"]["changes"]["priority"] == {"from": None, "to": "high"}
    assert all(e["integration_id"] == world.integration_id for e in events)
    assert len({e["cursor"] for e in events}) == len(events)


def test_a_bad_cursor_is_400(client: ApiClient, world: World) -> None:
    response = client.get(f"/integrations/{world.integration_id}/changes", query={"after": "@@@"})
    assert response.status == 400
    assert response.json()["error"]["details"] == [{"field": "after"}]


@pytest.fixture
def events_bus() -> Iterator[Any]:
    with mock_aws():
        client = boto3.client("events", region_name="us-east-1")
        client.create_event_bus(Name="chatwoot-changes")
        sqs = boto3.client("sqs", region_name="us-east-1")
        queue_url = sqs.create_queue(QueueName="changes-tap")["QueueUrl"]
        queue_arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        client.put_rule(
            Name="all", EventBusName="chatwoot-changes", EventPattern=json.dumps({"source": ["chatwoot-integration"]})
        )
        client.put_targets(Rule="all", EventBusName="chatwoot-changes", Targets=[{"Id": "tap", "Arn": queue_arn}])
        yield client, sqs, queue_url


def test_committed_changes_are_published_to_the_bus_once(
    client: ApiClient, world: World, db: Database, events_bus: Any
) -> None:
    events_client, sqs, queue_url = events_bus
    publisher = ChangePublisher(unit_of_work_factory(db), "chatwoot-changes", client_factory=lambda: events_client)
    with db.transaction() as conn:
        conn.execute("UPDATE eventos_chatwoot SET published_at = now()")  # the world's setup events are old news
    bootstrap().configure(database=db, publisher=publisher)
    response = client.patch(
        f"/integrations/{world.integration_id}/conversations/{world.conversations[0]}", json_body={"priority": "urgent"}
    )
    assert response.status == 200
    messages = sqs.receive_message(QueueUrl=queue_url, MaxNumberOfMessages=10)["Messages"]
    delivered = [json.loads(m["Body"]) for m in messages]
    assert [d["detail-type"] for d in delivered] == ["conversation.updated"]
    assert delivered[0]["detail"]["actor"] == "admin-1"
    assert delivered[0]["detail"]["data"]["changes"]["priority"]["to"] == "urgent"
    assert publisher.publish_pending() == 0
    unpublished = (
        db.connection().execute("SELECT count(*) AS n FROM eventos_chatwoot WHERE published_at IS NULL").fetchone()
    )
    assert unpublished == {"n": 0}
