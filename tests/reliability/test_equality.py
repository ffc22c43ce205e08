"""The equality check itself: on a converged mirror it finds nothing, and every kind of damage is reported."""

from __future__ import annotations

from typing import Any

from chatwoot_integration.db import Database
from tests.mirror_equality import describe

from .harness import ConvergenceHarness, RunConfig, convergence_harness

DAMAGE = {
    "status": "UPDATE conversas_chatwoot SET status = 'snoozed', snoozed_until = now()"
    " WHERE integration_id = %(integration)s AND conversation_id = %(first)s",
    "unread": "UPDATE conversas_chatwoot SET unread_count = unread_count + 7"
    " WHERE integration_id = %(integration)s AND conversation_id = %(second)s",
    "deleted": "UPDATE conversas_chatwoot SET deleted_at = now(), deleted_by = 'sync'"
    " WHERE integration_id = %(integration)s AND conversation_id = %(third)s",
    "message": "DELETE FROM mensagens_chatwoot WHERE integration_id = %(integration)s AND message_id = %(message)s",
    "agent": "UPDATE usuarios_chatwoot SET availability = 'busy', name = 'Outro Nome'"
    " WHERE integration_id = %(integration)s AND agent_id = %(agent)s",
    "load": "UPDATE usuarios_chatwoot SET active_conversations = active_conversations + 3"
    " WHERE integration_id = %(integration)s AND agent_id = %(agent)s",
    "member": "DELETE FROM membros_inbox_chatwoot WHERE integration_id = %(integration)s AND inbox_id = %(inbox)s",
    "contact": "UPDATE contatos_chatwoot SET email = 'outro@email.example'"
    " WHERE integration_id = %(integration)s AND contact_id = %(contact)s",
}


def targets(h: ConvergenceHarness) -> dict[str, Any]:
    """Live records of the first account to damage: three conversations, a message, an agent, an inbox, a contact;
    and its integration, the mirror's key."""
    account_id = h.account_ids[0]
    conversations = sorted(h.sim.list_conversations(account_id), key=lambda c: c.display_id)
    first, second, third = (c.display_id for c in conversations[:3])
    with_message = next(c for c in conversations[3:] if h.sim.get_messages(account_id, c.display_id))
    message = max(m.id for m in h.sim.get_messages(account_id, with_message.display_id) if m.message_type != "activity")
    agent = next(a for a in h.sim.list_agents(account_id) if a.availability != "busy")
    return {
        "account": account_id,
        "integration": h.connected[0].integration_id,
        "first": first,
        "second": second,
        "third": third,
        "with_message": with_message.display_id,
        "message": message,
        "agent": agent.id,
        "inbox": h.sim.list_inboxes(account_id)[0].id,
        "contact": conversations[-1].contact_id,
    }


def test_a_converged_mirror_shows_no_difference_and_each_damage_is_reported(
    db: Database, convergence_seed: int
) -> None:
    with convergence_harness(db, RunConfig(seed=convergence_seed, accounts=1, sync_every=0)) as h:
        h.run(120)
        h.finish()
        clean = h.differences()
        target = targets(h)
        with db.transaction() as conn:
            for statement in DAMAGE.values():
                conn.execute(statement, target)
        damaged = h.differences()

    assert clean == [], describe(clean, seed=convergence_seed)
    report = "\n".join(damaged)
    conversation = f"account {target['account']} conversation"
    agent = f"account {target['account']} agent {target['agent']}"
    expected = [
        f"{conversation} {target['first']}.status: mirror 'snoozed'",
        f"{conversation} {target['first']}.snoozed_until: mirror datetime",
        f"{conversation} {target['second']}.unread_count",
        f"{conversation} {target['third']}.deleted: mirror True != chatwoot False",
        f"{conversation} {target['with_message']} message {target['message']}: missing from the mirror",
        # The counters are checked over the whole mirror, which names rows by integration.
        f"integration {target['integration']} conversation {target['with_message']}: stored counts",
        f"{agent}.availability: mirror 'busy'",
        f"{agent}.name: mirror 'Outro Nome'",
        f"integration {target['integration']} agent {target['agent']}: active_conversations",
        f"account {target['account']} inbox member (group, agent) ({target['inbox']}, ",
        f"account {target['account']} contact {target['contact']}.email: mirror 'outro@email.example'",
    ]
    assert [fragment for fragment in expected if fragment not in report] == [], report
    # And nothing else: every difference reported comes from one of the damages.
    assert [line for line in damaged if not any(f in line for f in expected)] == [], report
