"""The convergence harness: a simulated Chatwoot with several accounts, the product's own entry points between it
and PostgreSQL, and the faults that happen in between.

Wiring (everything in one thread, so a seed replays the same run):

* the workload (:mod:`.workload`) changes Chatwoot; Chatwoot's webhooks, with the drop / duplicate / delay /
  reorder switches of the simulator, go to the webhook function's handler (``webhook/app.py``: signature checked
  against the integration's secret, the record queued) and on to a queue with SQS's semantics (:mod:`.sqs`);
* the processor's entry point (``DeliveryProcessor.handle_batch``) drains that queue in batches of ten, now and then; a batch is
  acknowledged only after it returned, records it reports as failed come back after the visibility timeout, and a
  crash between commit and acknowledgement (``ack_loss_rate``) makes the whole batch come back;
* the scheduled sync runs every ``sync_every`` steps (incremental) against the simulator's REST API over HTTP,
  and at the end (incremental, then full), after the queue has been drained.

The webhook function reads integration secrets the way it does in AWS, from a store outside the database (a copy
taken when the integration is connected), so it keeps accepting deliveries while PostgreSQL is down.
"""

from __future__ import annotations

import importlib
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import cast

import httpx
import psycopg
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict, Field, SecretStr

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.chatwoot.client import ChatwootClient
from chatwoot_integration.chatwoot.retry import RetryPolicy
from chatwoot_integration.db import Database
from chatwoot_integration.ingest.processor import DeliveryProcessor, DeliveryResult, Publisher
from chatwoot_integration.ingest.receive import WebhookReceiver
from chatwoot_integration.ingest.record import IngestRecord
from chatwoot_integration.models.integration import Integration
from chatwoot_integration.observability import logger, metrics
from chatwoot_integration.secrets import DatabaseSecretStore, IntegrationSecret
from chatwoot_integration.services.changes import ChangePublisher
from chatwoot_integration.services.chatwoot_clients import ChatwootClients
from chatwoot_integration.sync.models import SyncMode, SyncReport, SyncRequest, SyncSettings
from chatwoot_integration.sync.service import SyncService
from chatwoot_integration.uow import UnitOfWorkFactory, unit_of_work_factory
from chatwoot_simulator import ManualClock, Simulator, SimulatorServer, WebhookDelivery, serve
from tests.api_support import TENANT
from tests.fake_time import FakeTime
from tests.mirror_equality import counter_differences, mirror_differences
from tests.unit.ingest.support import LambdaContextStub, http_event

from .sqs import BATCH_SIZE, Received, SimulatedSqsQueue
from .workload import Office, Workload, build_office

START = 1_781_690_000.0
WEBHOOK_SECRET_PREFIX = "whsec-reliability-"


class WebhookFaultRates(BaseModel):
    """The simulator's delivery faults (``sim.webhooks.configure``)."""

    model_config = ConfigDict(frozen=True)

    drop_rate: float = Field(default=0.0, ge=0, le=1)
    duplicate_rate: float = Field(default=0.0, ge=0, le=1)
    delay: tuple[float, float] | None = None
    delay_rate: float = Field(default=0.0, ge=0, le=1, description="share of deliveries that are delayed")
    reorder_window: int = Field(default=0, ge=0)


class RunConfig(BaseModel):
    """One run: the seed, the size of the office, the faults and the rhythm of processing and syncing."""

    model_config = ConfigDict(frozen=True)

    seed: int
    accounts: int = Field(default=3, ge=1)
    faults: WebhookFaultRates = WebhookFaultRates()
    # A crash of the processor between its commit and the acknowledgement: the whole batch comes back.
    ack_loss_rate: float = Field(default=0.0, ge=0, le=1)
    # Per step, the chance that the processor polls the queue, and how many batches it takes then at most.
    poll_probability: float = Field(default=0.5, ge=0, le=1)
    batches_per_poll: int = Field(default=3, ge=1)
    # An incremental sync every so many steps (0: only at the end).
    sync_every: int = Field(default=150, ge=0)
    # Simulated seconds between two actions.
    step_seconds: tuple[float, float] = (0.5, 20.0)
    # Chatwoot's page size of the conversation list (an installation setting; 25 by default).
    page_size: int = Field(default=25, ge=1)


