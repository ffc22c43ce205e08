"""Runs that stop at their deadline resume where they stopped; overlapping runs never do the same work twice."""

from __future__ import annotations

import threading
from collections.abc import Callable

import httpx

from chatwoot_integration.db import Database
from chatwoot_integration.sync.models import SyncReport, SyncRequest, SyncSettings
from tests.unit.sync.support import converged, harness

MESSAGES_ROUTE = "GET /api/v1/accounts/{account_id}/conversations/{conversation_id}/messages"
WAIT = 10  # bound for a background thread to reach a point; never a performance assertion


def test_a_full_pass_cut_by_the_deadline_resumes_where_it_stopped_and_completes(db: Database) -> None:
    # Every HTTP request costs one second of the fake clock; each run has 20 seconds and keeps 3 in reserve. One
    # message reader: with several, which reads a cut overtakes depends on thread timing, not on the sync.
    settings = SyncSettings(reserve_seconds=3, message_readers=1)
    with harness(db, conversations=120, request_cost=1.0, settings=settings) as h:
        runs, pages_reached = [], []
        while True:
            item = h.service.run(SyncRequest(mode="full"), deadline=h.deadline_in(20)).integrations[0]
            runs.append(item)
            if item.pass_completed or len(runs) > 60:
                break
            progress = h.integration().sync_progress
            assert (item.status, item.cut) == ("cut", True)
            assert progress is not None and progress["mode"] == "full"
            assert h.integration().sync_cursor is None
            pages_reached.append(progress["next_page"])

        assert len(runs) > 3
        assert [r.resumed for r in runs] == [False] + [True] * (len(runs) - 1)
        assert runs[-1].status == "ok"
        assert pages_reached == sorted(pages_reached)
        # Resuming never reads a conversation's messages twice: one request each, over all the runs.
        assert h.sim.requests.count(MESSAGES_ROUTE) == 120
        integration = h.integration()
        assert integration.sync_progress is None and integration.sync_cursor is not None
        assert converged(h) == []


def test_a_run_whose_deadline_has_passed_stops_before_calling_chatwoot_and_keeps_its_plan(db: Database) -> None:
    with harness(db, conversations=10) as h:
        before = h.sim.requests.total()

        item = h.service.run(SyncRequest(mode="full"), deadline=h.deadline_in(1)).integrations[0]

        progress = h.integration().sync_progress
        assert (item.status, item.cut, item.pages) == ("cut", True, 0)
        assert h.sim.requests.total() == before
        assert progress is not None and (progress["mode"], progress["next_page"]) == ("full", 1)


def test_an_incremental_pass_cut_by_the_deadline_is_redone_from_the_same_cursor(db: Database) -> None:
    settings = SyncSettings(reserve_seconds=3)
    with harness(db, conversations=20, request_cost=1.0, settings=settings) as h:
        h.advance(3600)
        h.service.run(SyncRequest(mode="full"))
        cursor = h.integration().sync_cursor
        h.advance(600)
        for display_id in h.office.conversation_ids[:8]:
            h.sim.add_message(h.account_id, display_id, "Alguma novidade?")

        cut = h.service.run(SyncRequest(mode="incremental"), deadline=h.deadline_in(12)).integrations[0]

        assert (cut.status, cut.mode, cut.pass_completed) == ("cut", "incremental", False)
        assert h.integration().sync_cursor == cursor
        done = h.service.run(SyncRequest(mode="incremental")).integrations[0]
        assert (done.status, done.resumed, done.pass_completed) == ("ok", True, True)
        cursor_after = h.integration().sync_cursor
        assert cursor is not None and cursor_after is not None and cursor_after > cursor
        assert converged(h) == []


def test_two_overlapping_runs_do_not_double_the_work_the_second_skips_the_leased_integration(db: Database) -> None:
    entered, release = threading.Event(), threading.Event()

    def hold_first_request(_seconds: float) -> None:
        entered.set()
        release.wait(WAIT)

    with harness(db, conversations=40, rest_sleep=hold_first_request) as h:
        first: list[SyncReport] = []
        h.sim.faults.set_latency(1.0)  # the first run's first request waits in hold_first_request
        runner = threading.Thread(target=lambda: first.append(h.service.run(SyncRequest(mode="full"))))
        runner.start()
        try:
            assert entered.wait(WAIT)
            h.sim.faults.set_latency(None)
            requests_before = h.sim.requests.total()

            second = h.new_service().run(SyncRequest(mode="full")).integrations[0]

            assert (second.status, second.requests, second.pages) == ("skipped", 0, 0)
            assert second.reason is not None and "lease" in second.reason
            assert h.sim.requests.total() == requests_before
        finally:
            release.set()
            runner.join(WAIT)

        winner = first[0].integrations[0]
        assert (winner.status, winner.pass_completed, winner.pages) == ("ok", True, 2)
        # Every conversation was read once: by the run that held the lease.
        assert winner.conversations_seen == 40
        assert converged(h) == []
        integration = h.integration()
        assert integration.sync_status == "ok"
        with db.transaction() as conn:
            lease = conn.execute(
                "SELECT sync_lease_owner, sync_lease_until FROM integracoes_chatwoot WHERE id = %s",
                (h.integration_id,),
            ).fetchone()
        assert lease == {"sync_lease_owner": None, "sync_lease_until": None}


def test_a_run_that_outlived_its_lease_stops_writing_once_another_run_took_it(db: Database) -> None:
    holder: dict[str, int] = {}

    def lease_taken_while_reading(request: httpx.Request, send: Callable[[], httpx.Response]) -> httpx.Response:
        # Another run takes the lease (this one's expired, say) while the first page is being read.
        if request.url.path.endswith("/conversations") and "stolen" not in holder:
            with db.transaction() as conn:
                conn.execute(
                    "UPDATE integracoes_chatwoot SET sync_lease_owner = 'another-run' WHERE id = %s",
                    (holder["integration_id"],),
                )
            holder["stolen"] = 1
        return send()

    with harness(db, conversations=60, edit=lease_taken_while_reading) as h:
        holder["integration_id"] = h.integration_id

        item = h.service.run(SyncRequest(mode="full")).integrations[0]

        assert item.status == "error"
        assert item.reason is not None and "lease" in item.reason
        with db.transaction() as conn:
            count = conn.execute(
                "SELECT count(*) AS n FROM conversas_chatwoot WHERE integration_id = %s", (h.integration_id,)
            ).fetchone()
            owner = conn.execute(
                "SELECT sync_lease_owner FROM integracoes_chatwoot WHERE id = %s", (h.integration_id,)
            ).fetchone()
        assert count == {"n": 0}  # the page that found the lease gone was rolled back
        assert owner == {"sync_lease_owner": "another-run"}  # and the other run's lease was left alone
