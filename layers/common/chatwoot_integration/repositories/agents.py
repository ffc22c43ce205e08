"""SQL for agents, their inbox and team membership."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from psycopg import sql

from ..db import Connection
from ..models.agent import Agent, AgentFilter, AgentState
from ._sql import set_columns, to_json

_UPSERT = """
WITH incoming AS (
    SELECT * FROM jsonb_to_recordset(%(rows)s::jsonb)
        AS t(integration_id bigint, agent_id integer, name text, email text, role text, availability text)
),
prior AS (
    SELECT u.integration_id, u.agent_id, u.availability, u.active
    FROM usuarios_chatwoot u JOIN incoming i USING (integration_id, agent_id)
),
upserted AS (
    INSERT INTO usuarios_chatwoot AS u (integration_id, agent_id, name, email, role, availability, active)
    SELECT integration_id, agent_id, name, email, role, availability, true FROM incoming
    ORDER BY integration_id, agent_id
    ON CONFLICT (integration_id, agent_id) DO UPDATE SET
        name = EXCLUDED.name, email = EXCLUDED.email, role = EXCLUDED.role,
        availability = EXCLUDED.availability, active = true
    WHERE (u.name, u.email, u.role, u.availability, u.active)
          IS DISTINCT FROM (EXCLUDED.name, EXCLUDED.email, EXCLUDED.role, EXCLUDED.availability, true)
    RETURNING u.agent_id, (u.xmax = 0) AS inserted, u.availability, u.active
)
SELECT u.agent_id, u.inserted, u.availability, p.availability AS previous_availability,
       p.active AS previously_active