@dataclass
class BatchOutcome:
    """What one processor invocation did with one receive."""

    received: list[Received]
    results: list[DeliveryResult | Exception] = field(default_factory=list)
    failed_ids: set[str] = field(default_factory=set)
    invocation_error: Exception | None = None
    acknowledged: bool = False


class RunStats(BaseModel):
    steps: int = 0
    accepted: int = 0
    refused: dict[int, int] = Field(default_factory=dict)
    batches: int = 0
    records_processed: int = 0
    record_failures: int = 0
    invocation_errors: int = 0
    lost_acks: int = 0
    syncs: int = 0
    sync_errors: int = 0
    sync_exceptions: int = 0


class StaticSecrets:
    """The webhook function's secret lookup, from a copy of each integration's secret (Secrets Manager in AWS)."""

    def __init__(self) -> None:
        self._secrets: dict[int, IntegrationSecret] = {}

    def put(self, integration_id: int, secret: IntegrationSecret) -> None:
        self._secrets[integration_id] = secret

    def get(self, integration_id: int) -> IntegrationSecret | None:
        return self._secrets.get(integration_id)


class RecordingProcessor(DeliveryProcessor):
    """The production processor, keeping what each delivery became (the tests read it; nothing else changes)."""

    def __init__(
        self, unit_of_work: UnitOfWorkFactory, publisher: Publisher, sink: list[DeliveryResult | Exception]
    ) -> None:
        super().__init__(unit_of_work, publisher=publisher)
        self._sink = sink

    def handle_many(
        self, records: Sequence[tuple[IngestRecord, int]], *, integrations: dict[int, Integration] | None = None
    ) -> list[DeliveryResult | Exception]:
        outcomes = super().handle_many(records, integrations=integrations)
        self._sink.extend(outcomes)
        return outcomes


@dataclass
class Connected:
    office: Office
    integration_id: int


