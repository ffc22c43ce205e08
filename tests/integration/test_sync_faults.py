"""The sync under Chatwoot's faults: rate limits and 5xx are ridden out, a persistent failure leaves ``error`` and
nothing half-written, and a revoked token parks the integration until its configuration changes."""

from __future__ import annotations

from collections.abc import Callable

import httpx
from pydantic import SecretStr

from chatwoot_integration.chatwoot.retry import RetryPolicy
from chatwoot_integration.db import Database
from chatwoot_integration.models.integration import IntegrationChanges
from chatwoot_integration.sync.models import SyncRequest
from tests.api_support import TENANT
from tests.graph import graph
from tests.unit.sync.support import Harness, converged, harness

# Patient enough that a storm of random 429s cannot exhaust it (the fake clock makes waiting free).
PATIENT = RetryPolicy(max_attempts=25, total_budget=600)


def test_a_storm_of_429s_is_ridden_out_honouring_retry_after_and_the_mirror_converges(db: Database) -> None:
    with harness(db, conversations=60, policy=PATIENT) as h:
        h.sim.faults.rate_limit_probability(0.4, retry_after=2)

        report = h.service.run(SyncRequest(mode="full"))

        item = report.integrations[0]
        throttled = sum(count for (route, status), count in _counts(h).items() if status == 429)
        assert item.status == "ok"
        assert throttled > 20
        assert h.time.sleeps.count(2.0) == throttled  # every 429 waited exactly its Retry-After
        assert converged(h) == []


def test_bursts_of_502_503_and_504_are_retried_and_the_mirror_converges(db: Database) -> None:
    with harness(db, conversations=60, policy=PATIENT) as h:
        h.sim.faults.fail_next(4, status=502)
        h.sim.faults.fail_probability(0.3, status=503)

        report = h.service.run(SyncRequest(mode="full"))

        failures = {status: count for (_, status), count in _counts(h).items() if status >= 500}
        assert report.integrations[0].status == "ok"
        assert failures.get(502) == 4 and failures.get(503, 0) > 10
        assert converged(h) == []


def test_a_persistent_failure_leaves_error_and_whole_pages_then_the_next_run_resumes_and_completes(
    db: Database,
) -> None:
    broken = {"on": True}

    def third_page_down(request: httpx.Request, send: Callable[[], httpx.Response]) -> httpx.Response:
        if broken["on"] and request.url.params.get("page") == "3":
            return httpx.Response(503, text="<html>Service Unavailable</html>")
        return send()

    with harness(db, conversations=80, edit=third_page_down) as h:
        failed = h.service.run(SyncRequest(mode="full")).integrations[0]

        integration = h.integration()
        mirrored = _mirrored_ids(db, h.integration_id)
        assert (failed.status, failed.pass_completed) == ("error", False)
        assert failed.reason is not None and "503" in failed.reason
        assert (integration.sync_status, integration.sync_error) == ("error", failed.reason)
        assert integration.sync_cursor is None  # the cursor only moves when a pass completes
        assert integration.sync_progress is not None and integration.sync_progress["next_page"] == 3
        # Pages 1 and 2 were written whole, nothing of page 3 or later.
        assert mirrored == set(range(1, 51))

        broken["on"] = False
        resumed = h.service.run(SyncRequest(mode="incremental")).integrations[0]

        integration = h.integration()
        assert (resumed.status, resumed.resumed, resumed.pass_completed, resumed.pages) == ("ok", True, True, 2)
        assert (integration.sync_status, integration.sync_error, integration.sync_progress) == ("ok", None, None)
        assert integration.sync_cursor is not None
        assert converged(h) == []


def test_a_revoked_token_parks_the_integration_in_auth_error_until_its_token_changes(db: Database) -> None:
    with harness(db, conversations=10) as h:
        h.service.run(SyncRequest(mode="full"))
        h.sim.faults.revoke_tokens()
        before = h.sim.requests.total()

        refused = h.service.run(SyncRequest(mode="incremental")).integrations[0]

        integration = h.integration()
        assert refused.status == "auth_error"
        assert h.sim.requests.total() - before == 1  # a 401 is not retried
        assert integration.sync_status == "auth_error"
        assert integration.sync_error is not None and "401" in integration.sync_error

        # Chatwoot accepting the token again changes nothing on our side: the integration waits for a new
        # configuration and makes no call at all.
        h.sim.faults.revoke_tokens(False)
        calls_before_skips = h.sim.requests.total()
        skipped = [h.service.run(SyncRequest(mode="incremental")).integrations[0] for _ in range(2)]
        assert [s.status for s in skipped] == ["skipped", "skipped"]
        assert skipped[0].reason is not None and "auth_error" in skipped[0].reason
        assert h.sim.requests.total() == calls_before_skips

        new_token = h.sim.create_agent(h.account_id, "Nova Administradora", role="administrator").access_token
        graph(db).integrations.update(
            TENANT, h.integration_id, IntegrationChanges(api_token=SecretStr(new_token)), actor="admin-1"
        )
        assert h.integration().sync_status == "never"

        recovered = h.service.run(SyncRequest(mode="incremental")).integrations[0]

        assert recovered.status == "ok"
        assert h.sim.requests.total() > calls_before_skips
        assert (h.integration().sync_status, h.integration().sync_error) == ("ok", None)
        assert converged(h) == []


def _counts(h: Harness) -> dict[tuple[str, int], int]:
    return h.sim.requests.by_status()


def _mirrored_ids(db: Database, integration_id: int) -> set[int]:
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT conversation_id FROM conversas_chatwoot WHERE integration_id = %s", (integration_id,)
        )
        return {r["conversation_id"] for r in rows}
