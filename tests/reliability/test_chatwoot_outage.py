"""Chatwoot's REST API going down, or rate-limiting every call, in the middle of a full sync: the run ends in
``error`` without writing anything half-way, and the next run, with Chatwoot back, converges."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import pytest

from chatwoot_integration.db import Database
from chatwoot_simulator import Simulator
from tests.mirror_equality import Row, counter_differences, describe, expected_conversations, mirrored_conversations

from .harness import ConvergenceHarness, RunConfig, WebhookFaultRates, convergence_harness

FAULTS = WebhookFaultRates(drop_rate=0.2, duplicate_rate=0.05, reorder_window=3)

Fault = Callable[[Simulator], None]
FAULTS_BY_NAME: dict[str, Fault] = {
    "down": lambda sim: sim.faults.fail_probability(1.0, status=503),
    "rate_limited": lambda sim: sim.faults.rate_limit_probability(1.0, retry_after=30),
}


def last_page(h: ConvergenceHarness, account_id: int) -> int:
    return -(-len(h.sim.list_conversations(account_id)) // h.config.page_size)


def fault_from_last_page(h: ConvergenceHarness, fault: Fault) -> None:
    """Chatwoot fails from the request for the last page of the first account's conversations on (that request
    included). The pass reads a few pages ahead, so the pages before those are written by then."""
    first = h.account_ids[0]
    trigger, page = f"/accounts/{first}/conversations", str(last_page(h, first))

    def on_request(request: httpx.Request) -> None:
        if request.url.path.endswith(trigger) and request.url.params.get("page") == page:
            fault(h.sim)

    h.http.event_hooks = {"request": [on_request]}


def integration_rows(db: Database) -> dict[int, Row]:
    with db.transaction() as conn:
        return {r["id"]: r for r in conn.execute("SELECT * FROM integracoes_chatwoot ORDER BY id")}


def half_written(before: dict[int, Row], after: dict[int, Row], chatwoot: dict[int, Row]) -> list[str]:
    """Conversations the failed run left neither as they were nor exactly as Chatwoot has them (messages and
    counters included): a batch is written whole or not at all."""
    return [
        f"conversation {cid}: {after.get(cid)!r}"
        for cid in sorted(before.keys() | after.keys())
        if after.get(cid) != before.get(cid) and after.get(cid) != chatwoot.get(cid)
    ]


@pytest.mark.parametrize("fault_name", sorted(FAULTS_BY_NAME))
def test_a_full_sync_that_loses_chatwoot_midway_fails_cleanly_and_the_next_one_converges(
    db: Database, convergence_seed: int, fault_name: str
) -> None:
    # Small pages, so the full pass has many and the fault lands in the middle of them.
    config = RunConfig(seed=convergence_seed, accounts=2, faults=FAULTS, sync_every=0, page_size=3)
    with convergence_harness(db, config) as h:
        h.run(100)
        h.deliver_everything()
        h.sync("full")
        h.run(200)
        while last_page(h, h.account_ids[0]) < 8:  # more pages than the pass reads ahead
            h.run(20)
        h.deliver_everything()
        before = {aid: mirrored_conversations(db, aid) for aid in h.account_ids}
        integrations_before = integration_rows(db)
        fault_from_last_page(h, FAULTS_BY_NAME[fault_name])

        failed = h.sync("full")

        after = {aid: mirrored_conversations(db, aid) for aid in h.account_ids}
        chatwoot = {aid: expected_conversations(h.sim, aid) for aid in h.account_ids}
        integrations_after = integration_rows(db)
        counters_after_failure = counter_differences(db)
        h.http.event_hooks = {"request": []}
        h.sim.faults.clear()
        recovered = h.sync("full")
        h.finish()
        differences = h.differences()

    assert [(i.status, bool(i.reason)) for i in failed.integrations] == [("error", True), ("error", True)]
    for item in failed.integrations:
        row, previous = integrations_after[item.integration_id], integrations_before[item.integration_id]
        assert (row["sync_status"], row["sync_error"], row["sync_lease_owner"]) == ("error", item.reason, None)
        # The cursor and the full-pass time only move when a pass completes.
        assert (row["sync_cursor"], row["last_full_sync_at"]) == (
            previous["sync_cursor"],
            previous["last_full_sync_at"],
        )
    # The first account failed in the middle of its pages: the pages before were written whole and are kept, and
    # the next run resumes after them.
    first = failed.integrations[0]
    assert integrations_after[first.integration_id]["sync_progress"]["next_page"] > 1
    assert [cid for cid, row in after[first.account_id].items() if row != before[first.account_id].get(cid)]
    for account_id in h.account_ids:
        assert half_written(before[account_id], after[account_id], chatwoot[account_id]) == []
    assert counters_after_failure == []
    assert [(i.status, i.resumed) for i in recovered.integrations] == [("ok", True), ("ok", True)]
    assert not differences, describe(differences, seed=convergence_seed)