FROM upserted u LEFT JOIN prior p USING (agent_id)
"""


class AgentRepository:
    def __init__(self, conn: Connection) -> None:
        self._conn = conn

    def upsert_from_chatwoot(self, integration_id: int, agents: Sequence[AgentState]) -> list[dict[str, Any]]:
        """Write Chatwoot's view of the account's agents; keep capacity, skills and user links.

        Agents missing from ``agents`` are marked inactive (they left the account). Returns a row per agent
        that changed: ``agent_id, inserted, availability, previous_availability, previously_active``, plus
        ``{"agent_id", "deactivated": True}`` rows for agents that left.
        """
        changed: list[dict[str, Any]] = []
        if agents:
            rows = [a.model_dump() for a in agents if a.integration_id == integration_id]
            changed = list(self._conn.execute(_UPSERT, {"rows": to_json(rows)}).fetchall())
        gone = self._conn.execute(
            "UPDATE usuarios_chatwoot SET active = false"
            " WHERE integration_id = %s AND active AND NOT (agent_id = ANY(%s)) RETURNING agent_id",
            (integration_id, [a.agent_id for a in agents]),
        ).fetchall()
        changed.extend({"agent_id": r["agent_id"], "deactivated": True} for r in gone)
        return changed

    def get(self, integration_id: int, agent_id: int) -> Agent | None:
        row = self._conn.execute(
            "SELECT * FROM usuarios_chatwoot WHERE integration_id = %s AND agent_id = %s", (integration_id, agent_id)
        ).fetchone()
        return _agent(row) if row else None

    def list_agents(self, integration_id: int, filters: AgentFilter, *, default_capacity: int) -> list[Agent]:
        where: list[sql.Composable] = [sql.SQL("integration_id = %(integration_id)s")]
        params: dict[str, Any] = {"integration_id": integration_id, "default_capacity": default_capacity}
        if not filters.include_inactive:
            where.append(sql.SQL("active"))
        if filters.availability is not None:
            where.append(sql.SQL("availability = %(availability)s"))
            params["availability"] = filters.availability
        if filters.skill is not None:
            where.append(sql.SQL("skills @> ARRAY[%(skill)s]::text[]"))
            params["skill"] = filters.skill
        if filters.has_capacity is not None:
            has = sql.SQL("active_conversations < COALESCE(capacity, %(default_capacity)s)")
            where.append(has if filters.has_capacity else sql.SQL("NOT ({})").format(has))
        query = sql.SQL("SELECT * FROM usuarios_chatwoot WHERE {} ORDER BY agent_id").format(
            sql.SQL(" AND ").join(where)
        )
        return [_agent(r) for r in self._conn.execute(query, params)]

    def update(self, integration_id: int, agent_id: int, changes: dict[str, Any]) -> Agent | None:
        """Set local fields (capacity, skills, user_id) and availability after it was written to Chatwoot."""
        assignments = set_columns(changes, {"capacity", "skills", "user_id", "availability", "last_assigned_at"})
        if not changes:
            return self.get(integration_id, agent_id)
        params = {k: list(v) if isinstance(v, tuple) else v for k, v in changes.items()}
        params.update(integration_id=integration_id, agent_id=agent_id)
        row = self._conn.execute(
            sql.SQL(
                "UPDATE usuarios_chatwoot SET {} WHERE integration_id = %(integration_id)s AND agent_id = %(agent_id)s"
                " RETURNING *"
            ).format(assignments),
            params,
        ).fetchone()
        return _agent(row) if row else None

    def replace_inbox_members(self, integration_id: int, inbox_id: int, agent_ids: Sequence[int]) -> bool:
        return self._replace_members("membros_inbox_chatwoot", "inbox_id", integration_id, inbox_id, agent_ids)

    def replace_team_members(self, integration_id: int, team_id: int, agent_ids: Sequence[int]) -> bool:
        return self._replace_members("membros_equipe_chatwoot", "team_id", integration_id, team_id, agent_ids)

    def inbox_members(self, integration_id: int, inbox_id: int) -> list[int]:
        rows = self._conn.execute(
            "SELECT agent_id FROM membros_inbox_chatwoot WHERE integration_id = %s AND inbox_id = %s ORDER BY agent_id",
            (integration_id, inbox_id),
        )
        return [r["agent_id"] for r in rows]

    def team_members(self, integration_id: int, team_id: int) -> list[int]:
        rows = self._conn.execute(
            "SELECT agent_id FROM membros_equipe_chatwoot WHERE integration_id = %s AND team_id = %s ORDER BY agent_id",
            (integration_id, team_id),
        )
        return [r["agent_id"] for r in rows]

    def remove_groups_not_in(self, integration_id: int, *, inbox_ids: Sequence[int], team_ids: Sequence[int]) -> None:
        """Forget membership of inboxes and teams that no longer exist in Chatwoot."""
        self._conn.execute(
            "DELETE FROM membros_inbox_chatwoot WHERE integration_id = %s AND NOT (inbox_id = ANY(%s))",
            (integration_id, list(inbox_ids)),
        )
        self._conn.execute(
            "DELETE FROM membros_equipe_chatwoot WHERE integration_id = %s AND NOT (team_id = ANY(%s))",
            (integration_id, list(team_ids)),
        )

    def recount_load(self, integration_id: int) -> int:
        """Recompute every agent's active-conversation counter from the rows; returns how many were wrong."""
        row = self._conn.execute("SELECT recount_agent_load(%s) AS fixed", (integration_id,)).fetchone()
        return int(row["fixed"]) if row else 0

    def _replace_members(
        self, table: str, group_column: str, integration_id: int, group_id: int, agent_ids: Sequence[int]
    ) -> bool:
        wanted = sorted(set(agent_ids))
        params = {"integration_id": integration_id, "group_id": group_id, "agents": wanted}
        deleted = self._conn.execute(
            sql.SQL(
                "DELETE FROM {t} WHERE integration_id = %(integration_id)s AND {g} = %(group_id)s"
                " AND NOT (agent_id = ANY(%(agents)s))"
            ).format(t=sql.Identifier(table), g=sql.Identifier(group_column)),
            params,
        ).rowcount
        # Only agents already mirrored can be members (the agent refresh runs first).
        inserted = self._conn.execute(
            sql.SQL(
                "INSERT INTO {t} (integration_id, {g}, agent_id)"
                " SELECT %(integration_id)s, %(group_id)s, u.agent_id FROM usuarios_chatwoot u"
                " WHERE u.integration_id = %(integration_id)s AND u.agent_id = ANY(%(agents)s)"
                " ON CONFLICT DO NOTHING"
            ).format(t=sql.Identifier(table), g=sql.Identifier(group_column)),
            params,
        ).rowcount
        return bool(deleted or inserted)


def _agent(row: dict[str, Any]) -> Agent:
    return Agent.model_validate({k: row[k] for k in Agent.model_fields})
