"""Smart assignment: the best available agent, within capacity, by skill, fair, and safe under concurrency.

One assignment is one transaction: lock the conversation, pick and lock the best eligible agent (agents
being assigned concurrently are skipped, capacity is re-checked on the locked row), tell Chatwoot, then write
the mirror and commit. Holding the two row locks across Chatwoot's call is what makes the reservation exact: if
Chatwoot refuses, the transaction rolls back and nothing was reserved; a webhook or sync writing the same
conversation meanwhile waits for the lock, and the ``conversation_updated`` echo of our own write later finds
the mirror already saying the same thing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from ..chatwoot.client import ChatwootClient
from ..chatwoot.errors import ChatwootError
from ..errors import Conflict, NotFound, UnprocessableEntity
from ..models.change import NewChange
from ..models.integration import AssignmentPolicy, Integration
from ..observability import logger
from ..uow import UnitOfWork, UnitOfWorkFactory
from .chatwoot_clients import ChatwootClients, deadline_from_context

if TYPE_CHECKING:
    from ..repositories.assignment import AssignmentRepository

Trigger = Literal["created", "reopened", "manual", "backstop", "agent_offline"]
ACTOR = "assignment"


@dataclass(frozen=True)
class AssignmentOutcome:
    conversation_id: int
    agent_id: int | None
    reason: str
    assigned: bool

    @property
    def waiting(self) -> bool:
        return not self.assigned


@dataclass
class BackstopReport:
    assigned: list[int] = field(default_factory=list)
    waiting: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)


def required_skills(policy: AssignmentPolicy, labels: Sequence[str], custom_attributes: dict[str, Any]) -> list[str]:
    """Skills a conversation needs: labels with the policy's prefix (``area:trabalhista`` → ``trabalhista``), and
    the values of the policy's custom attribute when one is set."""
    prefix = policy.skill_label_prefix
    skills = {
        label[len(prefix) :].lower() for label in labels if prefix and label.startswith(prefix) and label[len(prefix) :]
    }
    if policy.skill_attribute:
        value = custom_attributes.get(policy.skill_attribute)
        values = value if isinstance(value, list) else [value]
        skills |= {str(v).strip().lower() for v in values if v not in (None, "")}
    return sorted(skills)


def availabilities(policy: AssignmentPolicy) -> list[str]:
    return ["online", "busy"] if policy.busy_counts_as_available else ["online"]


