"""Smart assignment: eligibility (table-driven), choice, fairness, failures, echoes and the backstop."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from chatwoot_integration.chatwoot.models import Conversation as RestConversation
from chatwoot_integration.db import Database
from chatwoot_integration.errors import Conflict
from chatwoot_integration.mapping import conversation_state
from chatwoot_integration.models.integration import AssignmentPolicy
from chatwoot_integration.services.assignment import required_skills
from chatwoot_integration.services.mirror import mirror_conversations
from chatwoot_integration.uow import UnitOfWork
from chatwoot_simulator import Simulator, serve
from tests.assignment_support import Office, open_office


@pytest.fixture
def chatwoot() -> Iterator[tuple[Simulator, str]]:
    sim = Simulator(seed=11, activity_messages=False)
    with serve(simulator=sim) as server:
        yield sim, server.url
    sim.close()


@pytest.fixture
def office(db: Database, chatwoot: tuple[Simulator, str]) -> Office:
    sim, url = chatwoot
    return open_office(db, sim, url, agents=3)


# Eligibility, one rule per row: (setup, conversation options, policy, expected agent index or None) ----------


def _none(office: Office) -> None:
    return None


def _second_busy(office: Office) -> None:
    office.set_local(office.agents[0], availability="offline")
    office.set_local(office.agents[1], availability="busy")
    office.set_local(office.agents[2], availability="offline")


def _only_third_in_inbox(office: Office) -> None:
    with office.db.transaction() as conn:
        conn.execute("DELETE FROM membros_inbox_chatwoot WHERE agent_id <> %s", (office.agents[2],))


def _team_of_second(office: Office) -> None:
    with office.db.transaction() as conn:
        conn.execute(
            "INSERT INTO membros_equipe_chatwoot (integration_id, team_id, agent_id) VALUES (%s, 5, %s)",
            (office.integration_id, office.agents[1]),
        )


def _first_full(office: Office) -> None:
    office.set_local(office.agents[0], capacity=0)


def _all_full(office: Office) -> None:
    for agent in office.agents:
        office.set_local(agent, capacity=0)


def _second_knows_labour_law(office: Office) -> None:
    office.set_local(office.agents[1], skills=["trabalhista"])


def _first_inactive(office: Office) -> None:
    office.set_local(office.agents[0], active=False)


ELIGIBILITY = [
    ("online member, lowest id wins a tie", _none, {}, {}, 0),
    ("busy agents are not available", _second_busy, {}, {}, None),
    ("busy counts when the policy says so", _second_busy, {}, {"busy_counts_as_available": True}, 1),
    ("inbox membership is required", _only_third_in_inbox, {}, {}, 2),
    ("team membership is required when the conversation has a team", _team_of_second, {"team_id": 5}, {}, 1),
    ("an agent at capacity is skipped", _first_full, {}, {}, 1),
    ("nobody under capacity", _all_full, {}, {}, None),
    (
        "the required skill comes from the label prefix",
        _second_knows_labour_law,
        {"labels": ("area:trabalhista",)},
        {},
        1,
    ),
    ("no skilled agent and fallback wait", _none, {"labels": ("area:tributario",)}, {}, None),
    ("no skilled agent and fallback any", _none, {"labels": ("area:tributario",)}, {"skill_fallback": "any"}, 0),
    ("an exclusion label keeps it out", _none, {"labels": ("vip",)}, {"exclude_labels": ["vip"]}, None),
    ("agents who left the account are never picked", _first_inactive, {}, {}, 1),
    ("pending conversations belong to a bot", _none, {"status": "pending"}, {}, None),
]


@pytest.mark.parametrize(
    ("setup", "conversation", "policy", "expected"),
    [row[1:] for row in ELIGIBILITY],
    ids=[row[0] for row in ELIGIBILITY],
)
def test_eligibility(
    office: Office, setup: Any, conversation: dict[str, Any], policy: dict[str, Any], expected: int | None
) -> None:
    setup(office)
    if "team_id" in conversation:
        team = office.sim.create_team(office.account_id, "Trabalhista", members=[office.agents[1]])
        conversation = {**conversation, "team_id": team.id}
        with office.db.transaction() as conn:
            conn.execute("UPDATE membros_equipe_chatwoot SET team_id = %s WHERE team_id = 5", (team.id,))
    if policy:
        office.set_policy(**policy)
    cid = office.new_conversation(**conversation)
    outcome = office.service.assign_best(office.integration_id, cid, trigger="created")
    want = None if expected is None else office.agents[expected]
    assert outcome.agent_id == want, outcome.reason
    assert office.assignee(cid) == want
    assert office.sim.get_conversation(office.account_id, cid).assignee_id == want


def test_required_skills_from_labels_and_attribute() -> None:
    policy = AssignmentPolicy(skill_label_prefix="area:", skill_attribute="area_juridica")
    assert required_skills(policy, ["area:Trabalhista", "urgente", "area:"], {"area_juridica": ["Civel"]}) == [
        "civel",
        "trabalhista",
    ]


def test_switched_off_policy_assigns_nothing_automatically(office: Office) -> None:
    office.set_policy(enabled=False)
    cid = office.new_conversation()
    outcome = office.service.assign_best(office.integration_id, cid, trigger="created")
    assert not outcome.assigned
    assert outcome.reason == "automatic assignment is off"
    manual = office.service.assign_best(office.integration_id, cid, trigger="manual", actor="admin")
    assert manual.assigned


def test_balanced_fairness_over_ten_equal_agents(db: Database, chatwoot: tuple[Simulator, str]) -> None:
    sim, url = chatwoot
    office = open_office(db, sim, url, agents=10, default_capacity=100)
    for _ in range(100):
        office.service.assign_best(office.integration_id, office.new_conversation(), trigger="created")
    loads = office.loads()
    assert sum(loads.values()) == 100
    assert max(loads.values()) - min(loads.values()) <= 1


# Full, and half full: the loads follow the 2/4/8 ratio as they grow.
@pytest.mark.parametrize(("conversations", "loads"), [(14, [2, 4, 8]), (7, [1, 2, 4])])
def test_balanced_follows_capacity_ratios(
    db: Database, chatwoot: tuple[Simulator, str], conversations: int, loads: list[int]
) -> None:
    sim, url = chatwoot
    office = open_office(db, sim, url, agents=3)
    for agent, capacity in zip(office.agents, (2, 4, 8), strict=True):
        office.set_local(agent, capacity=capacity)
    for _ in range(conversations):
        office.service.assign_best(office.integration_id, office.new_conversation(), trigger="created")
    assert [office.loads()[a] for a in office.agents] == loads


def test_round_robin_gives_the_least_recently_assigned(office: Office) -> None:
    office.set_policy(mode="round_robin", default_capacity=100)
    picked = [
        office.service.assign_best(office.integration_id, office.new_conversation(), trigger="created").agent_id
        for _ in range(6)
    ]
    assert picked == office.agents + office.agents


def test_chatwoot_failure_releases_the_reservation(office: Office) -> None:
    cid = office.new_conversation()
    before = office.loads()
    office.sim.faults.fail_next(50, status=500)
    outcome = office.service.assign_best(office.integration_id, cid, trigger="created")
    assert not outcome.assigned
    assert "Chatwoot refused" in outcome.reason
    assert office.assignee(cid) is None
    assert office.loads() == before
    row = (
        office.db.connection()
        .execute("SELECT assignment_error FROM conversas_chatwoot WHERE conversation_id = %s", (cid,))
        .fetchone()
    )
    assert row is not None and row["assignment_error"].startswith("Chatwoot refused")
    office.sim.faults.clear()
    for agent in office.agents:
        office.set_local(agent, availability="offline")
    with pytest.raises(Conflict, match="no eligible agent"):
        office.service.assign_best(office.integration_id, cid, trigger="manual", actor="admin")


def test_the_echo_of_our_own_assignment_changes_nothing(office: Office) -> None:
    cid = office.new_conversation()
    outcome = office.service.assign_best(office.integration_id, cid, trigger="created")
    loads = office.loads()
    events_before = office.db.connection().execute("SELECT count(*) AS n FROM eventos_chatwoot").fetchone()
    echo = RestConversation.model_validate(office.sim.rest_conversation(office.account_id, cid))
    with UnitOfWork(office.db) as uow:
        outcomes = mirror_conversations(
            uow, [conversation_state(office.integration_id, echo)], actor="chatwoot", mark_synced=False
        )
    assert office.assignee(cid) == outcome.agent_id
    assert office.loads() == loads
    assert all(not o.changed for o in outcomes)
    events_after = office.db.connection().execute("SELECT count(*) AS n FROM eventos_chatwoot").fetchone()
    assert events_after == events_before


def test_backstop_assigns_waiting_conversations_longest_waiting_first(office: Office) -> None:
    for agent in office.agents:
        office.set_local(agent, availability="offline")
    waiting = [office.new_conversation() for _ in range(3)]
    for cid in waiting:
        assert not office.service.assign_best(office.integration_id, cid, trigger="created").assigned
    office.set_local(office.agents[0], availability="online", capacity=2)
    report = office.service.backstop(office.integration_id)
    assert report.assigned == waiting[:2]  # oldest first, until the agent is full
    assert office.assignee(waiting[2]) is None


def test_an_agent_going_offline_hands_conversations_on(office: Office) -> None:
    office.set_policy(reassign_when_offline=True, mode="round_robin")
    cids = [office.new_conversation() for _ in range(3)]
    for cid in cids:
        office.service.assign_best(office.integration_id, cid, trigger="created")
    leaving = office.agents[0]
    mine = [cid for cid in cids if office.assignee(cid) == leaving]
    assert mine
    office.set_local(leaving, availability="offline")
    report = office.service.reassign_from_offline_agent(office.integration_id, leaving)
    assert sorted(report.assigned) == sorted(mine)
    for cid in mine:
        assert office.assignee(cid) not in (None, leaving)
        assert office.sim.get_conversation(office.account_id, cid).assignee_id == office.assignee(cid)


def test_offline_hand_over_with_nobody_left_puts_them_back_in_the_queue(office: Office) -> None:
    office.set_policy(reassign_when_offline=True)
    cid = office.new_conversation()
    agent = office.service.assign_best(office.integration_id, cid, trigger="created").agent_id
    for other in office.agents:
        office.set_local(other, availability="offline")
    assert agent is not None
    report = office.service.reassign_from_offline_agent(office.integration_id, agent)
    assert report.waiting == [cid]
    assert office.assignee(cid) is None
    assert office.sim.get_conversation(office.account_id, cid).assignee_id is None