class ConvergenceHarness:
    """Build it with :func:`convergence_harness`; drive it with :meth:`run`, :meth:`finish`, :meth:`differences`."""

    def __init__(self, db: Database, config: RunConfig, sim: Simulator, server: SimulatorServer) -> None:
        self.db = db
        self.unit_of_work = unit_of_work_factory(db)
        self.config = config
        self.sim = sim
        self.server = server
        self.clock = _manual(sim)
        self.stats = RunStats()
        self.accepted_ids: list[str] = []
        self.sync_reports: list[SyncReport] = []
        self.last_invocation_error: Exception | None = None
        # Counters a recount contradicts, found before a scheduled sync (whose recount would repair them).
        self.invariant_violations: list[str] = []
        self._rng = random.Random(f"{config.seed}:harness")
        self.queue = SimulatedSqsQueue(clock=self.clock.now)
        self._secrets = StaticSecrets()
        # The function's per-container receiver, with this run's secrets and queue (signatures use Chatwoot's clock).
        bootstrap().configure(database=db, receiver=WebhookReceiver(self._secrets, self.queue, clock=self.clock.now))
        self._context = cast(LambdaContext, LambdaContextStub(function_name="processor"))
        # The handler module as the function loads it (``functions/`` is on the test path, not a package).
        self._webhook_app = importlib.import_module("webhook.app")
        self._publisher = ChangePublisher(self.unit_of_work, None)
        self.monotonic = FakeTime()  # the sync's clock: it moves only when the Chatwoot client sleeps
        self.http = httpx.Client(event_hooks={"request": []})
        self.clients = ChatwootClients(self.unit_of_work, DatabaseSecretStore(self.unit_of_work), factory=self._client)
        self.sync_service = SyncService(
            self.unit_of_work,
            self.clients,
            publisher=self._publisher,
            settings=SyncSettings(),
            clock=self._sim_now,
            monotonic=self.monotonic.monotonic,
        )
        rng = random.Random(f"{config.seed}:offices")
        self.connected = [self._connect(build_office(sim, rng, n + 1)) for n in range(config.accounts)]
        self.workload = Workload(sim, [c.office for c in self.connected], random.Random(f"{config.seed}:workload"))
        faults = config.faults
        sim.webhooks.configure(
            drop_rate=faults.drop_rate,
            duplicate_rate=faults.duplicate_rate,
            reorder_window=faults.reorder_window,
        )

    @property
    def account_ids(self) -> list[int]:
        return [c.office.account_id for c in self.connected]

    # Setup ----------------------------------------------------------------------------------------------

    def _connect(self, office: Office) -> Connected:
        secret = f"{WEBHOOK_SECRET_PREFIX}{office.account_id}"
        with self.unit_of_work() as uow:
            integration = uow.integrations.insert(
                {
                    "tenant": TENANT,
                    "name": f"Escritório {office.account_id}",
                    "base_url": self.server.url,
                    "account_id": office.account_id,
                    "credentials": {"api_token": office.api_token, "webhook_secret": secret},
                }
            )
        self._secrets.put(
            integration.id,
            IntegrationSecret(
                api_token=SecretStr(office.api_token),
                webhook_secret=SecretStr(secret),
                account_id=office.account_id,
            ),
        )
        self.sim.set_webhook(office.account_id, handler=self._to_webhook_function(integration.id), secret=secret)
        return Connected(office, integration.id)

    def _client(self, integration: Integration, api_token: str, deadline: Callable[[], float | None]) -> ChatwootClient:
        return ChatwootClient(
            integration.base_url,
            integration.account_id,
            api_token,
            http=self.http,
            policy=RetryPolicy(),
            sleep=self.monotonic.sleep,
            clock=self.monotonic.monotonic,
            deadline=deadline,
            jitter=lambda: 0.5,
        )

    def _sim_now(self) -> datetime:
        return datetime.fromtimestamp(self.clock.now(), UTC)

    def _to_webhook_function(self, integration_id: int) -> Callable[[WebhookDelivery], int]:
        """Chatwoot's POST, as API Gateway hands it to the webhook function."""

        def deliver(delivery: WebhookDelivery) -> int:
            event = http_event(delivery.body, delivery.headers, integration_id=integration_id)
            response = self._webhook_app.lambda_handler(event, LambdaContextStub(function_name="webhook"))
            status = int(response["statusCode"])
            if status == 202:
                self.stats.accepted += 1
                self.accepted_ids.append(delivery.delivery_id)
            else:
                self.stats.refused[status] = self.stats.refused.get(status, 0) + 1
            return status

        return deliver

    # Running --------------------------------------------------------------------------------------------

    def run(self, steps: int, *, process: bool = True, sync: bool = True) -> None:
        """``steps`` workload actions; after each, time passes, due deliveries go out, and the processor may poll."""
        for _ in range(steps):
            self.step(process=process, sync=sync)

    def step(self, *, process: bool = True, sync: bool = True) -> str:
        self._configure_delay()
        action = self.workload.step()
        self.stats.steps += 1
        self.clock.advance(self._rng.uniform(*self.config.step_seconds))
        self.sim.deliver_due()
        if process and self._rng.random() < self.config.poll_probability:
            for _ in range(self._rng.randint(1, self.config.batches_per_poll)):
                if self.process_batch() is None:
                    break
        if sync and self.config.sync_every and self.stats.steps % self.config.sync_every == 0:
            self.scheduled_sync("incremental")
        return action

    def _configure_delay(self) -> None:
        # The simulator delays every delivery or none; a share of delayed ones is drawn action by action.
        faults = self.config.faults
        delayed = faults.delay is not None and self._rng.random() < faults.delay_rate
        self.sim.webhooks.configure(delay=faults.delay if delayed else 0.0)

    def process_batch(self, *, lose_ack: bool | None = None) -> BatchOutcome | None:
        """One processor invocation on one receive (None when nothing is visible). ``lose_ack`` forces or forbids a
        crash between the commit and the acknowledgement; by default it happens at ``ack_loss_rate``."""
        received = self.queue.receive(BATCH_SIZE)
        if not received:
            return None
        outcome = BatchOutcome(received=received)
        processor = RecordingProcessor(self.unit_of_work, self._publisher, outcome.results)
        self.stats.batches += 1
        self.stats.records_processed += len(received)
        try:
            response = processor.handle_batch(self.queue.event(received), self._context)
        except Exception as error:
            # The invocation failed: Lambda acknowledges nothing, the whole batch comes back.
            outcome.invocation_error = error
            self.last_invocation_error = error
            self.stats.invocation_errors += 1
            return outcome
        finally:
            _flush_metrics()
        outcome.failed_ids = {item["itemIdentifier"] for item in response["batchItemFailures"]}
        self.stats.record_failures += len(outcome.failed_ids)
        crash = self._rng.random() < self.config.ack_loss_rate if lose_ack is None else lose_ack
        if crash:
            self.stats.lost_acks += 1
            return outcome
        self.queue.delete([item for item in received if item.message_id not in outcome.failed_ids])
        outcome.acknowledged = True
        return outcome

    def drain(self, *, max_rounds: int = 20) -> None:
        """Process until the queue is empty, letting time pass whenever only invisible messages are left."""
        for _ in range(max_rounds):
            while self.process_batch() is not None:
                pass
            visible_at = self.queue.next_visible_at()
            if visible_at is None:
                return
            self.clock.set(max(self.clock.now(), visible_at) + 0.001)
        raise AssertionError(f"the queue did not drain in {max_rounds} rounds ({len(self.queue)} messages left)")

    def scheduled_sync(self, mode: SyncMode) -> SyncReport | None:
        """What EventBridge Scheduler does: invoke the sync; an invocation that raises is counted, not fatal.

        The counters the triggers keep are checked first, while they only reflect what the deliveries did."""
        try:
            drift = counter_differences(self.db)
        except psycopg.OperationalError:
            drift = []  # the database is down: there is nothing to check (and the sync fails too)
        self.invariant_violations.extend(f"step {self.stats.steps}: {d}" for d in drift)
        try:
            report = self.sync(mode)
        except Exception:
            self.stats.sync_exceptions += 1
            return None
        return report

    def sync(self, mode: SyncMode) -> SyncReport:
        """One run of the sync over every integration, as the scheduler's event asks for it."""
        report = self.sync_service.run(SyncRequest(mode=mode))
        self.stats.syncs += 1
        self.stats.sync_errors += sum(1 for item in report.integrations if item.status not in ("ok", "cut"))
        self.sync_reports.append(report)
        return report

    def deliver_everything(self) -> None:
        """Chatwoot sends what it still holds (delays and reorder windows released), and the queue is drained."""
        self.sim.webhooks.flush()
        self.drain()

    def finish(self) -> list[SyncReport]:
        """The end of the run: every delivery in, then an incremental and a full sync."""
        self.deliver_everything()
        return [self.sync("incremental"), self.sync("full")]

    # Looking --------------------------------------------------------------------------------------------

    def differences(self) -> list[str]:
        return mirror_differences(self.db, self.sim, self.account_ids)

    def events_emitted(self) -> int:
        """Webhook events Chatwoot generated: sent once, dropped in transit, or discarded (the subject was gone)."""
        stats = self.sim.webhooks.stats()
        return stats.sent + stats.failed + stats.discarded - stats.duplicated + stats.dropped

    def ledger(self) -> dict[str, int]:
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT status, count(*) AS n FROM entregas_webhook_chatwoot GROUP BY status ORDER BY status"
            ).fetchall()
        return {row["status"]: row["n"] for row in rows}

    def unrecorded_deliveries(self) -> list[str]:
        """Deliveries the webhook function accepted that the processor's ledger does not know."""
        with self.db.transaction() as conn:
            recorded = {row["delivery_id"] for row in conn.execute("SELECT delivery_id FROM entregas_webhook_chatwoot")}
        return sorted(set(self.accepted_ids) - recorded)

    def close(self) -> None:
        bootstrap().configure(database=self.db)
        self.http.close()


