"""Step 1 of a sync: agents, their availability, and inbox and team membership.

Chatwoot sends no webhook for any of it, so this is the only way the mirror learns that an agent went offline
or joined an inbox. Everything is read first, then written in one transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..mapping import agent_states
from ..models.change import NewChange
from ..models.integration import Integration
from ..observability import logger
from ..uow import UnitOfWorkFactory
from .metered import MeteredClient


@dataclass
class AgentRefresh:
    """What the refresh changed. ``went_offline`` also holds agents who left the account."""

    changed: int = 0
    availability_changes: int = 0
    went_offline: list[int] = field(default_factory=list)
    came_online: list[int] = field(default_factory=list)


def refresh_agents(
    unit_of_work: UnitOfWorkFactory, client: MeteredClient, integration: Integration, *, actor: str
) -> AgentRefresh:
    """Mirror the agents of the integration's Chatwoot account and their inbox and team membership."""
    integration_id = integration.id
    agents = agent_states(integration_id, integration.account_id, client.list_agents())
    inboxes = client.list_inboxes()
    inbox_members = {inbox.id: [a.id for a in client.list_inbox_members(inbox.id)] for inbox in inboxes}
    teams = client.list_teams()
    team_members = {team.id: [a.id for a in client.list_team_members(team.id)] for team in teams}
    if not agents:
        # The token's own user is always listed: an empty list is a broken answer, not an account without agents,
        # and taking it literally would deactivate every agent.
        logger.warning("Chatwoot listed no agents; agents left unchanged", extra={"integration_id": integration_id})
        return AgentRefresh()
    with unit_of_work() as uow:
        repo = uow.agents
        changed = repo.upsert_from_chatwoot(integration_id, agents)
        for inbox_id, members in inbox_members.items():
            repo.replace_inbox_members(integration_id, inbox_id, members)
        for team_id, members in team_members.items():
            repo.replace_team_members(integration_id, team_id, members)
        repo.remove_groups_not_in(integration_id, inbox_ids=list(inbox_members), team_ids=list(team_members))
        # The counters are kept by triggers; this repairs the one race they cannot see (see recount_agent_load).
        repo.recount_load(integration_id)
        refresh = summarise_agent_changes(changed)
        uow.changes.append(_availability_events(integration_id, changed, actor))
    return refresh


def summarise_agent_changes(changed: list[dict[str, Any]]) -> AgentRefresh:
    refresh = AgentRefresh(changed=len(changed))
    for row in changed:
        if row.get("deactivated"):
            refresh.went_offline.append(row["agent_id"])
            continue
        previous, current = row.get("previous_availability"), row["availability"]
        if previous is not None and previous != current:
            refresh.availability_changes += 1
        if current == "offline" and previous not in (None, "offline"):
            refresh.went_offline.append(row["agent_id"])
        if current == "online" and previous != "online":
            refresh.came_online.append(row["agent_id"])
    return refresh


def _availability_events(integration_id: int, changed: list[dict[str, Any]], actor: str) -> list[NewChange]:
    return [
        NewChange(
            integration_id=integration_id,
            type="agent.updated",
            actor=actor,
            agent_id=row["agent_id"],
            data={"changes": {"availability": {"from": row["previous_availability"], "to": row["availability"]}}},
        )
        for row in changed
        if not row.get("deactivated")
        and row.get("previous_availability") is not None
        and row["previous_availability"] != row["availability"]
    ]
