"""The platform's use cases on agents: list, read, set availability (Chatwoot first) and local settings."""

from __future__ import annotations

import psycopg

from ..errors import Conflict, Forbidden, NotFound
from ..models.actor import Actor
from ..models.agent import Agent, AgentFilter, AgentPatch
from ..models.change import NewChange
from ..models.integration import AssignmentPolicy
from ..uow import UnitOfWorkFactory
from .assignment import AssignmentService
from .chatwoot_clients import ChatwootClients
from .conversations import chatwoot_errors

ADMIN_ONLY_FIELDS = frozenset({"capacity", "skills", "user_id"})


class AgentService:
    def __init__(
        self, unit_of_work: UnitOfWorkFactory, clients: ChatwootClients, assignment: AssignmentService | None = None
    ) -> None:
        self._unit_of_work = unit_of_work
        self._clients = clients
        self._assignment = assignment

    def list(self, integration_id: int, filters: AgentFilter) -> list[Agent]:
        with self._unit_of_work(read_only=True) as uow:
            integration = uow.integrations.get(integration_id)
            policy = integration.assignment_policy if integration else AssignmentPolicy()
            return uow.agents.list_agents(integration_id, filters, default_capacity=policy.default_capacity)

    def get(self, integration_id: int, agent_id: int) -> Agent:
        with self._unit_of_work(read_only=True) as uow:
            agent = uow.agents.get(integration_id, agent_id)
        if agent is None:
            raise NotFound(f"agent {agent_id} not found")
        return agent

    def update(self, caller: Actor, integration_id: int, agent_id: int, patch: AgentPatch) -> Agent:
        """Admins change anything; an agent may only set its own availability (its ``user_id`` is the caller)."""
        fields = patch.model_fields_set
        agent = self.get(integration_id, agent_id)
        if not caller.is_admin:
            if fields & ADMIN_ONLY_FIELDS:
                raise Forbidden("capacity, skills and user_id need the admin role")
            if agent.user_id is None or agent.user_id != caller.sub:
                raise Forbidden("agents may only change their own availability")
        if "availability" in fields and patch.availability is not None and patch.availability != agent.availability:
            _, client = self._clients.for_integration_id(integration_id)
            with chatwoot_errors("change the availability"):
                client.update_agent_availability(agent_id, patch.availability)
        changes = {name: getattr(patch, name) for name in fields if name in ADMIN_ONLY_FIELDS | {"availability"}}
        if "availability" in changes and changes["availability"] is None:
            del changes["availability"]
        if "skills" in changes:
            # Skills are matched against labels case-insensitively; they are kept lower-case and unique.
            changes["skills"] = sorted({skill.lower() for skill in changes["skills"] or []})
        try:
            with self._unit_of_work() as uow:
                updated = uow.agents.update(integration_id, agent_id, changes)
                if updated is None:
                    raise NotFound(f"agent {agent_id} not found")
                diff = {
                    k: {"from": getattr(agent, k), "to": getattr(updated, k)}
                    for k in changes
                    if getattr(agent, k) != getattr(updated, k)
                }
                if diff:
                    uow.changes.append(
                        [
                            NewChange(
                                integration_id=integration_id,
                                type="agent.updated",
                                actor=caller.sub,
                                agent_id=agent_id,
                                data={"changes": diff},
                            )
                        ]
                    )
        except psycopg.errors.UniqueViolation as exc:
            raise Conflict(f"user_id {patch.user_id} is already linked to another agent of this integration") from exc
        self._after_change(integration_id, agent, updated)
        return updated

    def _after_change(self, integration_id: int, before: Agent, after: Agent) -> None:
        """Capacity appeared (agent online, capacity raised): the backstop assigns waiting conversations. An agent
        going offline hands their conversations on when the policy says so."""
        if self._assignment is None:
            return
        went_online = after.availability == "online" and before.availability != "online"
        went_offline = after.availability == "offline" and before.availability != "offline"
        more_room = (after.capacity or 0) > (before.capacity or 0) or (
            before.capacity is not None and after.capacity is None
        )
        if went_offline:
            self._assignment.reassign_from_offline_agent(integration_id, after.agent_id)
        if went_online or more_room:
            self._assignment.backstop(integration_id)
