"""Triggers and constraints of the schema, against a real PostgreSQL."""

from __future__ import annotations

import random

import psycopg
import pytest

from chatwoot_integration.db import Connection
from chatwoot_integration.errors import InvalidTransition
from chatwoot_integration.repositories.agents import AgentRepository
from chatwoot_integration.repositories.conversations import ConversationRepository
from tests.factories import agent, at, conversation, create_integration

AGENTS = (1, 2, 3, 4)


@pytest.fixture
def account(conn: Connection) -> int:
    """The integration (id 1) whose agents and conversations these tests count."""
    integration_id = create_integration(conn, account_id=1)
    with conn.transaction():
        AgentRepository(conn).upsert_from_chatwoot(integration_id, [agent(agent_id=a) for a in AGENTS])
    return integration_id


def stored_load(conn: Connection) -> dict[int, int]:
    rows = conn.execute("SELECT agent_id, active_conversations FROM usuarios_chatwoot WHERE integration_id = 1")
    return {r["agent_id"]: r["active_conversations"] for r in rows}


def recounted_load(conn: Connection) -> dict[int, int]:
    rows = conn.execute(
        "SELECT u.agent_id, count(c.id) AS n FROM usuarios_chatwoot u LEFT JOIN conversas_chatwoot c"
        " ON c.integration_id = u.integration_id AND c.assignee_id = u.agent_id AND c.deleted_at IS NULL"
        " AND c.status IN ('open', 'pending') WHERE u.integration_id = 1 GROUP BY u.agent_id"
    )
    return {r["agent_id"]: r["n"] for r in rows}


def test_updated_at_moves_only_when_the_row_changes(conn: Connection, account: int) -> None:
    with conn.transaction():
        ConversationRepository(conn).upsert_many([conversation(conversation_id=7)], mark_synced=False)
    first = conn.execute("SELECT updated_at FROM conversas_chatwoot WHERE conversation_id = 7").fetchone()
    with conn.transaction():
        conn.execute("UPDATE conversas_chatwoot SET status = status WHERE conversation_id = 7")
    same = conn.execute("SELECT updated_at FROM conversas_chatwoot WHERE conversation_id = 7").fetchone()
    with conn.transaction():
        conn.execute("UPDATE conversas_chatwoot SET status = 'resolved' WHERE conversation_id = 7")
    moved = conn.execute("SELECT updated_at FROM conversas_chatwoot WHERE conversation_id = 7").fetchone()
    assert same == first
    assert moved["updated_at"] > first["updated_at"]


def test_agent_load_counter_stays_exact_across_a_random_sequence(conn: Connection, account: int) -> None:
    rng = random.Random(20261129)
    repo = ConversationRepository(conn)
    ids = list(range(1, 41))
    with conn.transaction():
        repo.upsert_many([conversation(conversation_id=i) for i in ids], mark_synced=False)
    for step in range(600):
        cid = rng.choice(ids)
        action = rng.choice(
            ["assign", "unassign", "resolve", "reopen", "pend", "snooze", "delete", "restore", "hard_delete", "batch"]
        )
        with conn.transaction():
            if action == "assign":
                conn.execute(
                    "UPDATE conversas_chatwoot SET assignee_id = %s WHERE conversation_id = %s AND deleted_at IS NULL",
                    (rng.choice(AGENTS), cid),
                )
            elif action == "unassign":
                conn.execute(
                    "UPDATE conversas_chatwoot SET assignee_id = NULL WHERE conversation_id = %s AND deleted_at IS NULL",
                    (cid,),
                )
            elif action in ("resolve", "reopen", "pend", "snooze"):
                status = {"resolve": "resolved", "reopen": "open", "pend": "pending", "snooze": "snoozed"}[action]
                conn.execute("UPDATE conversas_chatwoot SET status = %s WHERE conversation_id = %s", (status, cid))
            elif action == "delete":
                repo.soft_delete(1, cid, by="sync")
            elif action == "restore":
                conn.execute(
                    "UPDATE conversas_chatwoot SET deleted_at = NULL, deleted_by = NULL WHERE conversation_id = %s",
                    (cid,),
                )
            elif action == "hard_delete":
                repo.hard_delete(1, cid)
            else:  # a sync page: several conversations, newer versions, in one statement
                batch = rng.sample(ids, 5)
                repo.upsert_many(
                    [
                        conversation(
                            conversation_id=b,
                            status=rng.choice(["open", "pending", "resolved", "snoozed"]),
                            assignee_id=rng.choice([None, *AGENTS]),
                            chatwoot_updated_at=at(1000 + step),
                        )
                        for b in batch
                    ],
                    mark_synced=True,
                )
        assert stored_load(conn) == recounted_load(conn), f"counter drifted at step {step} ({action})"
    assert sum(stored_load(conn).values()) > 0


