"""``make run``: the whole system on this machine, with the very handlers that run in AWS.

Starts (or joins) the embedded PostgreSQL unless DATABASE_URL is set, applies migrations, serves every
HttpApi route of template.yaml on http://127.0.0.1:$PORT through the local API Gateway, runs the scheduled
sync every SYNC_INTERVAL_SECONDS, and connects a Chatwoot account when CHATWOOT_* is set. SIGINT or SIGTERM
stops all of it, the embedded PostgreSQL included.
"""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
import warnings
from types import FrameType
from typing import Any, TextIO

from chatwoot_integration.config import get_settings
from chatwoot_integration.db import Database, set_database

from .authorizer import JwtVerifier
from .invoke import FunctionInvoker
from .migrate import LocalDatabase, migrate, open_local_database, report
from .server import LocalApiServer, LocalGateway
from .settings import LocalSettings
from .template_routes import LocalTemplate, read_template

log = logging.getLogger("localdev")

HOST = "127.0.0.1"
SYNC_FUNCTION = "SyncFunction"
SYNC_EVENT: dict[str, Any] = {"mode": "incremental"}


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


def connect_chatwoot(database: Database, settings: LocalSettings, public_base_url: str, out: TextIO) -> None:
    """Create or update the integration for the Chatwoot account in CHATWOOT_*, and print its webhook URL."""
    chatwoot = settings.chatwoot
    if chatwoot is None:
        print(
            "Chatwoot: not connected (set CHATWOOT_BASE_URL, CHATWOOT_ACCOUNT_ID, CHATWOOT_API_TOKEN and "
            "CHATWOOT_WEBHOOK_SECRET to connect an account at start)",
            file=out,
        )
        return
    try:
        # Imported only when an account is to be connected; the runner works without the service.
        from chatwoot_integration.services.integrations import ensure_local_integration  # noqa: PLC0415
    except ImportError as exc:
        log.debug("integration service import failed: %s", exc)
        print("Chatwoot: the integration service is not available yet; account not connected", file=out)
        return
    try:
        integration = ensure_local_integration(
            database,
            base_url=chatwoot.base_url,
            account_id=chatwoot.account_id,
            api_token=chatwoot.api_token,
            webhook_secret=chatwoot.webhook_secret,
            public_base_url=public_base_url,
        )
    except Exception:
        log.exception("connecting Chatwoot account %s failed", chatwoot.account_id)
        print(f"Chatwoot: connecting account {chatwoot.account_id} failed (see the log above)", file=out)
        return
    print(
        f"Chatwoot: account {chatwoot.account_id} at {chatwoot.base_url} is integration {integration.id}\n"
        f"  webhook URL (set it on the account's webhook in Chatwoot): {integration.webhook_url}",
        file=out,
    )


class LocalRunner:
    """Everything ``make run`` starts, and stops again in reverse order."""

    def __init__(self, settings: LocalSettings, out: TextIO = sys.stdout) -> None:
        self.settings = settings
        self._out = out
        self._local_db: LocalDatabase | None = None
        self._database: Database | None = None
        self._invoker: FunctionInvoker | None = None
        self._server: LocalApiServer | None = None
        self._scheduler: SyncScheduler | None = None

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
        set_database(self._database)

        self._preload(template)
        self._server.start()
        connect_chatwoot(self._database, self.settings, public_base_url, self._out)
        self._start_sync(template)
        self._print_banner()

    def stop(self) -> None:
        """Idempotent; safe after a partial start."""
        if self._scheduler is not None:
            self._scheduler.stop()
            self._scheduler = None
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._invoker is not None:
            self._invoker.close()
            self._invoker = None
        if self._database is not None:
            set_database(None)
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
        print(
            "\nChatwoot integration running locally\n"
            f"  API         {self.url}\n"
            f"  Docs        {self.url}/docs\n"
            "  Token       make token   (ROLE=admin|agent ACCOUNTS=1,2 SUB=...); send 'Authorization: Bearer <token>'\n"
            f"  JWT secret  {secret_line}\n"
            f"  Data        {self._local_db.describe()}\n"
            f"  Sync        {sync_line}\n"
            "  Stop        Ctrl+C\n",
            file=self._out,
            flush=True,
        )


def _export_handler_environment(database_url: str, public_base_url: str) -> None:
    """The environment the handlers read their settings from, set before they first read it."""
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("PUBLIC_BASE_URL", public_base_url)
    os.environ.setdefault("POWERTOOLS_SERVICE_NAME", "chatwoot-integration")
    os.environ.setdefault("POWERTOOLS_METRICS_NAMESPACE", "ChatwootIntegration")
    get_settings.cache_clear()


def main() -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("pgserver").setLevel(logging.WARNING)  # its INFO lines are whole command lines
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")  # pgserver falls back to /tmp
    stop_requested = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        log.info("%s received, stopping (send it again to quit at once)", signal.Signals(signum).name)
        signal.signal(signum, signal.SIG_DFL)
        stop_requested.set()

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)

    runner = LocalRunner(LocalSettings.from_environ())
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