class AssignmentService:
    def __init__(
        self,
        unit_of_work: UnitOfWorkFactory,
        clients: ChatwootClients,
        *,
        sleep: Callable[[float], None] = time.sleep,
        lock_wait_seconds: float = 5.0,
    ):
        self._unit_of_work = unit_of_work
        self._clients = clients
        self._sleep = sleep
        # How long to wait for eligible agents that concurrent assignments hold (each holds its agent for one
        # Chatwoot call); past it the conversation waits for the backstop.
        self._lock_wait_seconds = lock_wait_seconds

    def set_deadline_from(self, context: Any, *, margin_seconds: float = 2.0) -> None:
        """Chatwoot calls made for this invocation stop before the Lambda's deadline."""
        self._clients.set_deadline(deadline_from_context(context, margin_seconds=margin_seconds))

    # Entry points ------------------------------------------------------------------------------------

    def assign_best(
        self, integration_id: int, conversation_id: int, *, trigger: Trigger, actor: str = ACTOR
    ) -> AssignmentOutcome:
        """Give the conversation to the best eligible agent. Automatic triggers respect the policy's on/off switch
        and exclusion labels and only touch open, unassigned conversations; ``manual`` is an explicit request."""
        integration, client = self._clients.for_integration_id(integration_id)
        policy = integration.assignment_policy
        if trigger != "manual" and not policy.enabled:
            return AssignmentOutcome(conversation_id, None, "automatic assignment is off", assigned=False)
        return self._assign(integration, client, conversation_id, trigger=trigger, actor=actor)

    def assign_agent(
        self, integration_id: int, conversation_id: int, agent_id: int, *, actor: str
    ) -> AssignmentOutcome:
        """Assign a named agent (manual); capacity and eligibility are the caller's decision, membership is not."""
        _, client = self._clients.for_integration_id(integration_id)
        with self._unit_of_work() as uow:
            conversation = uow.assignment.lock_conversation(integration_id, conversation_id)
            if conversation is None:
                raise NotFound(f"conversation {conversation_id} not found")
            if uow.assignment.lock_agent(integration_id, agent_id) is None:
                raise UnprocessableEntity.not_an_agent(agent_id, integration_id, field="agent_id")
            self._tell_chatwoot(client, conversation_id, agent_id)
            uow.assignment.reserve(integration_id, conversation_id, agent_id)
            self._record(
                uow, integration_id, conversation_id, agent_id, "requested", actor, conversation["assignee_id"]
            )
        return AssignmentOutcome(conversation_id, agent_id, "requested", assigned=True)

    def backstop(self, integration_id: int, *, limit: int = 200) -> BackstopReport:
        """Assign waiting conversations, longest-waiting first, while agents have room."""
        report = BackstopReport()
        integration, client = self._clients.for_integration_id(integration_id)
        policy = integration.assignment_policy
        if not policy.enabled:
            return report
        while len(report.assigned) + len(report.waiting) + len(report.failed) < limit:
            waiting_id = None
            try:
                with self._unit_of_work() as uow:
                    repo = uow.assignment
                    if not repo.any_capacity(
                        integration_id, availabilities=availabilities(policy), default_capacity=policy.default_capacity
                    ):
                        break
                    skip = report.assigned + report.waiting + report.failed
                    waiting = repo.next_waiting(integration_id, exclude_labels=policy.exclude_labels, skip=skip)
                    if waiting is None:
                        break
                    waiting_id = waiting["conversation_id"]
                    outcome = self._choose_and_reserve(
                        uow, integration, client, waiting, trigger="backstop", actor=ACTOR
                    )
            except _ChatwootRefused as refused:
                assert waiting_id is not None
                self._record_failure(integration_id, waiting_id, refused.error)
                report.failed.append(waiting_id)
                continue
            (report.assigned if outcome.assigned else report.waiting).append(outcome.conversation_id)
        return report

    def reassign_from_offline_agent(self, integration_id: int, agent_id: int) -> BackstopReport:
        """Policy ``reassign_when_offline``: the open conversations of an agent who went offline go to others,
        or back to the queue (unassigned in Chatwoot) when nobody is eligible."""
        report = BackstopReport()
        integration, client = self._clients.for_integration_id(integration_id)
        policy = integration.assignment_policy
        if not (policy.enabled and policy.reassign_when_offline):
            return report
        with self._unit_of_work(read_only=True) as uow:
            conversation_ids = uow.assignment.open_conversations_of(integration_id, agent_id)
        for conversation_id in conversation_ids:
            outcome = self._assign(
                integration, client, conversation_id, trigger="agent_offline", actor=ACTOR, exclude=[agent_id]
            )
            (report.assigned if outcome.assigned else report.waiting).append(conversation_id)
        return report

    def react_to_changes(
        self, integration_id: int, conversation_ids: Sequence[int], *, backstop_limit: int = 20
    ) -> BackstopReport:
        """After webhooks changed conversations: assign those now open and unassigned (created or reopened, not a
        bot's), hand on those reopened while their assignee is offline (when the policy says so), and run a short
        backstop when a change may have freed capacity (a conversation resolved, snoozed or unassigned)."""
        report = BackstopReport()
        integration, client = self._clients.for_integration_id(integration_id)
        policy = integration.assignment_policy
        if not policy.enabled or not conversation_ids:
            return report
        with self._unit_of_work(read_only=True) as uow:
            rows = uow.assignment.reaction_candidates(integration_id, conversation_ids)
        freed = False
        for row in rows:
            cid, status, assignee = row["conversation_id"], row["status"], row["assignee_id"]
            if status == "open" and assignee is None and row["agent_bot_id"] is None:
                outcome = self._assign(integration, client, cid, trigger="created", actor=ACTOR)
            elif (
                status == "open"
                and assignee is not None
                and policy.reassign_when_offline
                and (row["assignee_availability"] == "offline")
            ):
                outcome = self._assign(
                    integration, client, cid, trigger="agent_offline", actor=ACTOR, exclude=[assignee]
                )
            else:
                freed = freed or status in ("resolved", "snoozed") or assignee is None
                continue
            (report.assigned if outcome.assigned else report.waiting).append(cid)
        if freed:
            more = self.backstop(integration_id, limit=backstop_limit)
            report.assigned += more.assigned
            report.waiting += more.waiting
            report.failed += more.failed
        return report

    # The transaction ---------------------------------------------------------------------------------

    def _assign(
        self,
        integration: Integration,
        client: ChatwootClient,
        conversation_id: int,
        *,
        trigger: Trigger,
        actor: str,
        exclude: Sequence[int] = (),
    ) -> AssignmentOutcome:
        try:
            with self._unit_of_work() as uow:
                conversation = uow.assignment.lock_conversation(integration.id, conversation_id)
                if conversation is None:
                    raise NotFound(f"conversation {conversation_id} not found")
                outcome = self._choose_and_reserve(
                    uow, integration, client, conversation, trigger=trigger, actor=actor, exclude=exclude
                )
        except _ChatwootRefused as refused:
            self._record_failure(integration.id, conversation_id, refused.error)
            if trigger == "manual":
                raise Conflict(f"Chatwoot refused the assignment: {refused.error.message}") from refused.error
            return AssignmentOutcome(
                conversation_id, None, f"Chatwoot refused: {refused.error.message}", assigned=False
            )
        if trigger == "manual" and not outcome.assigned:
            raise Conflict(outcome.reason)
        return outcome

    def _choose_and_reserve(
        self,
        uow: UnitOfWork,
        integration: Integration,
        client: ChatwootClient,
        conversation: dict[str, Any],
        *,
        trigger: Trigger,
        actor: str,
        exclude: Sequence[int] = (),
    ) -> AssignmentOutcome:
        integration_id = integration.id
        conversation_id = conversation["conversation_id"]
        policy = integration.assignment_policy
        repo = uow.assignment
        not_eligible = self._why_not_assignable(conversation, policy, trigger, exclude)
        if not_eligible:
            return AssignmentOutcome(conversation_id, None, not_eligible, assigned=False)
        skills = required_skills(policy, conversation["labels"], conversation["custom_attributes"])
        pick: dict[str, Any] = {
            "mode": policy.mode,
            "availabilities": availabilities(policy),
            "default_capacity": policy.default_capacity,
            "inbox_id": conversation["inbox_id"],
            "team_id": conversation["team_id"],
            "exclude": list(exclude),
        }
        agent, busy = self._pick(repo, integration_id, skills=skills, criteria=pick)
        reason = f"{policy.mode}" + (f", skills {', '.join(skills)}" if skills else "")
        if agent is None and not busy and skills and policy.skill_fallback == "any":
            agent, busy = self._pick(repo, integration_id, skills=[], criteria=pick)
            reason = f"{policy.mode}, no agent with {', '.join(skills)}: fallback to any"
        if agent is None:
            if busy:
                waiting = "every eligible agent is being assigned another conversation; the backstop retries"
            else:
                waiting = "no eligible agent" + (f" with skills {', '.join(skills)}" if skills else "")
            if trigger == "agent_offline":
                try:
                    client.unassign(conversation_id)
                except ChatwootError as exc:
                    raise _ChatwootRefused(exc) from exc
                repo.release(integration_id, conversation_id)
                self._record(uow, integration_id, conversation_id, None, waiting, actor, conversation["assignee_id"])
            repo.mark_waiting(integration_id, conversation_id, waiting)
            return AssignmentOutcome(conversation_id, None, waiting, assigned=False)
        self._tell_chatwoot(client, conversation_id, agent["agent_id"])
        repo.reserve(integration_id, conversation_id, agent["agent_id"])
        self._record(
            uow, integration_id, conversation_id, agent["agent_id"], reason, actor, conversation["assignee_id"]
        )
        return AssignmentOutcome(conversation_id, agent["agent_id"], reason, assigned=True)

    def _pick(
        self, repo: AssignmentRepository, integration_id: int, *, skills: Sequence[str], criteria: dict[str, Any]
    ) -> tuple[dict[str, Any] | None, bool]:
        """The best eligible agent, locked, or None; and whether eligible agents exist but stayed busy.

        Agents held by concurrent assignments are skipped, never waited on in the database (two assigners that
        wait on each other's agents would deadlock). When only held agents are eligible, try again after a
        short pause: each holder keeps its agent for one Chatwoot call.
        """
        pause, waited = 0.005, 0.0
        while True:
            agent = repo.pick_agent(integration_id, skills=skills, **criteria)
            if agent is not None:
                return agent, False
            if not repo.eligible_exists(integration_id, skills=skills, **criteria):
                return None, False
            if waited >= self._lock_wait_seconds:
                return None, True
            self._sleep(pause)
            waited += pause
            pause = min(pause * 2, 0.2)

    @staticmethod
    def _why_not_assignable(
        conversation: dict[str, Any], policy: AssignmentPolicy, trigger: Trigger, exclude: Sequence[int]
    ) -> str | None:
        if trigger == "agent_offline":
            return (
                None
                if conversation["assignee_id"] in exclude and conversation["status"] == "open"
                else "no longer assigned to the agent"
            )
        if conversation["status"] != "open":
            return f"conversation is {conversation['status']}"
        if trigger == "manual":
            return None
        if conversation["agent_bot_id"] is not None:
            return "a bot has the conversation"
        if conversation["assignee_id"] is not None:
            return "already assigned"
        excluded = sorted(set(conversation["labels"]) & set(policy.exclude_labels))
        if excluded:
            return f"excluded by label {', '.join(excluded)}"
        return None

    def _tell_chatwoot(self, client: ChatwootClient, conversation_id: int, agent_id: int) -> None:
        try:
            client.assign_agent(conversation_id, agent_id)
        except ChatwootError as exc:
            raise _ChatwootRefused(exc) from exc

    def _record(
        self,
        uow: UnitOfWork,
        integration_id: int,
        conversation_id: int,
        agent_id: int | None,
        reason: str,
        actor: str,
        previous: int | None,
    ) -> None:
        uow.changes.append(
            [
                NewChange(
                    integration_id=integration_id,
                    type="conversation.assigned" if agent_id else "conversation.unassigned",
                    actor=actor,
                    conversation_id=conversation_id,
                    agent_id=agent_id,
                    data={"reason": reason, "previous_assignee_id": previous},
                )
            ]
        )

    def _record_failure(self, integration_id: int, conversation_id: int, error: ChatwootError) -> None:
        logger.warning(
            "assignment refused by Chatwoot",
            extra={"integration_id": integration_id, "conversation_id": conversation_id, "status": error.status_code},
        )
        with self._unit_of_work() as uow:
            uow.assignment.mark_waiting(integration_id, conversation_id, f"Chatwoot refused: {error.message}")
            uow.changes.append(
                [
                    NewChange(
                        integration_id=integration_id,
                        type="conversation.assignment_failed",
                        actor=ACTOR,
                        conversation_id=conversation_id,
                        data={"error": error.message},
                    )
                ]
            )


class _ChatwootRefused(Exception):
    def __init__(self, error: ChatwootError) -> None:
        super().__init__(error.message)
        self.error = error