def test_an_agent_created_after_its_conversations_starts_with_their_count(conn: Connection, account: int) -> None:
    with conn.transaction():
        ConversationRepository(conn).upsert_many(
            [
                conversation(conversation_id=1, assignee_id=9, status="open"),
                conversation(conversation_id=2, assignee_id=9, status="pending"),
                conversation(conversation_id=3, assignee_id=9, status="resolved"),
            ],
            mark_synced=False,
        )
        AgentRepository(conn).upsert_from_chatwoot(1, [agent(agent_id=a) for a in (*AGENTS, 9)])
    assert stored_load(conn)[9] == 2


def test_recount_repairs_a_drifted_counter(conn: Connection, account: int) -> None:
    with conn.transaction():
        ConversationRepository(conn).upsert_many([conversation(conversation_id=1, assignee_id=2)], mark_synced=False)
        conn.execute("ALTER TABLE conversas_chatwoot DISABLE TRIGGER conversas_chatwoot_agent_load_update")
        conn.execute("UPDATE conversas_chatwoot SET assignee_id = 3 WHERE conversation_id = 1")
        conn.execute("ALTER TABLE conversas_chatwoot ENABLE TRIGGER conversas_chatwoot_agent_load_update")
    assert stored_load(conn)[2] == 1
    with conn.transaction():
        fixed = AgentRepository(conn).recount_load(1)
    assert fixed == 2
    assert stored_load(conn) == recounted_load(conn)


def test_availability_history_records_every_change(conn: Connection, account: int) -> None:
    repo = AgentRepository(conn)
    with conn.transaction():
        repo.upsert_from_chatwoot(1, [agent(agent_id=a, availability="busy" if a == 1 else "online") for a in AGENTS])
    with conn.transaction():
        repo.update(1, 1, {"availability": "offline"})
        repo.update(1, 1, {"availability": "offline"})  # no change, no row
    rows = conn.execute(
        "SELECT previous, current FROM disponibilidade_historico_chatwoot WHERE agent_id = 1 ORDER BY id"
    ).fetchall()
    assert [(r["previous"], r["current"]) for r in rows] == [(None, "online"), ("online", "busy"), ("busy", "offline")]


def test_a_soft_deleted_conversation_cannot_be_reassigned(conn: Connection, account: int) -> None:
    repo = ConversationRepository(conn)
    with conn.transaction():
        repo.upsert_many([conversation(conversation_id=5, assignee_id=1)], mark_synced=False)
        repo.soft_delete(1, 5, by="api")
    with pytest.raises(psycopg.Error) as raised, conn.transaction():
        conn.execute("UPDATE conversas_chatwoot SET assignee_id = 2 WHERE conversation_id = 5")
    assert raised.value.sqlstate == "CW001"
    assert "conversation 5 of integration 1 is deleted and cannot be reassigned" in str(raised.value)
    assert conn.execute("SELECT assignee_id FROM conversas_chatwoot WHERE conversation_id = 5").fetchone() == {
        "assignee_id": 1
    }


def test_sync_error_must_follow_syncing(conn: Connection, account: int) -> None:
    repo = ConversationRepository(conn)
    with conn.transaction():
        repo.upsert_many([conversation(conversation_id=6)], mark_synced=True)
    with pytest.raises(InvalidTransition, match="cannot move from synced to error"), conn.transaction():
        repo.set_sync_status(1, [6], "error", error="boom")
    with conn.transaction():
        repo.set_sync_status(1, [6], "syncing")
        repo.set_sync_status(1, [6], "error", error="Chatwoot answered 500")
    row = conn.execute("SELECT sync_status, sync_error FROM conversas_chatwoot WHERE conversation_id = 6").fetchone()
    assert row == {"sync_status": "error", "sync_error": "Chatwoot answered 500"}


def test_the_chatwoot_key_of_a_conversation_never_changes(conn: Connection, account: int) -> None:
    with conn.transaction():
        ConversationRepository(conn).upsert_many([conversation(conversation_id=8)], mark_synced=False)
    with pytest.raises(psycopg.Error, match="cannot change its key"), conn.transaction():
        conn.execute("UPDATE conversas_chatwoot SET conversation_id = 9 WHERE conversation_id = 8")


