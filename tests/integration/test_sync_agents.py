"""Agents have no webhooks: the sync is how availability and membership reach the mirror, and how assignment learns
that an agent went offline or came online."""

from __future__ import annotations

from typing import Any

from chatwoot_integration.db import Database
from chatwoot_integration.sync.models import SyncRequest
from tests.unit.sync.support import Harness, agent_differences, harness

POLICY = {"enabled": True, "reassign_when_offline": True}


def test_availability_and_membership_changes_are_picked_up_with_an_agent_event_and_history(db: Database) -> None:
    with harness(db, conversations=5) as h:
        h.service.run(SyncRequest(mode="full"))
        ana, bruno = h.office.agent_ids[:2]
        whatsapp, site = h.office.inbox_ids
        h.sim.set_agent_availability(h.account_id, ana, "offline")
        h.sim.remove_inbox_member(h.account_id, whatsapp, bruno)
        h.sim.add_inbox_member(h.account_id, site, ana)
        h.sim.update_agent(h.account_id, bruno, name="Bruno Lima Filho")

        item = h.service.run(SyncRequest(mode="incremental")).integrations[0]

        assert (item.status, item.availability_changes, item.agents_changed) == ("ok", 1, 2)
        assert agent_differences(h) == []
        assert _agent_events(db, h.integration_id) == [
            (ana, "sync", {"changes": {"availability": {"from": "online", "to": "offline"}}})
        ]
        with db.transaction() as conn:
            history = conn.execute(
                "SELECT previous, current FROM disponibilidade_historico_chatwoot"
                " WHERE integration_id = %s AND agent_id = %s ORDER BY id",
                (h.integration_id, ana),
            ).fetchall()
        assert history == [{"previous": None, "current": "online"}, {"previous": "online", "current": "offline"}]


def test_an_agent_who_went_offline_hands_their_open_conversations_to_an_online_colleague(db: Database) -> None:
    with harness(db, conversations=0, assignment_policy=POLICY) as h:
        ana, _, carla, _ = h.office.agent_ids
        whatsapp = h.office.inbox_ids[0]
        h.sim.set_agent_availability(h.account_id, carla, "online")
        display_id = h.sim.create_conversation(h.account_id, whatsapp, 1, message="Preciso de um advogado").display_id
        h.sim.assign(h.account_id, display_id, ana)
        h.new_service(assignment=True).run(SyncRequest(mode="full"))
        h.sim.set_agent_availability(h.account_id, ana, "offline")

        item = h.new_service(assignment=True).run(SyncRequest(mode="incremental")).integrations[0]

        assert (item.status, item.conversations_assigned, item.assignment_error) == ("ok", 1, None)
        assert h.sim.get_conversation(h.account_id, display_id).assignee_id == carla
        assert _assignee(db, h, display_id) == carla


def test_a_waiting_conversation_is_assigned_once_an_agent_comes_online(db: Database) -> None:
    with harness(db, conversations=0, assignment_policy=POLICY) as h:
        ana = h.office.agent_ids[0]
        whatsapp = h.office.inbox_ids[0]
        h.sim.set_agent_availability(h.account_id, ana, "offline")
        display_id = h.sim.create_conversation(h.account_id, whatsapp, 1, message="Alguém pode me atender?").display_id
        waiting = h.new_service(assignment=True).run(SyncRequest(mode="full")).integrations[0]
        assert (waiting.conversations_assigned, _assignee(db, h, display_id)) == (0, None)
        h.sim.set_agent_availability(h.account_id, ana, "online")

        item = h.new_service(assignment=True).run(SyncRequest(mode="incremental")).integrations[0]

        assert (item.status, item.conversations_assigned) == ("ok", 1)
        assert h.sim.get_conversation(h.account_id, display_id).assignee_id == ana
        assert _assignee(db, h, display_id) == ana


def test_without_an_assignment_policy_the_sync_assigns_nothing(db: Database) -> None:
    with harness(db, conversations=0) as h:
        whatsapp = h.office.inbox_ids[0]
        display_id = h.sim.create_conversation(h.account_id, whatsapp, 1, message="Olá").display_id

        item = h.new_service(assignment=True).run(SyncRequest(mode="full")).integrations[0]

        assert (item.status, item.conversations_assigned) == ("ok", 0)
        assert h.sim.get_conversation(h.account_id, display_id).assignee_id is None


def _assignee(db: Database, h: Harness, display_id: int) -> int | None:
    with db.transaction() as conn:
        row = conn.execute(
            "SELECT assignee_id FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s",
            (h.integration_id, display_id),
        ).fetchone()
    assert row is not None
    assignee: int | None = row["assignee_id"]
    return assignee


def _agent_events(db: Database, integration_id: int) -> list[tuple[int, str, dict[str, Any]]]:
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT agent_id, actor, data FROM eventos_chatwoot WHERE integration_id = %s AND type = 'agent.updated'"
            " ORDER BY id",
            (integration_id,),
        ).fetchall()
    return [(r["agent_id"], r["actor"], r["data"]) for r in rows]