def _flush_metrics() -> None:
    """What the processor function's ``log_metrics`` does after each invocation (its entry point is called here
    without that wrapper): nothing is left in the process-wide metric set for the next invocation or test."""
    if metrics.metric_set:
        metrics.flush_metrics()
    metrics.clear_metrics()


def _manual(sim: Simulator) -> ManualClock:
    clock = sim.clock
    assert isinstance(clock, ManualClock), "the harness drives time itself"
    return clock


@contextmanager
def convergence_harness(db: Database, config: RunConfig) -> Iterator[ConvergenceHarness]:
    """A harness on ``db`` (migrated, empty, installed as the process-wide database)."""
    sim = Simulator(seed=config.seed, clock=ManualClock(start=START, tick=0.001), page_size=config.page_size)
    level = logger.log_level
    # Thousands of per-delivery info lines cost time and say nothing here; warnings and errors still show.
    logger.setLevel("WARNING")
    try:
        with serve(simulator=sim) as server:
            harness = ConvergenceHarness(db, config, sim, server)
            try:
                yield harness
            finally:
                harness.close()
    finally:
        logger.setLevel(level)
        sim.close()


class RunSummary(BaseModel):
    """The figures a run reports."""

    seed: int
    events: int
    delivered: int
    accepted: int
    dropped: int
    duplicated: int
    delayed_share: float
    reorder_window: int
    processed_records: int
    redelivered: int
    lost_acks: int
    dead_lettered: int
    syncs: int
    wall_seconds: float
    actions: dict[str, int]

    def line(self, result: str) -> str:
        return (
            f"seed={self.seed} events={self.events} delivered={self.delivered} accepted={self.accepted}"
            f" dropped={self.dropped} ({_share(self.dropped, self.events)}) duplicated={self.duplicated}"
            f" ({_share(self.duplicated, self.events)}) delayed={self.delayed_share:.0%}"
            f" reorder_window={self.reorder_window} processed={self.processed_records}"
            f" redelivered={self.redelivered} lost_acks={self.lost_acks} dead_lettered={self.dead_lettered}"
            f" syncs={self.syncs} wall={self.wall_seconds:.1f}s result={result}"
        )


def _share(part: int, whole: int) -> str:
    return f"{part / whole:.1%}" if whole else "n/a"


def summarise(harness: ConvergenceHarness, started: float) -> RunSummary:
    stats = harness.sim.webhooks.stats()
    return RunSummary(
        seed=harness.config.seed,
        events=harness.events_emitted(),
        delivered=stats.sent,
        accepted=harness.stats.accepted,
        dropped=stats.dropped,
        duplicated=stats.duplicated,
        delayed_share=harness.config.faults.delay_rate if harness.config.faults.delay else 0.0,
        reorder_window=harness.config.faults.reorder_window,
        processed_records=harness.stats.records_processed,
        redelivered=harness.queue.stats.redelivered,
        lost_acks=harness.stats.lost_acks,
        dead_lettered=harness.queue.stats.dead_lettered,
        syncs=harness.stats.syncs,
        wall_seconds=time.perf_counter() - started,
        actions=dict(Counter(harness.workload.done)),
    )
