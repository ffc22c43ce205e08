"""Demo data, the traffic generator and the stand-alone entry point."""

from __future__ import annotations

import threading
from collections import Counter

import httpx

from chatwoot_simulator import (
    DemoData,
    ManualClock,
    Simulator,
    SimulatorServer,
    TrafficGenerator,
    WebhookDelivery,
    seed_demo,
)
from chatwoot_simulator.__main__ import build_parser, main

from .support import START


def _simulator() -> Simulator:
    return Simulator(seed=2, clock=ManualClock(start=START, tick=0.5))


def test_seed_demo_builds_a_law_office() -> None:
    sim = _simulator()

    demo = seed_demo(sim, conversations=30, seed=4)

    inboxes = sim.list_inboxes(demo.account_id)
    assert sorted(i.channel_type for i in inboxes) == ["Channel::Email", "Channel::WebWidget", "Channel::Whatsapp"]
    agents = [a for a in sim.list_agents(demo.account_id) if a.id in demo.agent_ids]
    assert len(agents) == 6
    assert len(sim.list_teams(demo.account_id)) == 3
    assert all(team.member_ids for team in sim.list_teams(demo.account_id))
    conversations = sim.list_conversations(demo.account_id)
    assert len(conversations) == 30
    assert {c.status for c in conversations} >= {"open", "resolved"}
    assert all(any(label.startswith("area:") for label in c.labels) for c in conversations)
    assert sim.authenticate(demo.api_token) is not None


def test_seed_demo_is_reproducible() -> None:
    first, second = _simulator(), _simulator()

    seed_demo(first, conversations=10, seed=9)
    seed_demo(second, conversations=10, seed=9)

    assert first.snapshot() == second.snapshot()


def test_the_generator_produces_varied_portuguese_activity() -> None:
    sim = _simulator()
    demo = seed_demo(sim, conversations=12, seed=1)
    deliveries: list[WebhookDelivery] = []
    sim.set_webhook(demo.account_id, handler=deliveries.append)
    traffic = TrafficGenerator(sim, account_id=demo.account_id, seed=3)

    actions = Counter(traffic.step() for _ in range(300))

    assert {"new_conversation", "incoming_message", "outgoing_message", "resolve", "priority"} <= set(actions)
    events = {d.event for d in deliveries}
    assert {"conversation_created", "message_created", "conversation_status_changed", "conversation_updated"} <= events
    contents = [d.payload()["content"] for d in deliveries if d.event == "message_created"]
    assert any("processo" in text or "documentos" in text or "INSS" in text for text in contents)


def test_the_same_seed_gives_the_same_traffic() -> None:
    def run() -> list[str]:
        sim = _simulator()
        demo = seed_demo(sim, conversations=5, seed=1)
        traffic = TrafficGenerator(sim, account_id=demo.account_id, seed=8)
        return [traffic.step() for _ in range(50)]

    assert run() == run()


def test_the_generator_runs_in_a_daemon_thread_until_stopped() -> None:
    sim = _simulator()
    demo = seed_demo(sim, conversations=2, seed=1)
    created = threading.Event()
    sim.set_webhook(demo.account_id, handler=lambda delivery: created.set() if delivery.event else None)
    traffic = TrafficGenerator(sim, account_id=demo.account_id, rate_per_minute=60_000, seed=1)

    traffic.start()
    try:
        assert created.wait(timeout=10)
    finally:
        traffic.stop()

    settled = sim.snapshot()
    assert sim.snapshot() == settled


def test_the_command_line_serves_demo_data_until_stopped(http: httpx.Client) -> None:
    stop = threading.Event()
    answers: list[httpx.Response] = []

    def ready(server: SimulatorServer, demo: DemoData) -> None:
        answers.append(
            http.get(
                f"{server.url}/api/v1/accounts/{demo.account_id}/conversations",
                headers={"api_access_token": "token-de-demonstracao"},
                params={"status": "all"},
            )
        )
        stop.set()

    argv = ["--port", "0", "--rate", "0", "--conversations", "5", "--token", "token-de-demonstracao"]
    assert main(argv, stop=stop, ready=ready) == 0

    assert answers[0].status_code == 200
    assert answers[0].json()["data"]["meta"]["all_count"] == 5
    assert build_parser().parse_args(["--port", "3100", "--seed", "1"]).port == 3100
