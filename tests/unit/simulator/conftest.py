"""Fixtures for the simulator's own tests: a seeded simulator on a manual clock, a small account in it,
an HTTP client for its REST API, and a local receiver for its webhooks."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from chatwoot_simulator import ManualClock, Simulator, SimulatorServer, WebhookDelivery, serve

from .support import START, Receiver, World


@pytest.fixture
def clock() -> ManualClock:
    # Every reading moves the clock by 1 ms, like real time passing between two writes.
    return ManualClock(start=START, tick=0.001)


@pytest.fixture
def sim(clock: ManualClock) -> Iterator[Simulator]:
    simulator = Simulator(seed=7, clock=clock)
    yield simulator
    simulator.close()


@pytest.fixture
def world(sim: Simulator) -> World:
    account = sim.create_account("Silva Advocacia")
    assert account.api_token is not None
    ana = sim.create_agent(account.id, "Ana Souza")
    bruno = sim.create_agent(account.id, "Bruno Lima", availability="busy")
    site = sim.create_inbox(account.id, "Chat do Site", "web_widget", members=[ana.id])
    whatsapp = sim.create_inbox(account.id, "WhatsApp", "whatsapp", members=[ana.id, bruno.id])
    team = sim.create_team(account.id, "Trabalhista", members=[ana.id])
    contact = sim.create_contact(
        account.id, "Maria da Silva", email="maria@email.example", phone_number="+5511987654321"
    )
    return World(account, account.api_token, site, whatsapp, ana, bruno, team, contact)


@pytest.fixture
def received(sim: Simulator, world: World) -> list[WebhookDelivery]:
    """Deliveries to the account's webhook (a Python handler, signed with secret ``s3cret``)."""
    deliveries: list[WebhookDelivery] = []
    sim.set_webhook(world.account.id, handler=deliveries.append, secret="s3cret")
    return deliveries


@pytest.fixture
def server(sim: Simulator) -> Iterator[SimulatorServer]:
    running = serve(simulator=sim)
    yield running
    running.shutdown()


@pytest.fixture(scope="session")
def http_transport() -> Iterator[httpx.HTTPTransport]:
    """One connection pool for the session: building a client's TLS context per test is the slow part."""
    transport = httpx.HTTPTransport()
    yield transport
    transport.close()


@pytest.fixture
def http(http_transport: httpx.HTTPTransport) -> httpx.Client:
    """A client with no base URL and no token."""
    return httpx.Client(transport=http_transport, timeout=10)


@pytest.fixture
def client_as(
    server: SimulatorServer, world: World, http_transport: httpx.HTTPTransport
) -> Callable[[str], httpx.Client]:
    """A client for the account's REST API, authenticated with the given token."""

    def build(token: str) -> httpx.Client:
        return httpx.Client(
            base_url=f"{server.url}/api/v1/accounts/{world.account.id}",
            headers={"api_access_token": token},
            transport=http_transport,
            timeout=10,
        )

    return build


@pytest.fixture
def client(client_as: Callable[[str], httpx.Client], world: World) -> httpx.Client:
    """A client authenticated as the account's administrator."""
    return client_as(world.token)


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    box: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            target = box[0]
            with target.lock:
                target.requests.append((dict(self.headers.items()), body))
            self.send_response(target.status)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return

    http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    box.append(Receiver(url=f"http://127.0.0.1:{http.server_address[1]}/hooks"))
    thread = threading.Thread(target=lambda: http.serve_forever(poll_interval=0.05), daemon=True)
    thread.start()
    yield box[0]
    http.shutdown()
    http.server_close()
    thread.join(timeout=5)
