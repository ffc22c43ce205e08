"""Builders of domain objects for tests, with realistic defaults."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

from chatwoot_integration.db import Connection
from chatwoot_integration.models.agent import AgentState
from chatwoot_integration.models.conversation import ConversationState
from chatwoot_integration.repositories.integrations import IntegrationRepository

BASE_TIME = datetime(2026, 6, 17, 10, 0, tzinfo=UTC)
_ids = itertools.count(1)


def at(seconds: float) -> datetime:
    """A point in time ``seconds`` after a fixed base, with microseconds like Chatwoot's float updated_at."""
    return BASE_TIME + timedelta(seconds=seconds)


def conversation(integration_id: int = 1, conversation_id: int | None = None, **overrides: Any) -> ConversationState:
    values: dict[str, Any] = {
        "integration_id": integration_id,
        "conversation_id": conversation_id if conversation_id is not None else next(_ids),
        "inbox_id": 1,
        "contact_id": 100,
        "status": "open",
        "priority": None,
        "assignee_id": None,
        "team_id": None,
        "labels": (),
        "unread_count": 0,
        "last_activity_at": at(0),
        "chatwoot_created_at": at(0),
        "chatwoot_updated_at": at(0.5),
    }
    values.update(overrides)
    return ConversationState(**values)


def agent(integration_id: int = 1, agent_id: int = 1, **overrides: Any) -> AgentState:
    values: dict[str, Any] = {
        "integration_id": integration_id,
        "agent_id": agent_id,
        "name": f"Agente {agent_id}",
        "email": f"agente{agent_id}@escritorio.example",
        "role": "agent",
        "availability": "online",
    }
    values.update(overrides)
    return AgentState(**values)


def create_integration(conn: Connection, account_id: int = 1, **overrides: Any) -> int:
    """An integration of tenant ``local`` for Chatwoot account ``account_id``; returns its id (the mirror's key).

    The tables are emptied with their identities restarted before each test, so the first integration a test
    creates is integration 1, the second 2, and so on."""
    values: dict[str, Any] = {
        "tenant": "local",
        "name": f"Escritório {account_id}",
        "base_url": "http://127.0.0.1:3100",
        "account_id": account_id,
        "credentials": {"api_token": "token-test", "webhook_secret": "secret-test"},
    }
    values.update(overrides)
    with conn.transaction():
        return IntegrationRepository(conn).insert(values).id
