"""The large convergence run (``make soak``): at least 20,000 webhook events from four accounts under every fault,
the sync on its schedule, then the mirror compared with Chatwoot field by field. Prints one summary line."""

from __future__ import annotations

import time

import pytest

from chatwoot_integration.db import Database
from tests.mirror_equality import describe

from .harness import RunConfig, WebhookFaultRates, convergence_harness, summarise

EVENTS = 20_000
FAULTS = WebhookFaultRates(drop_rate=0.1, duplicate_rate=0.1, delay=(5.0, 900.0), delay_rate=0.15, reorder_window=5)


@pytest.mark.soak
def test_twenty_thousand_faulty_webhook_events_end_in_a_mirror_equal_to_chatwoot(
    db: Database, convergence_seed: int, capsys: pytest.CaptureFixture[str]
) -> None:
    started = time.perf_counter()
    config = RunConfig(seed=convergence_seed, accounts=4, faults=FAULTS, ack_loss_rate=0.02, sync_every=500)
    with convergence_harness(db, config) as h:
        while h.events_emitted() < EVENTS:
            h.run(250)
        h.finish()
        differences = h.differences()
        summary = summarise(h, started)
        line = summary.line("converged" if not differences else "DIVERGED")
        with capsys.disabled():
            print(f"\nsoak: {line}")

    assert summary.events >= EVENTS
    assert h.queue.dead_letters == [] and h.stats.invocation_errors == 0 and h.stats.sync_exceptions == 0
    assert h.invariant_violations == [], describe(h.invariant_violations, seed=convergence_seed)
    assert not differences, line + "\n" + describe(differences, seed=convergence_seed)
