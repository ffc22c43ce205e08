"""SQL of smart assignment: pick and lock the best eligible agent, find waiting conversations."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal

from psycopg import sql

from ..db import Connection

Mode = Literal["balanced", "round_robin"]

# Eligibility, all in one place. Parameters: integration_id, availabilities, default_capacity, inbox_id, team_id,
# skills (every one required; skills are stored lower-case), exclude (agent ids never to pick, e.g. the one going offline).
_ELIGIBLE = """
    u.integration_id = %(integration_id)s
    AND u.active
    AND u.availability = ANY(%(availabilities)s)
    AND u.active_conversations < COALESCE(u.capacity, %(default_capacity)s)
    AND NOT (u.agent_id = ANY(%(exclude)s))
    AND (%(inbox_id)s::integer IS NULL OR EXISTS (
            SELECT 1 FROM membros_inbox_chatwoot m
            WHERE m.integration_id = u.integration_id AND m.inbox_id = %(inbox_id)s AND m.agent_id = u.agent_id))
    AND (%(team_id)s::integer IS NULL OR EXISTS (
            SELECT 1 FROM membros_equipe_chatwoot t
            WHERE t.integration_id = u.integration_id AND t.team_id = %(team_id)s AND t.agent_id = u.agent_id))
    AND u.skills @> %(skills)s::text[]
