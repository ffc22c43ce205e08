"""Webhooks as Chatwoot sends them: events, payload shapes, signing, delivery and delivery faults."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import uuid
from typing import Any

import httpx

from chatwoot_simulator import ManualClock, Simulator, WebhookDelivery

from .support import START, Receiver, World


def _events(deliveries: list[WebhookDelivery]) -> list[str]:
    return [delivery.event for delivery in deliveries]


def _expected_signature(secret: str, timestamp: str, body: bytes) -> str:
    return "sha256=" + hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def _fresh(seed: int = 5) -> tuple[Simulator, World, list[WebhookDelivery]]:
    """A separate simulator, for comparing two runs with the same seed."""
    sim = Simulator(seed=seed, clock=ManualClock(start=START, tick=0.001))
    account = sim.create_account("A")
    inbox = sim.create_inbox(account.id, "Site")
    agent = sim.create_agent(account.id, "Ana")
    team = sim.create_team(account.id, "T")
    contact = sim.create_contact(account.id, "C")
    deliveries: list[WebhookDelivery] = []
    sim.set_webhook(account.id, handler=deliveries.append)
    world = World(account, account.api_token or "", inbox, inbox, agent, agent, team, contact)
    return sim, world, deliveries


# ---------------------------------------------------------------- signing and framing


def test_every_delivery_is_signed_over_timestamp_dot_raw_body(
    sim: Simulator, world: World, received: list[WebhookDelivery]
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, message="Olá <b>doutora</b> & cia")

    assert received
    for delivery in received:
        timestamp = delivery.headers["X-Chatwoot-Timestamp"]
        assert delivery.headers["X-Chatwoot-Signature"] == _expected_signature("s3cret", timestamp, delivery.body)
        assert START <= int(timestamp) <= START + 10


def test_headers_are_chatwoots_and_delivery_ids_are_unique_uuid4(
    sim: Simulator, world: World, received: list[WebhookDelivery]
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, message="Olá")

    ids = [delivery.headers["X-Chatwoot-Delivery"] for delivery in received]
    assert len(set(ids)) == len(ids)
    assert all(uuid.UUID(value).version == 4 for value in ids)
    assert all(d.headers["Content-Type"] == d.headers["Accept"] == "application/json" for d in received)


def test_without_a_secret_there_is_no_timestamp_or_signature(sim: Simulator, world: World) -> None:
    deliveries: list[WebhookDelivery] = []
    sim.set_webhook(world.account.id, handler=deliveries.append)

    sim.create_contact(world.account.id, "Pedro")

    assert _events(deliveries) == ["contact_created"]
    assert "X-Chatwoot-Signature" not in deliveries[0].headers
    assert "X-Chatwoot-Timestamp" not in deliveries[0].headers
    assert "X-Chatwoot-Delivery" in deliveries[0].headers


def test_the_body_is_compact_utf8_json_with_rails_html_escapes(
    sim: Simulator, world: World, received: list[WebhookDelivery]
) -> None:
    sim.create_contact(world.account.id, "João <Silva> & Filhos")

    body = received[0].body
    assert "João".encode() in body
    assert b"\\u003cSilva\\u003e \\u0026 Filhos" in body
    assert b'":' in body
    assert b'": ' not in body
    assert received[0].payload()["name"] == "João <Silva> & Filhos"


# ---------------------------------------------------------------- which events


def test_a_status_change_sends_status_changed_and_updated(
    sim: Simulator, world: World, received: list[WebhookDelivery]
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    received.clear()

    sim.set_status(world.account.id, 1, "resolved")

    assert _events(received) == ["conversation_status_changed", "conversation_updated"]
    status_changed, updated = (delivery.payload() for delivery in received)
    assert "changed_attributes" in status_changed
    assert status_changed["changed_attributes"] is None
    assert status_changed["status"] == updated["status"] == "resolved"
    changes = updated["changed_attributes"]
    assert changes[0] == {"status": {"previous_value": "open", "current_value": "resolved"}}
    assert list(changes[-1]) == ["updated_at"]


def test_assignee_team_label_and_priority_changes_send_conversation_updated(
    sim: Simulator, world: World, received: list[WebhookDelivery]
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    received.clear()

    sim.assign(world.account.id, 1, world.ana.id)
    sim.assign_team(world.account.id, 1, world.team.id)
    sim.set_labels(world.account.id, 1, ["area:trabalhista"])
    sim.set_priority(world.account.id, 1, "urgent")

    assert _events(received) == ["conversation_updated"] * 4
    first_changes = [delivery.payload()["changed_attributes"][0] for delivery in received]
    assert first_changes == [
        {"assignee_id": {"previous_value": None, "current_value": world.ana.id}},
        {"team_id": {"previous_value": None, "current_value": world.team.id}},
        {"label_list": {"previous_value": [], "current_value": ["area:trabalhista"]}},
        {"priority": {"previous_value": None, "current_value": "urgent"}},
    ]


def test_setting_the_same_value_again_sends_nothing(
    sim: Simulator, world: World, received: list[WebhookDelivery]
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, priority="high")
    received.clear()

    sim.set_priority(world.account.id, 1, "high")
    sim.set_status(world.account.id, 1, "open")

    assert received == []


def test_message_created_for_chat_and_private_notes_never_for_activity(
    sim: Simulator, world: World, received: list[WebhookDelivery]
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    received.clear()

    sim.add_message(world.account.id, 1, "Olá", message_type="incoming")
    sim.add_message(world.account.id, 1, "nota", message_type="outgoing", private=True, sender_id=world.ana.id)
    sim.add_message(world.account.id, 1, "modelo", message_type="template")
    sim.add_message(world.account.id, 1, "sistema", message_type="activity")

    created = [d.payload() for d in received if d.event == "message_created"]
    assert [(m["content"], m["message_type"], m["private"]) for m in created] == [
        ("Olá", "incoming", False),
        ("nota", "outgoing", True),
        ("modelo", "template", False),
    ]


def test_message_payload_shape(sim: Simulator, world: World, received: list[WebhookDelivery]) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    received.clear()

    sim.add_message(world.account.id, 1, "Preciso de ajuda")

    message = next(d.payload() for d in received if d.event == "message_created")
    assert message["event"] == "message_created"
    assert message["account"] == {"id": world.account.id, "name": "Silva Advocacia"}
    assert message["inbox"] == {"id": world.site.id, "name": "Chat do Site"}
    assert isinstance(message["created_at"], str)
    assert "type" not in message["sender"]
    assert message["sender"]["id"] == world.contact.id
    conversation = message["conversation"]
    assert "event" not in conversation
    assert conversation["id"] == 1
    assert conversation["messages"][0]["message_type"] == 0
    assert conversation["messages"][0]["id"] == message["id"]


def test_conversation_payload_has_chatwoots_mixed_timestamp_types(
    sim: Simulator, world: World, received: list[WebhookDelivery]
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, message="Olá", assignee_id=world.ana.id)

    created = next(d.payload() for d in received if d.event == "conversation_created")
    for key in ("created_at", "timestamp", "last_activity_at", "waiting_since", "agent_last_seen_at"):
        assert type(created[key]) is int, key
    assert type(created["updated_at"]) is float
    assert created["first_reply_created_at"] is None
    assert created["snoozed_until"] is None
    assert created["meta"]["assignee"]["availability_status"] is None
    assert created["meta"]["assignee_type"] == "User"
    assert created["account"] == {"id": world.account.id, "name": "Silva Advocacia"}
    assert list(created)[:5] == ["additional_attributes", "can_reply", "channel", "contact_inbox", "id"]


def test_conversation_messages_hold_only_the_last_public_chat_message(
    sim: Simulator, world: World, received: list[WebhookDelivery]
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, message="primeira")
    sim.add_message(world.account.id, 1, "nota", message_type="outgoing", private=True)
    received.clear()

    sim.set_status(world.account.id, 1, "resolved")

    payload = received[-1].payload()
    assert [m["content"] for m in payload["messages"]] == ["primeira"]


def test_account_can_be_omitted_like_chatwoot_before_4_14_2(sim: Simulator, world: World) -> None:
    deliveries: list[WebhookDelivery] = []
    sim.set_webhook(world.account.id, handler=deliveries.append, include_account=False)

    sim.create_conversation(world.account.id, world.site.id, world.contact.id, message="Olá")

    created = next(d.payload() for d in deliveries if d.event == "conversation_created")
    message = next(d.payload() for d in deliveries if d.event == "message_created")
    assert "account" not in created
    assert "account" not in message["conversation"]
    assert message["account"]["id"] == world.account.id


def test_an_incoming_message_sends_a_noisy_contact_updated(
    sim: Simulator, world: World, received: list[WebhookDelivery]
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    received.clear()

    sim.add_message(world.account.id, 1, "oi")

    updated = next(d.payload() for d in received if d.event == "contact_updated")
    assert updated["id"] == world.contact.id
    assert [list(change) for change in updated["changed_attributes"]] == [["last_activity_at"], ["updated_at"]]


def test_only_subscribed_events_are_sent(sim: Simulator, world: World) -> None:
    deliveries: list[WebhookDelivery] = []
    sim.set_webhook(world.account.id, handler=deliveries.append, subscriptions=["message_created"])

    sim.create_conversation(world.account.id, world.site.id, world.contact.id, message="Olá")
    sim.set_status(world.account.id, 1, "resolved")

    assert _events(deliveries) == ["message_created"]


def test_deletes_and_agent_changes_send_nothing(sim: Simulator, world: World, received: list[WebhookDelivery]) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    received.clear()

    sim.delete_conversation(world.account.id, 1)
    sim.set_agent_availability(world.account.id, world.ana.id, "offline")

    assert received == []


# ---------------------------------------------------------------- delivery faults


def test_drop_rate_loses_events_reproducibly() -> None:
    def run() -> tuple[list[str], int]:
        sim, world, deliveries = _fresh()
        sim.webhooks.configure(drop_rate=0.5)
        for n in range(40):
            sim.create_contact(world.account.id, f"Contato {n}")
        return [d.payload()["name"] for d in deliveries], sim.webhooks.stats().dropped

    names, dropped = run()

    assert (names, dropped) == run()
    assert len(names) + dropped == 40
    assert 0 < dropped < 40


def test_duplicates_carry_a_new_delivery_id() -> None:
    sim, world, deliveries = _fresh()
    sim.webhooks.configure(duplicate_rate=1.0)

    sim.create_contact(world.account.id, "Pedro")
    sim.create_contact(world.account.id, "Paulo")

    assert [d.payload()["name"] for d in deliveries] == ["Pedro", "Pedro", "Paulo", "Paulo"]
    assert deliveries[0].body == deliveries[1].body
    assert deliveries[0].delivery_id != deliveries[1].delivery_id
    assert sim.webhooks.stats().duplicated == 2


def test_reorder_holds_a_window_and_sends_it_shuffled() -> None:
    def run() -> list[str]:
        sim, world, deliveries = _fresh()
        sim.webhooks.configure(reorder_window=5)
        for n in range(12):
            sim.create_contact(world.account.id, f"C{n:02d}")
        assert len(deliveries) == 10
        assert sim.webhooks.stats().pending == 2
        sim.webhooks.flush()
        return [d.payload()["name"] for d in deliveries]

    order = run()

    assert order == run()
    assert sorted(order) == [f"C{n:02d}" for n in range(12)]
    assert order != sorted(order)
    assert sorted(order[:5]) == [f"C{n:02d}" for n in range(5)]


def test_a_delayed_delivery_carries_the_state_at_send_time(
    sim: Simulator, world: World, received: list[WebhookDelivery], clock: ManualClock
) -> None:
    sim.webhooks.configure(delay=30.0)

    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    sim.set_priority(world.account.id, 1, "urgent")
    assert received == []

    clock.advance(31)
    sim.deliver_due()

    created = next(d.payload() for d in received if d.event == "conversation_created")
    updated = next(d.payload() for d in received if d.event == "conversation_updated")
    assert created["priority"] == "urgent"
    # changed_attributes was captured when the change happened.
    assert updated["changed_attributes"][0] == {"priority": {"previous_value": None, "current_value": "urgent"}}


def test_deliveries_about_a_deleted_conversation_are_discarded(
    sim: Simulator, world: World, received: list[WebhookDelivery]
) -> None:
    sim.webhooks.configure(delay=10.0)
    sim.create_conversation(world.account.id, world.site.id, world.contact.id, message="Olá")

    sim.delete_conversation(world.account.id, 1)
    sim.webhooks.flush()

    assert _events(received) == ["contact_updated"]
    assert sim.webhooks.stats().discarded == 2


def test_a_failed_delivery_is_counted_and_never_retried(sim: Simulator, world: World) -> None:
    calls: list[str] = []

    def failing(delivery: WebhookDelivery) -> int:
        calls.append(delivery.event)
        return 503

    sim.set_webhook(world.account.id, handler=failing)

    sim.create_contact(world.account.id, "Pedro")
    sim.webhooks.flush()

    assert calls == ["contact_created"]
    stats = sim.webhooks.stats()
    assert (stats.sent, stats.failed, stats.pending) == (0, 1, 0)
    assert [(r.outcome, r.status) for r in sim.webhooks.records()] == [("failed", 503)]


def test_a_handler_that_raises_counts_as_failed(sim: Simulator, world: World) -> None:
    def broken(delivery: WebhookDelivery) -> int:
        raise RuntimeError("receiver down")

    sim.set_webhook(world.account.id, handler=broken)

    sim.create_contact(world.account.id, "Pedro")

    assert sim.webhooks.stats().failed == 1


# ---------------------------------------------------------------- HTTP delivery


def _verify(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    payloads = []
    for headers, body in receiver.requests:
        lowered = {key.lower(): value for key, value in headers.items()}
        timestamp = lowered["x-chatwoot-timestamp"]
        assert lowered["x-chatwoot-signature"] == _expected_signature(secret, timestamp, body)
        payloads.append(json.loads(body))
    return payloads


def test_async_mode_posts_signed_deliveries_from_a_background_thread(receiver: Receiver) -> None:
    sim = Simulator(seed=3, clock=ManualClock(tick=0.001), delivery="async")
    try:
        account = sim.create_account("A")
        inbox = sim.create_inbox(account.id, "Site")
        contact = sim.create_contact(account.id, "C")
        sim.set_webhook(account.id, url=receiver.url, secret="segredo")

        sim.create_conversation(account.id, inbox.id, contact.id, message="Olá")
        sim.set_status(account.id, 1, "resolved")

        assert sim.webhooks.flush(timeout=10)
    finally:
        sim.close()

    payloads = _verify(receiver, "segredo")
    assert [p["event"] for p in payloads] == [
        "conversation_created",
        "message_created",
        "contact_updated",
        "conversation_status_changed",
        "conversation_updated",
    ]
    assert sim.webhooks.stats().sent == 5


def test_http_errors_are_counted_as_failures_without_retry(sim: Simulator, world: World, receiver: Receiver) -> None:
    receiver.status = 500
    sim.set_webhook(world.account.id, url=receiver.url, secret="segredo")

    sim.create_contact(world.account.id, "Pedro")
    sim.create_contact(world.account.id, "Paulo")

    assert len(receiver.requests) == 2
    assert sim.webhooks.stats().failed == 2


def test_an_unreachable_endpoint_is_a_failure(sim: Simulator, world: World) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sim.set_webhook(world.account.id, url=f"http://127.0.0.1:{port}/hooks")

    sim.create_contact(world.account.id, "Pedro")

    assert sim.webhooks.stats().failed == 1


def test_a_rest_change_sends_its_webhooks(
    sim: Simulator, world: World, received: list[WebhookDelivery], client: httpx.Client
) -> None:
    sim.create_conversation(world.account.id, world.site.id, world.contact.id)
    received.clear()

    response = client.post("/conversations/1/assignments", json={"assignee_id": world.ana.id})
    sim.webhooks.flush()

    assert response.status_code == 200
    assert _events(received) == ["conversation_updated"]
    assert received[0].payload()["meta"]["assignee"]["id"] == world.ana.id