@pytest.mark.parametrize(
    ("column", "value"),
    [("status", "closed"), ("priority", "critical"), ("sync_status", "done")],
)
def test_enum_checks_refuse_unknown_values(conn: Connection, account: int, column: str, value: str) -> None:
    with conn.transaction():
        ConversationRepository(conn).upsert_many([conversation(conversation_id=3)], mark_synced=False)
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute(f"UPDATE conversas_chatwoot SET {column} = %s WHERE conversation_id = 3", (value,))


def test_agent_enums_and_capacity_are_checked(conn: Connection, account: int) -> None:
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute("UPDATE usuarios_chatwoot SET availability = 'away' WHERE agent_id = 1")
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute("UPDATE usuarios_chatwoot SET capacity = -1 WHERE agent_id = 1")


def insert_message(
    conn: Connection,
    message_id: int,
    *,
    conversation_id: int = 4,
    kind: str = "incoming",
    private: bool = False,
    seconds: float = 10,
    content: str | None = "Olá",
) -> None:
    conn.execute(
        "INSERT INTO mensagens_chatwoot (integration_id, message_id, conversation_id, message_type, private, content,"
        " chatwoot_created_at) VALUES (1, %s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
        (message_id, conversation_id, kind, private, content, at(seconds)),
    )


def test_message_counters_are_exact_whatever_the_order_and_repetition(conn: Connection, account: int) -> None:
    with conn.transaction():
        ConversationRepository(conn).upsert_many([conversation(conversation_id=4)], mark_synced=False)
    messages = [
        (11, "incoming", False, 10, "primeira"),
        (12, "outgoing", False, 20, "resposta"),
        (13, "outgoing", True, 30, "nota interna"),
        (14, "template", False, 40, "modelo"),
        (15, "activity", False, 50, "atribuída"),
    ]
    rng = random.Random(7)
    deliveries = messages * 3
    rng.shuffle(deliveries)
    for mid, kind, private, seconds, content in deliveries:
        with conn.transaction():
            insert_message(conn, mid, kind=kind, private=private, seconds=seconds, content=content)
    row = conn.execute(
        "SELECT messages_count, private_notes_count, last_message_id, last_message_preview"
        " FROM conversas_chatwoot WHERE conversation_id = 4"
    ).fetchone()
    assert row == {
        "messages_count": 3,
        "private_notes_count": 1,
        "last_message_id": 14,
        "last_message_preview": "modelo",
    }


def test_the_preview_follows_an_edited_last_message(conn: Connection, account: int) -> None:
    with conn.transaction():
        ConversationRepository(conn).upsert_many([conversation(conversation_id=4)], mark_synced=False)
        insert_message(conn, 21, content="antes")
        conn.execute("UPDATE mensagens_chatwoot SET content = 'depois' WHERE message_id = 21")
    preview = conn.execute("SELECT last_message_preview FROM conversas_chatwoot WHERE conversation_id = 4").fetchone()
    assert preview == {"last_message_preview": "depois"}


def test_changing_credentials_lifts_an_auth_error(conn: Connection) -> None:
    integration_id = create_integration(conn, account_id=2)
    with conn.transaction():
        conn.execute(
            "UPDATE integracoes_chatwoot SET sync_status = 'auth_error', sync_error = '401' WHERE id = %s",
            (integration_id,),
        )
        conn.execute(
            "UPDATE integracoes_chatwoot SET credentials = %s WHERE id = %s",
            ('{"api_token": "new", "webhook_secret": "s"}', integration_id),
        )
    row = conn.execute(
        "SELECT sync_status, sync_error, config_version FROM integracoes_chatwoot WHERE id = %s", (integration_id,)
    ).fetchone()
    assert row == {"sync_status": "never", "sync_error": None, "config_version": 2}


def test_credentials_live_in_exactly_one_place(conn: Connection) -> None:
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute(
            "INSERT INTO integracoes_chatwoot (tenant, name, base_url, account_id, credentials_ref, credentials)"
            " VALUES ('local', 'x', 'https://chat.example', 5, 'arn:secret', '{}')"
        )
    with pytest.raises(psycopg.errors.CheckViolation), conn.transaction():
        conn.execute(
            "INSERT INTO integracoes_chatwoot (tenant, name, base_url, account_id)"
            " VALUES ('local', 'x', 'https://chat.example', 5)"
        )
