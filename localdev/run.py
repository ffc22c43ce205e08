"""``make run``: the whole system on this machine, with the very handlers that run in AWS.

Starts (or joins) the embedded PostgreSQL unless DATABASE_URL is set, applies migrations, serves every
HttpApi route of template.yaml on http://127.0.0.1:$PORT through the local API Gateway, runs the scheduled
sync every SYNC_INTERVAL_SECONDS, and connects a Chatwoot account when CHATWOOT_* is set. Without
CHATWOOT_BASE_URL (and unless CHATWOOT_SIMULATOR=0) it starts the Chatwoot simulator instead: a law office with
a gentle flow of traffic, its signed webhooks pointed at the local webhook route, connected as an integration
and synced once at start. SIGINT or SIGTERM stops all of it, the embedded PostgreSQL included.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from types import FrameType
from typing import TYPE_CHECKING, Any, TextIO

from pydantic import Field

from chatwoot_integration.bootstrap import Components, bootstrap
from chatwoot_integration.db import Database
from chatwoot_simulator import Simulator, SimulatorServer, TrafficGenerator, seed_demo, serve

from .authorizer import JwtVerifier
from .invoke import FunctionInvoker
from .migrate import LocalDatabase, migrate, open_local_database, report
from .server import LocalApiServer, LocalGateway
from .settings import LocalSettings
from .template_routes import LocalTemplate, read_template

if TYPE_CHECKING:
    from chatwoot_integration.models.integration import IntegrationView
    from chatwoot_integration.services.integrations import IntegrationService

log = logging.getLogger("localdev")

HOST = "127.0.0.1"
SYNC_FUNCTION = "SyncFunction"
SYNC_EVENT: dict[str, Any] = {"mode": "incremental"}
SIMULATOR_INTEGRATION_NAME = "Chatwoot simulator (make run)"
SIMULATOR_SEED = 1
# Chatwoot over http and on loopback addresses: where the simulator (or a Chatwoot on this machine) listens.
LOCAL_EGRESS = {"CHATWOOT_ALLOW_HTTP": "true", "CHATWOOT_ALLOWED_NETWORKS": "127.0.0.0/8,::1"}


class RunSettings(LocalSettings):
    """``make run``'s environment: the local tools' settings, and the Chatwoot simulator it starts when no Chatwoot
    is configured (``CHATWOOT_SIMULATOR=0`` turns it off; ``CHATWOOT_SIMULATOR_RATE`` is actions per minute)."""

    chatwoot_simulator: bool = True
    chatwoot_simulator_rate: float = Field(default=12.0, gt=0)
    chatwoot_simulator_conversations: int = Field(default=36, ge=0, le=10_000)

    @property
    def simulate_chatwoot(self) -> bool:
        return self.chatwoot_simulator and not self.chatwoot_base_url


class SyncScheduler:
    """Invokes the sync function now and then every ``interval_seconds``, as EventBridge Scheduler would."""

    def __init__(
        self,
        invoker: FunctionInvoker,
        interval_seconds: float,
        *,
        function_id: str = SYNC_FUNCTION,
        event: dict[str, Any] | None = None,
    ) -> None:
        self._invoker = invoker
        self._interval = interval_seconds
        self._function_id = function_id
        self._event = event or SYNC_EVENT
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._current_context: Any = None

    @property
    def is_running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="sync-scheduler", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        context = self._current_context
        if context is not None:
            context.expire()  # a sync that watches its remaining time winds down now
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.warning("the scheduled sync is still running; leaving it behind")

    def run_once(self) -> None:
        context = self._invoker.new_context(self._function_id)
        self._current_context = context
        try:
            result = self._invoker.invoke(self._function_id, dict(self._event), context)
        except Exception:
            log.exception("scheduled sync failed")
        else:
            log.info("scheduled sync finished: %.200s", result)
        finally:
            self._current_context = None

    def _loop(self) -> None:
        while not self._stop.is_set():
            self.run_once()
            self._stop.wait(self._interval)


def connect_chatwoot(service: IntegrationService, settings: LocalSettings, out: TextIO) -> None:
    """Create or update the integration for the Chatwoot account in CHATWOOT_*, and print its webhook URL."""
    chatwoot = settings.chatwoot
    if chatwoot is None:
        print(
            "Chatwoot: not connected (set CHATWOOT_BASE_URL, CHATWOOT_ACCOUNT_ID, CHATWOOT_API_TOKEN and "
            "CHATWOOT_WEBHOOK_SECRET to connect an account at start)",
            file=out,
        )
        return
    from chatwoot_integration.services.integrations import ensure_local_integration  # noqa: PLC0415

    try:
        integration = ensure_local_integration(
            service,
            tenant=settings.local_tenant,
            base_url=chatwoot.base_url,
            account_id=chatwoot.account_id,
            api_token=chatwoot.api_token,
            webhook_secret=chatwoot.webhook_secret,
        )
    except Exception:
        log.exception("connecting Chatwoot account %s failed", chatwoot.account_id)
        print(f"Chatwoot: connecting account {chatwoot.account_id} failed (see the log above)", file=out)
        return
    print(
        f"Chatwoot: account {chatwoot.account_id} at {chatwoot.base_url} is integration {integration.id}"
        f" of tenant {settings.local_tenant}\n"
        f"  webhook URL (set it on the account's webhook in Chatwoot): {integration.webhook_url}",
        file=out,
    )


@dataclass
class LocalChatwoot:
    """The simulated Chatwoot of a local run: its server, its traffic, and the integration connected to it."""

    simulator: Simulator
    server: SimulatorServer
    traffic: TrafficGenerator
    account_id: int
    integration_id: int
    webhook_url: str

    def stop(self) -> None:
        self.traffic.stop()
        self.server.shutdown()
        self.simulator.close()  # its background webhook sender


def start_simulator(
    service: IntegrationService, *, tenant: str, rate_per_minute: float, conversations: int
) -> LocalChatwoot:
    """Start the simulator with a seeded law office, connect it as an integration of ``tenant`` whose webhooks it
    signs and posts to the local webhook route, and start its traffic."""
    simulator = Simulator(delivery="async", seed=SIMULATOR_SEED)
    server = serve(simulator=simulator)
    try:
        demo = seed_demo(simulator, conversations=conversations, seed=SIMULATOR_SEED)
        webhook_secret = secrets.token_urlsafe(24)
        integration = _connect_simulator(service, tenant, server.url, demo.account_id, demo.api_token, webhook_secret)
        simulator.set_webhook(demo.account_id, url=integration.webhook_url, secret=webhook_secret)
        traffic = TrafficGenerator(
            simulator, account_id=demo.account_id, rate_per_minute=rate_per_minute, seed=SIMULATOR_SEED
        )
        traffic.start()
    except BaseException:
        server.shutdown()
        simulator.close()
        raise
    return LocalChatwoot(
        simulator=simulator,
        server=server,
        traffic=traffic,
        account_id=demo.account_id,
        integration_id=integration.id,
        webhook_url=integration.webhook_url,
    )


def _connect_simulator(
    service: IntegrationService, tenant: str, base_url: str, account_id: int, api_token: str, webhook_secret: str
) -> IntegrationView:
    from chatwoot_integration.models.integration import IntegrationChanges  # noqa: PLC0415
    from chatwoot_integration.services.integrations import ensure_local_integration  # noqa: PLC0415

    for existing in service.list_for_tenant(tenant):
        if existing.name == SIMULATOR_INTEGRATION_NAME:
            # The previous run's simulator is gone with its data; a mirror of it (messages with ids the new one
            # reuses, catch-up marks) would only disagree with the new one.
            if existing.active:
                service.update(tenant, existing.id, IntegrationChanges(active=False), actor="local-runner")
            service.delete(tenant, existing.id, actor="local-runner")
    return ensure_local_integration(
        service,
        tenant=tenant,
        base_url=base_url,
        account_id=account_id,
        api_token=api_token,
        webhook_secret=webhook_secret,
        name=SIMULATOR_INTEGRATION_NAME,
    )


class LocalRunner:
    """Everything ``make run`` starts, and stops again in reverse order."""

    def __init__(self, settings: LocalSettings, out: TextIO = sys.stdout, *, simulate: bool = False) -> None:
        self.settings = settings
        self._out = out
        self._simulate = simulate
        self._local_db: LocalDatabase | None = None
        self._database: Database | None = None
        self._invoker: FunctionInvoker | None = None
        self._server: LocalApiServer | None = None
        self._scheduler: SyncScheduler | None = None
        self._chatwoot: LocalChatwoot | None = None
        self._components: Components = bootstrap()

    @property
    def chatwoot(self) -> LocalChatwoot | None:
        """The simulated Chatwoot, when this run started one."""
        return self._chatwoot

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return self._server.url

    def start(self) -> None:
        template = read_template(self.settings.local_template)
        self._local_db = open_local_database(self.settings)
        report(migrate(self._local_db.url), self._out)

        self._invoker = FunctionInvoker(template.functions)
        gateway = LocalGateway(template, self._invoker, JwtVerifier(self.settings.jwt_secret))
        self._server = LocalApiServer(gateway, host=HOST, port=self.settings.port)
        public_base_url = self.settings.public_base_url or self._server.url
        # Handlers read their settings on first use: the environment is complete before any of them loads.
        _export_handler_environment(self._local_db.url, public_base_url)
        url = self._local_db.url
        self._database = Database(lambda: url)
        # The handlers' graph (they run in this process) reads its settings from the environment set above and
        # shares this database.
        self._components = bootstrap()
        self._components.configure(database=self._database)

        self._preload(template)
        self._server.start()
        if self._simulate:
            self._start_simulator(template)
        else:
            connect_chatwoot(self._components.integrations, self.settings, self._out)
        self._start_sync(template)
        self._print_banner()

    def stop(self) -> None:
        """Idempotent; safe after a partial start."""
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        if self._chatwoot is not None:
            # Before the API server: its webhooks must not be sent to a server that is gone.
            self._chatwoot.stop()
            self._chatwoot = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._invoker is not None:
            self._invoker.close()
            self._invoker = None
        if self._database is not None:
            self._components.configure()
            self._database.close()
            self._database = None
        if self._local_db is not None:
            self._local_db.close()
            self._local_db = None

    def _preload(self, template: LocalTemplate) -> None:
        assert self._invoker is not None
        for function_id in template.functions:
            try:
                self._invoker.preload(function_id)
            except Exception:
                log.exception("%s failed to initialise; its routes will answer 500", function_id)

    def _start_simulator(self, template: LocalTemplate) -> None:
        assert self._invoker is not None
        settings = self.settings
        rate = settings.chatwoot_simulator_rate if isinstance(settings, RunSettings) else 12.0
        conversations = settings.chatwoot_simulator_conversations if isinstance(settings, RunSettings) else 36
        self._chatwoot = start_simulator(
            self._components.integrations,
            tenant=settings.local_tenant,
            rate_per_minute=rate,
            conversations=conversations,
        )
        if SYNC_FUNCTION not in template.functions:
            return
        # A full pass now: the mirror holds the simulated office by the time the banner is printed.
        event = {"mode": "full", "integration_id": self._chatwoot.integration_id}
        try:
            result = self._invoker.invoke(SYNC_FUNCTION, event)
        except Exception:
            log.exception("the first sync with the simulator failed; the scheduled sync will retry")
            return
        for item in result.get("integrations", []):
            log.info(
                "first sync: %s, %s conversations, %s messages",
                item.get("status"),
                item.get("conversations_seen"),
                item.get("messages_inserted"),
            )

    def _start_sync(self, template: LocalTemplate) -> None:
        assert self._invoker is not None
        interval = self.settings.sync_interval_seconds
        if interval <= 0:
            return
        if SYNC_FUNCTION not in template.functions:
            log.warning("the template has no %s; the scheduled sync is off", SYNC_FUNCTION)
            return
        self._scheduler = SyncScheduler(self._invoker, interval)
        self._scheduler.start()

    def _print_banner(self) -> None:
        assert self._local_db is not None
        settings = self.settings
        secret_line = (
            f"{settings.jwt_secret} (the development default; set LOCAL_JWT_SECRET to change it)"
            if settings.uses_default_jwt_secret
            else "from LOCAL_JWT_SECRET"
        )
        sync_line = (
            f"every {settings.sync_interval_seconds:g} s (SYNC_INTERVAL_SECONDS, 0 = off)"
            if self._scheduler is not None
            else "off"
        )
        chatwoot_lines = ""
        if self._chatwoot is not None:
            chatwoot = self._chatwoot
            chatwoot_lines = (
                f"  Chatwoot    simulator at {chatwoot.server.url}, account {chatwoot.account_id}, integration "
                f"{chatwoot.integration_id} (CHATWOOT_SIMULATOR=0 to turn it off)\n"
                f'  Try         curl -H "Authorization: Bearer $(make -s token)" '
                f"{self.url}/integrations/{chatwoot.integration_id}/conversations\n"
                f"  Webhook     {chatwoot.webhook_url}\n"
            )
        print(
            "\nChatwoot integration running locally\n"
            f"  API         {self.url}\n"
            f"  Docs        {self.url}/docs\n"
            "  Token       make token   (ROLE=admin|agent TENANT=... SUB=...); send 'Authorization: Bearer <token>'\n"
            f"  Tenant      {settings.local_tenant} (LOCAL_TENANT): the integrations this run connects belong to it\n"
            f"  JWT secret  {secret_line}\n"
            f"  Data        {self._local_db.describe()}\n"
            f"  Egress      Chatwoot over http: {os.environ.get('CHATWOOT_ALLOW_HTTP')}, allowed networks: "
            f"{os.environ.get('CHATWOOT_ALLOWED_NETWORKS') or '-'} (local defaults; a deployed stack allows neither)\n"
            f"{chatwoot_lines}"
            f"  Sync        {sync_line}\n"
            "  Stop        Ctrl+C\n",
            file=self._out,
            flush=True,
        )


def _export_handler_environment(database_url: str, public_base_url: str) -> None:
    """The environment the handlers read their settings from, set before they first read it."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("PUBLIC_BASE_URL", public_base_url)
    # The simulator listens on 127.0.0.1 over http, which a deployed stack refuses.
    for name, value in LOCAL_EGRESS.items():
        os.environ.setdefault(name, value)
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "chatwoot-integration")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ChatwootIntegration")
    # A terminal, not CloudWatch: the access log tells what happens; the functions' JSON logs show problems only
    # and metrics are not printed (set POWERTOOLS_LOG_LEVEL=INFO or POWERTOOLS_METRICS_DISABLED=false to see them).
    os.environ.setdefault("POWERTOOLS_LOG_LEVEL", "WARNING")
    os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")


def runner_from_environ(environ: Mapping[str, str] | None = None, out: TextIO = sys.stdout) -> LocalRunner:
    """The runner ``make run`` starts, from its environment."""
    settings = RunSettings.from_environ(environ)
    assert isinstance(settings, RunSettings)
    return LocalRunner(settings, out, simulate=settings.simulate_chatwoot)


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # its INFO lines are whole command lines
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per Chatwoot request drowns everything else
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # pgserver falls back to /tmp
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("%s received, stopping (send it again to quit at once)", signal.Signals(signum).name)
        signal.signal(signum, signal.SIG_DFL)
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    runner = runner_from_environ()
    try:
        runner.start()
        while not stop_requested.wait(0.5):
            pass
    except Exception:
        log.exception("the local runner could not start")
        return 1
    finally:
        runner.stop()
    log.info("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