"""

_ORDER = {
    # Lowest load ratio first; then whoever waited longest for an assignment; then the lowest id.
    "balanced": "u.active_conversations::float / NULLIF(COALESCE(u.capacity, %(default_capacity)s), 0),"
    " u.last_assigned_at ASC NULLS FIRST, u.agent_id",
    "round_robin": "u.last_assigned_at ASC NULLS FIRST, u.agent_id",
}


class AssignmentRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def lock_conversation(self, integration_id: int, conversation_id: int) -> dict[str, Any] | None:
        return self._conn.execute(
            "SELECT * FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s AND deleted_at IS NULL"
            " FOR UPDATE",
            (integration_id, conversation_id),
        ).fetchone()

    def lock_agent(self, integration_id: int, agent_id: int) -> dict[str, Any] | None:
        """An active agent of the account, row-locked for the rest of the transaction."""
        return self._conn.execute(
            "SELECT * FROM usuarios_chatwoot WHERE integration_id = %s AND agent_id = %s AND active FOR UPDATE",
            (integration_id, agent_id),
        ).fetchone()

    def reaction_candidates(self, integration_id: int, conversation_ids: Sequence[int]) -> list[dict[str, Any]]:
        """The live conversations among ``conversation_ids`` with their assignee's availability, longest-waiting
        first (what assignment looks at after webhooks changed them)."""
        return self._conn.execute(
            "SELECT c.conversation_id, c.status, c.assignee_id, c.agent_bot_id, u.availability AS assignee_availability"
            " FROM conversas_chatwoot c LEFT JOIN usuarios_chatwoot u"
            " ON u.integration_id = c.integration_id AND u.agent_id = c.assignee_id"
            " WHERE c.integration_id = %s AND c.conversation_id = ANY(%s) AND c.deleted_at IS NULL"
            " ORDER BY COALESCE(c.waiting_since, c.chatwoot_created_at), c.conversation_id",
            (integration_id, sorted(set(conversation_ids))),
        ).fetchall()

    def pick_agent(self, integration_id: int, **criteria: Any) -> dict[str, Any] | None:
        """The best eligible agent that no concurrent assignment holds, row-locked (``SKIP LOCKED``).

        The capacity condition is re-checked on the locked row, so two assigners can never overfill one agent,
        and parallel assigners spread over agents instead of queueing on one. It never waits for a lock, so
        assigners cannot deadlock on each other. ``criteria``: mode, availabilities, default_capacity,
        inbox_id, team_id, skills, exclude.
        """
        query = sql.SQL(
            "SELECT u.* FROM usuarios_chatwoot u WHERE {eligible} ORDER BY {order} LIMIT 1 FOR UPDATE OF u SKIP LOCKED"
        ).format(eligible=sql.SQL(_ELIGIBLE), order=sql.SQL(_ORDER[criteria["mode"]]))
        return self._conn.execute(query, _params(integration_id, criteria)).fetchone()

    def eligible_exists(self, integration_id: int, **criteria: Any) -> bool:
        """Whether any agent is eligible, locked or not (when ``pick_agent`` found none: busy, or nobody?)."""
        query = sql.SQL("SELECT EXISTS (SELECT 1 FROM usuarios_chatwoot u WHERE {eligible}) AS any").format(
            eligible=sql.SQL(_ELIGIBLE)
        )
        row = self._conn.execute(query, _params(integration_id, criteria)).fetchone()
        return bool(row and row["any"])

    def reserve(self, integration_id: int, conversation_id: int, agent_id: int) -> None:
        self._conn.execute(
            "UPDATE conversas_chatwoot SET assignee_id = %s, assignment_error = NULL"
            " WHERE integration_id = %s AND conversation_id = %s",
            (agent_id, integration_id, conversation_id),
        )
        self._conn.execute(
            "UPDATE usuarios_chatwoot SET last_assigned_at = clock_timestamp() WHERE integration_id = %s AND agent_id = %s",
            (integration_id, agent_id),
        )

    def release(self, integration_id: int, conversation_id: int) -> None:
        """The conversation has nobody assigned any more (after Chatwoot unassigned it)."""
        self._conn.execute(
            "UPDATE conversas_chatwoot SET assignee_id = NULL WHERE integration_id = %s AND conversation_id = %s",
            (integration_id, conversation_id),
        )

    def mark_waiting(self, integration_id: int, conversation_id: int, reason: str | None) -> None:
        self._conn.execute(
            "UPDATE conversas_chatwoot SET assignment_error = %s WHERE integration_id = %s AND conversation_id = %s"
            " AND assignment_error IS DISTINCT FROM %s",
            (reason, integration_id, conversation_id, reason),
        )

    def next_waiting(
        self, integration_id: int, *, exclude_labels: Sequence[str], skip: Sequence[int]
    ) -> dict[str, Any] | None:
        """The longest-waiting open, unassigned conversation, locked (concurrent backstops take different ones)."""
        return self._conn.execute(
            "SELECT * FROM conversas_chatwoot"
            " WHERE integration_id = %(integration_id)s AND deleted_at IS NULL AND status = 'open' AND assignee_id IS NULL"
            " AND agent_bot_id IS NULL AND NOT (labels && %(exclude)s::text[]) AND NOT (conversation_id = ANY(%(skip)s))"
            " ORDER BY COALESCE(waiting_since, chatwoot_created_at), conversation_id"
            " LIMIT 1 FOR UPDATE SKIP LOCKED",
            {"integration_id": integration_id, "exclude": list(exclude_labels), "skip": list(skip)},
        ).fetchone()

    def open_conversations_of(self, integration_id: int, agent_id: int) -> list[int]:
        rows = self._conn.execute(
            "SELECT conversation_id FROM conversas_chatwoot WHERE integration_id = %s AND assignee_id = %s"
            " AND status = 'open' AND deleted_at IS NULL ORDER BY COALESCE(waiting_since, chatwoot_created_at)",
            (integration_id, agent_id),
        )
        return [r["conversation_id"] for r in rows]

    def any_capacity(self, integration_id: int, *, availabilities: Sequence[str], default_capacity: int) -> bool:
        row = self._conn.execute(
            "SELECT EXISTS (SELECT 1 FROM usuarios_chatwoot WHERE integration_id = %s AND active"
            " AND availability = ANY(%s) AND active_conversations < COALESCE(capacity, %s)) AS any",
            (integration_id, list(availabilities), default_capacity),
        ).fetchone()
        return bool(row and row["any"])


def _params(integration_id: int, criteria: dict[str, Any]) -> dict[str, Any]:
    return {
        "integration_id": integration_id,
        "availabilities": list(criteria["availabilities"]),
        "default_capacity": criteria["default_capacity"],
        "inbox_id": criteria["inbox_id"],
        "team_id": criteria["team_id"],
        "skills": [skill.lower() for skill in criteria["skills"]],
        "exclude": list(criteria.get("exclude", ())),
    }
