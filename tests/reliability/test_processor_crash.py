"""A processor that crashes after its batch committed and before SQS heard about it: the batch comes back after
the visibility timeout, and applying it again changes nothing."""

from __future__ import annotations

from chatwoot_integration.db import Database
from chatwoot_integration.ingest.processor import DeliveryResult
from tests.mirror_equality import database_state, describe

from .harness import RunConfig, WebhookFaultRates, convergence_harness
from .sqs import BATCH_SIZE

FAULTS = WebhookFaultRates(drop_rate=0.05, duplicate_rate=0.1, reorder_window=3)


def test_a_batch_committed_but_never_acknowledged_is_delivered_again_and_its_redelivery_is_a_no_op(
    db: Database, convergence_seed: int
) -> None:
    config = RunConfig(seed=convergence_seed, accounts=2, faults=FAULTS, sync_every=50)
    with convergence_harness(db, config) as h:
        h.run(80)
        h.deliver_everything()
        while len(h.queue) < 2 * BATCH_SIZE:  # a backlog, so the batch is a full one
            h.step(process=False, sync=False)

        crashed = h.process_batch(lose_ack=True)
        assert crashed is not None
        committed = database_state(db)
        h.clock.advance(h.queue.visibility_timeout + 1)
        again = h.process_batch(lose_ack=False)
        assert again is not None
        after_redelivery = database_state(db)

        h.run(60)
        h.finish()
        differences = h.differences()

    first = [r for r in crashed.results if isinstance(r, DeliveryResult)]
    second = [r for r in again.results if isinstance(r, DeliveryResult)]
    # The crash came after the commit: the batch was applied (something changed), yet nothing was acknowledged.
    assert len(first) == BATCH_SIZE and crashed.invocation_error is None and not crashed.failed_ids
    assert not crashed.acknowledged and sum(r.changes for r in first) > 0
    # The same ten messages came back, each received a second time, and each was recognised as already handled.
    assert [m.message_id for m in again.received] == [m.message_id for m in crashed.received]
    assert {m.receive_count for m in again.received} == {2}
    assert [(r.delivery_id, r.status, r.reason) for r in second] == [
        (r.delivery_id, "duplicate", "same_delivery") for r in first
    ]
    assert again.acknowledged and sum(r.changes for r in second) == 0
    # Not one row written: mirror, ledger, outbox and bookkeeping are exactly as the crashed batch left them.
    assert after_redelivery == committed
    assert not differences, describe(differences, seed=convergence_seed)
