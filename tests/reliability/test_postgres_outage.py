"""PostgreSQL stopped in the middle of a stream of deliveries and started again: nothing accepted is lost.

The webhook function keeps answering 202 (it never touches the database); the processor's batches fail and stay
in the queue, come back after the visibility timeout, and are applied once the server is back. The test runs on a
server of its own, so stopping it disturbs no other test.
"""

from __future__ import annotations

import time

from chatwoot_integration.db import Database
from tests.mirror_equality import describe, webhook_losses

from .conftest import OwnPostgres
from .harness import RunConfig, WebhookFaultRates, convergence_harness, summarise

# No drops: every change Chatwoot makes reaches the webhook, so "nothing lost" can be checked message by message.
FAULTS = WebhookFaultRates(duplicate_rate=0.1, delay=(5.0, 300.0), delay_rate=0.1, reorder_window=3)


def test_deliveries_accepted_while_postgres_is_down_wait_in_the_queue_and_are_applied_after_the_restart(
    own_postgres: OwnPostgres, own_db: Database, convergence_seed: int
) -> None:
    started = time.perf_counter()
    # No sync before the end: what the mirror holds before it can only have come through the queue.
    config = RunConfig(seed=convergence_seed, accounts=2, faults=FAULTS, sync_every=0)
    with convergence_harness(own_db, config) as h:
        h.run(120)
        accepted_before = h.stats.accepted

        own_postgres.stop()
        failures_before = h.stats.record_failures + h.stats.invocation_errors
        # The outage lasts about two visibility timeouts: each delivery is tried, fails and comes back.
        h.run(40)
        during = h.stats.model_copy()
        queued_during_outage = len(h.queue)
        own_postgres.start()

        h.run(60)
        h.deliver_everything()
        lost = webhook_losses(own_db, h.sim, h.account_ids)
        ledger = h.ledger()
        not_in_ledger = h.unrecorded_deliveries()
        h.finish()
        differences = h.differences()
        print(summarise(h, started).line("converged" if not differences else "DIVERGED"))

    assert during.accepted > accepted_before and not during.refused  # the webhook kept accepting
    assert during.record_failures + during.invocation_errors > failures_before  # the processor could not write
    assert queued_during_outage > 0
    assert h.queue.dead_letters == [] and len(h.queue) == 0
    assert not_in_ledger == []
    assert set(ledger) <= {"applied", "stale", "duplicate", "ignored"}, ledger
    assert lost == [], describe(lost, seed=convergence_seed)
    assert not differences, describe(differences, seed=convergence_seed)
