"""The mirror converges to Chatwoot under webhook faults: drops, duplicates, delays and reordering, with the
processor losing an acknowledgement now and then and the sync running on its schedule."""

from __future__ import annotations

import time

from chatwoot_integration.db import Database
from tests.mirror_equality import describe

from .harness import RunConfig, WebhookFaultRates, convergence_harness, summarise

FAULTS = WebhookFaultRates(drop_rate=0.1, duplicate_rate=0.1, delay=(5.0, 600.0), delay_rate=0.15, reorder_window=4)


def test_with_lost_duplicated_delayed_and_reordered_webhooks_the_mirror_ends_equal_to_chatwoot(
    db: Database, convergence_seed: int
) -> None:
    started = time.perf_counter()
    config = RunConfig(seed=convergence_seed, accounts=3, faults=FAULTS, ack_loss_rate=0.02, sync_every=150)
    with convergence_harness(db, config) as h:
        h.run(1200)
        h.deliver_everything()
        behind = h.differences()
        ledger = h.ledger()
        final = h.finish()
        differences = h.differences()
        summary = summarise(h, started)
        line = summary.line("converged" if not differences else "DIVERGED")
        print(line)

    # The faults did happen, and they did leave the mirror wrong until the final sync.
    webhooks = h.sim.webhooks.stats()
    assert webhooks.dropped > 0 and webhooks.duplicated > 0 and summary.redelivered > 0 and summary.lost_acks > 0
    assert ledger["applied"] > 1000 and ledger["duplicate"] > 0
    assert len(behind) > 0
    assert h.stats.accepted == summary.delivered and not h.stats.refused
    assert h.stats.syncs >= 8 and h.stats.sync_errors == h.stats.sync_exceptions == 0
    assert [(i.status, i.mode) for r in final for i in r.integrations] == [("ok", "incremental")] * 3 + [
        ("ok", "full")
    ] * 3
    assert h.queue.dead_letters == [] and h.stats.invocation_errors == 0
    assert h.invariant_violations == [], describe(h.invariant_violations, seed=convergence_seed)
    assert not differences, line + "\n" + describe(differences, seed=convergence_seed)
