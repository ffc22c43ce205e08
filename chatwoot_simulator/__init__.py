"""A local stand-in for Chatwoot: its REST API, its webhooks and their faults, driven from Python.

Typical use in a test::

    sim = Simulator(seed=1, clock=ManualClock())
    account = sim.create_account("Escritório")
    sim.set_webhook(account.id, handler=received.append, secret="s3cret")
    with serve(simulator=sim) as server:
        ...  # call server.url with header api_access_token=account.api_token
"""

from chatwoot_simulator.clock import Clock, ManualClock, WallClock
from chatwoot_simulator.counters import RequestCounters
from chatwoot_simulator.faults import FaultInjector
from chatwoot_simulator.server import SimulatorServer, serve
from chatwoot_simulator.simulator import Simulator
from chatwoot_simulator.state import (
    Account,
    Agent,
    Contact,
    Conversation,
    Inbox,
    InvalidValueError,
    Message,
    NotFoundError,
    SimulatorError,
    Team,
)
from chatwoot_simulator.traffic import DemoData, TrafficGenerator, seed_demo
from chatwoot_simulator.webhook_signing import sign
from chatwoot_simulator.webhook_types import DeliveryRecord, WebhookDelivery, WebhookFaults, WebhookStats
from chatwoot_simulator.webhooks import WebhookDispatcher

__all__ = [
    "Account",
    "Agent",
    "Clock",
    "Contact",
    "Conversation",
    "DeliveryRecord",
    "DemoData",
    "FaultInjector",
    "Inbox",
    "InvalidValueError",
    "ManualClock",
    "Message",
    "NotFoundError",
    "RequestCounters",
    "Simulator",
    "SimulatorError",
    "SimulatorServer",
    "Team",
    "TrafficGenerator",
    "WallClock",
    "WebhookDelivery",
    "WebhookDispatcher",
    "WebhookFaults",
    "WebhookStats",
    "seed_demo",
    "serve",
    "sign",
]
