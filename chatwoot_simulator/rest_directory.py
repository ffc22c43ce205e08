"""The account's directory endpoints: agents, inboxes and their members, teams and their members, contacts.

Agents, inbox and team members and inboxes are listed by name (then id) and teams by id, as Chatwoot's
queries order them; only an administrator may change an agent.
"""

from __future__ import annotations

from pydantic import BaseModel

from chatwoot_simulator.presenters import rest_agent, rest_contact, rest_inbox, rest_team
from chatwoot_simulator.rest_context import RequestContext
from chatwoot_simulator.rest_responses import NOT_ALLOWED, HttpError, RestResponse, json_response
from chatwoot_simulator.state import Agent, Availability, Role


class AgentUpdateBody(BaseModel):
    name: str | None = None
    role: Role | None = None
    availability: Availability | None = None
    auto_offline: bool | None = None


def _sorted_agents(agents: list[Agent]) -> list[Agent]:
    return sorted(agents, key=lambda agent: (agent.name.lower(), agent.id))


def list_agents(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        agents = _sorted_agents(store.agents_of(context.account_id))
        return json_response(200, [rest_agent(agent) for agent in agents])


def update_agent(context: RequestContext) -> RestResponse:
    if context.viewer.role != "administrator":
        raise HttpError(401, NOT_ALLOWED)
    body = AgentUpdateBody.model_validate(context.body)
    agent = context.sim.update_agent(
        context.account_id,
        context.path["agent_id"],
        name=body.name,
        role=body.role,
        availability=body.availability,
        auto_offline=body.auto_offline,
    )
    return json_response(200, rest_agent(agent))


def list_inboxes(context: RequestContext) -> RestResponse:
    viewer = context.viewer
    with context.sim.locked() as store:
        inboxes = sorted(
            (
                inbox
                for inbox in store.inboxes.values()
                if inbox.account_id == context.account_id
                and (viewer.role == "administrator" or viewer.id in inbox.member_ids)
            ),
            key=lambda inbox: (inbox.name.lower(), inbox.id),
        )
        return json_response(200, {"payload": [rest_inbox(inbox) for inbox in inboxes]})


def list_inbox_members(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        inbox = store.inbox(context.account_id, context.path["inbox_id"])
        members = _sorted_agents([store.agents[agent_id] for agent_id in inbox.member_ids])
        return json_response(200, {"payload": [rest_agent(agent) for agent in members]})


def list_teams(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        teams = sorted(
            (team for team in store.teams.values() if team.account_id == context.account_id),
            key=lambda team: team.id,
        )
        return json_response(200, [rest_team(team, viewer_id=context.viewer.id) for team in teams])


def list_team_members(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        team = store.team(context.account_id, context.path["team_id"])
        members = _sorted_agents([store.agents[agent_id] for agent_id in team.member_ids])
        return json_response(200, [rest_agent(agent) for agent in members])


def show_contact(context: RequestContext) -> RestResponse:
    with context.sim.locked() as store:
        contact = store.contact(context.account_id, context.path["contact_id"])
        return json_response(200, {"payload": rest_contact(store, contact, with_contact_inboxes=True)})
