"""A simulated Chatwoot account with agents and an inbox, mirrored, for the assignment tests."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chatwoot_integration.chatwoot.models import Conversation as RestConversation
from chatwoot_integration.db import Database
from chatwoot_integration.mapping import conversation_state
from chatwoot_integration.models.integration import AssignmentPolicyPatch, IntegrationChanges
from chatwoot_integration.services.assignment import AssignmentService
from chatwoot_integration.services.chatwoot_clients import ChatwootClients
from chatwoot_integration.services.integrations import ensure_local_integration
from chatwoot_integration.services.mirror import mirror_conversations
from chatwoot_integration.uow import UnitOfWork
from chatwoot_simulator import Simulator
from tests.api_support import TENANT, mirror_account
from tests.graph import graph


@dataclass
class Office:
    sim: Simulator
    db: Database
    account_id: int
    integration_id: int
    inbox_id: int
    agents: list[int]
    clients: ChatwootClients
    service: AssignmentService

    def set_policy(self, **policy: Any) -> None:
        graph(self.db).integrations.update(
            TENANT,
            self.integration_id,
            IntegrationChanges(assignment_policy=AssignmentPolicyPatch(**policy)),
            actor="test",
        )

    def new_conversation(
        self,
        *,
        labels: tuple[str, ...] = (),
        inbox_id: int | None = None,
        team_id: int | None = None,
        status: str = "open",
    ) -> int:
        contact = self.sim.create_contact(self.account_id, "Cliente")
        conversation = self.sim.create_conversation(
            self.account_id,
            inbox_id or self.inbox_id,
            contact.id,
            message="Olá",
            labels=list(labels),
            status=status,
            team_id=team_id,
        )
        self.mirror(conversation.display_id)
        return conversation.display_id

    def mirror(self, *display_ids: int) -> None:
        states = [
            conversation_state(
                self.integration_id, RestConversation.model_validate(self.sim.rest_conversation(self.account_id, d))
            )
            for d in display_ids
        ]
        with UnitOfWork(self.db) as uow:
            mirror_conversations(uow, states, actor="chatwoot", mark_synced=False)

    def waiting_conversations(self, count: int) -> list[int]:
        """``count`` open, unassigned conversations of one client in the office's inbox, mirrored in one batch."""
        contact = self.sim.create_contact(self.account_id, "Cliente")
        ids = [
            self.sim.create_conversation(self.account_id, self.inbox_id, contact.id, message="Oi").display_id
            for _ in range(count)
        ]
        self.mirror(*ids)
        return ids

    def loads(self) -> dict[int, int]:
        rows = self.db.connection().execute(
            "SELECT agent_id, active_conversations FROM usuarios_chatwoot"
            " WHERE integration_id = %s AND agent_id = ANY(%s)",
            (self.integration_id, self.agents),
        )
        return {r["agent_id"]: r["active_conversations"] for r in rows}

    def assignee(self, display_id: int) -> int | None:
        row = (
            self.db.connection()
            .execute(
                "SELECT assignee_id FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s",
                (self.integration_id, display_id),
            )
            .fetchone()
        )
        return None if row is None else row["assignee_id"]

    def set_local(self, agent_id: int, **values: Any) -> None:
        with self.db.transaction() as conn:
            for column, value in values.items():
                conn.execute(
                    f"UPDATE usuarios_chatwoot SET {column} = %s WHERE integration_id = %s AND agent_id = %s",
                    (value, self.integration_id, agent_id),
                )


def open_office(
    db: Database, sim: Simulator, url: str, *, agents: int = 3, availability: str = "online", **policy: Any
) -> Office:
    account = sim.create_account("Advocacia Teste", admin_name=None)
    admin = sim.create_agent(account.id, "Admin", role="administrator", availability="offline")
    agent_ids = [sim.create_agent(account.id, f"Agente {n}", availability=availability).id for n in range(agents)]
    inbox = sim.create_inbox(account.id, "WhatsApp", "whatsapp", members=agent_ids)
    components = graph(db)
    integration = ensure_local_integration(
        components.integrations,
        tenant=TENANT,
        base_url=url,
        account_id=account.id,
        api_token=admin.access_token,
        webhook_secret="s",
    )
    mirror_account(db, sim, account.id, integration.id)
    clients = components.chatwoot
    office = Office(
        sim=sim,
        db=db,
        account_id=account.id,
        integration_id=integration.id,
        inbox_id=inbox.id,
        agents=agent_ids,
        clients=clients,
        service=components.assignment,
    )
    office.set_policy(enabled=True, **policy)
    return office
