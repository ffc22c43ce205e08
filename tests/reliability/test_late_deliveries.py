"""A webhook queued before Chatwoot deleted its conversation and applied after the full pass found it gone: the
conversation stays deleted (only a fresh read of Chatwoot's REST API can bring it back)."""

from __future__ import annotations

from chatwoot_integration.db import Database
from tests.mirror_equality import describe

from .harness import RunConfig, convergence_harness


def _deleted_by(db: Database, integration_id: int, display_id: int) -> str | None:
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT deleted_by FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s",
            (integration_id, display_id),
        ).fetchone()
    assert row is not None
    deleted_by: str | None = row["deleted_by"]
    return deleted_by


def test_a_delivery_older_than_a_deletion_the_full_pass_found_does_not_bring_the_conversation_back(
    db: Database, convergence_seed: int
) -> None:
    with convergence_harness(db, RunConfig(seed=convergence_seed, accounts=1, sync_every=0)) as h:
        h.run(40)
        h.deliver_everything()
        h.sync("full")
        account_id = h.account_ids[0]
        integration_id = h.connected[0].integration_id
        display_id = h.sim.list_conversations(account_id)[0].display_id
        # Chatwoot changes the conversation (its webhooks wait in the queue), then deletes it.
        h.sim.set_priority(account_id, display_id, "urgent")
        h.sim.add_message(account_id, display_id, "Última mensagem antes da exclusão.")
        h.sim.delete_conversation(account_id, display_id)
        late = len(h.queue)

        h.sync("full")
        found_gone = _deleted_by(db, integration_id, display_id)
        h.drain()
        differences = h.differences()

    assert late > 0 and found_gone == "sync"
    assert _deleted_by(db, integration_id, display_id) == "sync"
    assert not differences, describe(differences, seed=convergence_seed)
