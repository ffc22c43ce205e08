"""The scheduled sync: makes the mirror converge to what Chatwoot's REST API says, integration by integration.

Per active integration, under its lease (a row lease, so two overlapping runs never do the same work):

1. agents, availability, inbox and team membership (no webhook tells about them);
2. conversations: the ``updated_within`` window since the cursor (with an overlap), or a full pass page by page,
   which ends by soft-deleting what Chatwoot no longer has; contacts with them;
3. message catch-up, so counters converge when message webhooks were lost;
4. the cursor moves only when a pass completes; a run that reaches its deadline stops between units of work and
   leaves the resume state for the next one;
5. a revoked token parks the integration in ``auth_error`` until its configuration changes; any other failure
   leaves ``error`` with the message, and the next run resumes after the last batch that was written whole;
6. then the assignment backstop (and the hand-over of an agent who went offline) and the publication of the
   change events, neither of which can fail the run.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from ..chatwoot.errors import ChatwootAuthError, ChatwootBudgetExceeded, ChatwootError
from ..errors import DomainError, NotFound
from ..models.integration import Integration
from ..observability import logger
from ..services.assignment import AssignmentService
from ..services.changes import ChangePublisher
from ..services.chatwoot_clients import ChatwootClients
from ..uow import UnitOfWorkFactory
from .agents import AgentRefresh, refresh_agents
from .budget import Budget, Deadline, DeadlineReached
from .metered import MeteredClient
from .models import IntegrationSyncReport, SyncProgress, SyncReport, SyncRequest, SyncSettings
from .passes import ACTOR, ConversationPass, LeaseLost

_MAX_ERROR_CHARS = 1000
_PUBLISH_BATCH = 500


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _no_deadline() -> float | None:
    return None


class SyncService:
    """Runs the sync. ``clock`` is the wall clock the cursor and the incremental window are read from;
    ``monotonic`` is the clock deadlines are expressed in (the Chatwoot clients must use the same one)."""

    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        clients: ChatwootClients,
        *,
        assignment: AssignmentService | None = None,
        publisher: ChangePublisher | None = None,
        settings: SyncSettings | None = None,
        clock: Callable[[], datetime] = _utc_now,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clients = clients
        self._assignment = assignment
        self._publisher = publisher
        self._settings = settings or SyncSettings()
        self._clock = clock
        self._monotonic = monotonic

    def run(self, request: SyncRequest, *, deadline: Deadline = _no_deadline) -> SyncReport:
        """Sync every active integration (or the one ``request`` names) and return what was done.

        Raises ``NotFound`` only for an ``integration_id`` that does not exist; every other problem is reported
        per integration and recorded on its row.
        """
        budget = Budget(deadline, self._monotonic, self._settings.reserve_seconds)
        report = SyncReport(mode=request.mode)
        self._clients.set_deadline(deadline)
        try:
            for integration in self._integrations(request):
                item = self._sync_integration(integration, request, budget)
                report.integrations.append(item)
                _log_integration(item)
                self._publish(report, budget)
        finally:
            self._clients.set_deadline(_no_deadline)
        return report

    def run_one(self, integration_id: int, *, full: bool, deadline: Deadline = _no_deadline) -> IntegrationSyncReport:
        """Sync one integration now (the API's ``POST /integrations/{id}/sync``) and return its report."""
        request = SyncRequest(mode="full" if full else "incremental", integration_id=integration_id)
        return self.run(request, deadline=deadline).integrations[0]

    def _integrations(self, request: SyncRequest) -> list[Integration]:
        with self._unit_of_work(read_only=True) as uow:
            if request.integration_id is None:
                return uow.integrations.list_all(active_only=True)
            integration = uow.integrations.get(request.integration_id)
        if integration is None:
            raise NotFound(f"integration {request.integration_id} not found")
        return [integration]

    # One integration ------------------------------------------------------------------------------------

    def _sync_integration(
        self, integration: Integration, request: SyncRequest, budget: Budget
    ) -> IntegrationSyncReport:
        started = self._monotonic()
        report = IntegrationSyncReport(
            integration_id=integration.id, account_id=integration.account_id, mode=request.mode
        )
        skip = _reason_to_skip(integration)
        if skip is not None:
            return _skipped(report, skip)
        owner = f"sync-{uuid.uuid4()}"
        leased = self._acquire(integration, owner, budget)
        if leased is None:
            return _skipped(report, "another sync run holds this integration's lease")
        # Read again under the lease: a run that held it until now may have moved the cursor or the resume state.
        integration = leased
        agents = AgentRefresh()
        progress: SyncProgress | None = None
        outcome: dict[str, Any]
        try:
            client = MeteredClient(self._clients.for_integration(integration))
            progress = self._plan(integration, request, report)
            work = ConversationPass(
                unit_of_work=self._unit_of_work,
                integration=integration,
                client=client,
                budget=budget,
                settings=self._settings,
                report=report,
                owner=owner,
                lease_until=lambda: self._lease_until(budget),
                clock=self._clock,
                progress=progress,
            )
            try:
                budget.check()
                agents = refresh_agents(self._unit_of_work, client, integration, actor=ACTOR)
                report.agents_changed = agents.changed
                report.availability_changes = agents.availability_changes
                work.run()
            finally:
                progress = work.progress
                report.requests = client.requests
            outcome = self._completed(report, progress)
        except (DeadlineReached, ChatwootBudgetExceeded) as stop:
            if isinstance(stop, ChatwootBudgetExceeded) and not budget.exhausted():
                outcome = self._failed(report, progress, stop.message)
            else:
                outcome = self._cut(report, progress)
        except ChatwootAuthError as exc:
            outcome = self._auth_failed(report, progress, exc.message)
        except (ChatwootError, DomainError, LeaseLost) as exc:
            outcome = self._failed(report, progress, getattr(exc, "message", None) or str(exc))
        except psycopg.Error as exc:
            outcome = self._failed(report, progress, _database_error(exc))
        except Exception as exc:  # a bug must not stop the other integrations; it is logged with its trace
            logger.exception("sync failed unexpectedly", extra={"integration_id": integration.id})
            outcome = self._failed(report, progress, f"unexpected {type(exc).__name__}")
        self._release(integration, owner, outcome)
        if report.status in ("ok", "cut"):
            self._assign(integration, agents, budget, report)
        report.duration_seconds = round(self._monotonic() - started, 3)
        return report

    def _plan(self, integration: Integration, request: SyncRequest, report: IntegrationSyncReport) -> SyncProgress:
        """Resume an unfinished full pass; else start the pass asked for (full without a recent cursor)."""
        previous = _stored_progress(integration)
        now = self._clock()
        if previous is not None and previous.mode == "full":
            report.resumed = True
            report.mode = "full"
            return previous.model_copy(update={"runs": previous.runs + 1})
        cursor = integration.sync_cursor
        too_old = cursor is not None and (now - cursor).total_seconds() > self._settings.max_incremental_age_seconds
        if request.mode == "full" or cursor is None or too_old:
            report.mode = "full"
            with self._unit_of_work(read_only=True) as uow:
                db_now = uow.server.now()
            return SyncProgress(mode="full", started_at=now, db_started_at=db_now)
        # An incremental pass cut before has nothing to resume but its window, which still counts from the cursor.
        report.resumed = previous is not None
        report.mode = "incremental"
        return SyncProgress(mode="incremental", started_at=now, window_start=cursor)

    # Outcomes (columns of the integration row) -------------------------------------------------------------

    def _completed(self, report: IntegrationSyncReport, progress: SyncProgress) -> dict[str, Any]:
        report.status = "ok"
        report.pass_completed = True
        now = self._clock()
        outcome: dict[str, Any] = {
            "sync_status": "ok",
            "sync_error": None,
            "sync_cursor": progress.started_at,
            "sync_progress": None,
            "last_sync_at": now,
        }
        if progress.mode == "full":
            outcome["last_full_sync_at"] = now
        return outcome

    def _cut(self, report: IntegrationSyncReport, progress: SyncProgress | None) -> dict[str, Any]:
        report.status = "cut"
        report.cut = True
        report.reason = "stopped before the deadline; the next run resumes"
        outcome: dict[str, Any] = {"sync_status": "ok", "sync_error": None, "last_sync_at": self._clock()}
        if progress is not None:
            outcome["sync_progress"] = progress.model_dump(mode="json")
        return outcome

    def _failed(self, report: IntegrationSyncReport, progress: SyncProgress | None, message: str) -> dict[str, Any]:
        report.status = "error"
        report.reason = message[:_MAX_ERROR_CHARS]
        outcome: dict[str, Any] = {"sync_status": "error", "sync_error": report.reason}
        if progress is not None:
            outcome["sync_progress"] = progress.model_dump(mode="json")
        return outcome

    def _auth_failed(
        self, report: IntegrationSyncReport, progress: SyncProgress | None, message: str
    ) -> dict[str, Any]:
        outcome = self._failed(report, progress, message)
        report.status = "auth_error"
        outcome["sync_status"] = "auth_error"
        return outcome

    # Lease ----------------------------------------------------------------------------------------------

    def _lease_until(self, budget: Budget) -> datetime:
        remaining = budget.remaining()
        seconds = self._settings.lease_seconds_without_deadline if remaining is None else max(remaining, 0.0)
        return self._clock() + timedelta(seconds=seconds + self._settings.lease_margin_seconds)

    def _acquire(self, integration: Integration, owner: str, budget: Budget) -> Integration | None:
        """Take the lease and return the integration as it stands under it, or None when another run holds it."""
        with self._unit_of_work() as uow:
            if not uow.integrations.acquire_sync_lease(integration.id, owner, self._lease_until(budget), self._clock()):
                return None
            return uow.integrations.get(integration.id)

    def _release(self, integration: Integration, owner: str, outcome: dict[str, Any]) -> None:
        try:
            with self._unit_of_work() as uow:
                released = uow.integrations.release_sync_lease(integration.id, owner, outcome)
        except psycopg.Error:
            # The lease expires on its own; the next run finds the last state that was committed.
            logger.exception("sync outcome not recorded", extra={"integration_id": integration.id})
            return
        if not released:
            logger.warning("sync lease was lost before the run ended", extra={"integration_id": integration.id})

    # After the pass ---------------------------------------------------------------------------------------

    def _assign(
        self, integration: Integration, agents: AgentRefresh, budget: Budget, report: IntegrationSyncReport
    ) -> None:
        """Hand over the conversations of agents who went offline, then assign waiting ones while agents have
        room. Both are no-ops unless the integration's assignment policy asks for them."""
        if self._assignment is None or budget.exhausted():
            return
        try:
            for agent_id in agents.went_offline:
                handed = self._assignment.reassign_from_offline_agent(integration.id, agent_id)
                report.conversations_assigned += len(handed.assigned)
            if not budget.exhausted():
                report.conversations_assigned += len(self._assignment.backstop(integration.id).assigned)
        except Exception as exc:  # assignment is a follow-up of the sync, never its failure
            logger.warning(
                "assignment after sync failed",
                extra={"integration_id": integration.id, "error_type": type(exc).__name__},
                exc_info=not isinstance(exc, ChatwootError | DomainError),
            )
            report.assignment_error = getattr(exc, "message", None) or type(exc).__name__

    def _publish(self, report: SyncReport, budget: Budget) -> None:
        """Drain the outbox (a cold backfill leaves thousands of events) while time allows."""
        if self._publisher is None:
            return
        try:
            while True:
                published = self._publisher.publish_pending(max_events=_PUBLISH_BATCH)
                report.events_published += published
                if published < _PUBLISH_BATCH or budget.exhausted():
                    break
        except Exception as exc:  # the outbox keeps them; the next run or API write publishes them
            logger.warning("change events not published", extra={"error_type": type(exc).__name__}, exc_info=True)
            report.publish_error = type(exc).__name__


def _reason_to_skip(integration: Integration) -> str | None:
    if not integration.active:
        return "integration is inactive"
    if integration.sync_status == "auth_error":
        # Retrying a revoked token only earns more 401s; a configuration change (new token) resets the status.
        return "Chatwoot refused the API token (auth_error); waiting for a configuration change"
    return None


def _skipped(report: IntegrationSyncReport, reason: str) -> IntegrationSyncReport:
    report.status = "skipped"
    report.reason = reason
    return report


def _stored_progress(integration: Integration) -> SyncProgress | None:
    if not integration.sync_progress:
        return None
    try:
        return SyncProgress.model_validate(integration.sync_progress)
    except ValueError:
        logger.warning("stored sync progress unreadable; starting over", extra={"integration_id": integration.id})
        return None


def _database_error(exc: psycopg.Error) -> str:
    # Only the primary message: DETAIL lines can quote row values.
    primary = exc.diag.message_primary if exc.diag is not None else None
    return f"database error: {primary or type(exc).__name__}"


def _log_integration(item: IntegrationSyncReport) -> None:
    fields = item.model_dump(mode="json")
    if item.status in ("error", "auth_error"):
        logger.warning("sync finished with an error", extra=fields)
    else:
        logger.info("sync finished", extra=fields)
