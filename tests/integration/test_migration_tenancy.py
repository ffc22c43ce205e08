"""Migration 0007 converts a populated database of the schema before tenancy, losing nothing, and the converted
schema works: keys by integration, counters by trigger, the tenant of every event."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg.rows import dict_row

from chatwoot_integration.migrations import apply_migrations, default_migrations_dir
from localdev.postgres import PostgresHandle, drop_database, recreate_database

TENANCY = 7

# Two connected accounts of today's schema, with overlapping conversation and contact ids, agents with inbox and
# team membership and availability history, party links, messages, sync rows, deliveries and events; plus an event
# of an account no integration holds any more.
POPULATED = """
INSERT INTO integracoes_chatwoot (name, base_url, account_id, credentials) VALUES
    ('Souza', 'https://Chat.Souza.Example:443/', 1, '{"api_token": "t1"}'),
    ('Lima', 'http://chat.lima.example:8080/base/', 2, '{"api_token": "t2"}');
INSERT INTO usuarios_chatwoot (account_id, agent_id, name, availability) VALUES
    (1, 10, 'Ana', 'online'), (1, 11, 'Bruno', 'busy'), (2, 10, 'Carla', 'online');
UPDATE usuarios_chatwoot SET availability = 'offline' WHERE account_id = 1 AND agent_id = 11;
INSERT INTO membros_inbox_chatwoot (account_id, inbox_id, agent_id) VALUES (1, 5, 10), (1, 5, 11), (2, 5, 10);
INSERT INTO membros_equipe_chatwoot (account_id, team_id, agent_id) VALUES (1, 3, 10), (2, 3, 10);
INSERT INTO contatos_chatwoot (account_id, contact_id, name) VALUES (1, 100, 'Cliente A'), (2, 100, 'Cliente B');
INSERT INTO partes_chatwoot (account_id, contact_id, parte_id) VALUES (1, 100, 'parte-a'), (2, 100, 'parte-b');
INSERT INTO conversas_chatwoot (account_id, conversation_id, inbox_id, contact_id, status, assignee_id,
    last_activity_at, chatwoot_created_at, chatwoot_updated_at, parte_id) VALUES
    (1, 7, 5, 100, 'open', 10, now(), now(), now(), 'parte-a'),
    (1, 8, 5, 100, 'pending', 10, now(), now(), now(), NULL),
    (2, 7, 5, 100, 'open', 10, now(), now(), now(), 'parte-b'),
    (2, 9, 5, 100, 'resolved', NULL, now(), now(), now(), NULL);
INSERT INTO mensagens_chatwoot (account_id, message_id, conversation_id, message_type, content,
    chatwoot_created_at) VALUES
    (1, 500, 7, 'incoming', 'oi A', now()), (1, 501, 7, 'outgoing', 'olá A', now()),
    (2, 500, 7, 'incoming', 'oi B', now());
INSERT INTO sincronizacao_conversas_chatwoot (account_id, conversation_id, messages_synced_through, seen_at)
VALUES (1, 7, 501, now()), (2, 7, 500, now());
INSERT INTO entregas_webhook_chatwoot (integration_id, delivery_id, status, account_id, conversation_id,
    received_at) VALUES (1, 'd-1', 'applied', 1, 7, now()), (2, 'd-1', 'applied', 2, 7, now());
INSERT INTO eventos_chatwoot (account_id, type, actor, conversation_id) VALUES
    (1, 'conversation.created', 'chatwoot', 7), (2, 'conversation.created', 'chatwoot', 7),
    (2, 'message.created', 'chatwoot', 7), (99, 'conversation.created', 'chatwoot', 1);
"""

MIRROR_TABLES = (
    "usuarios_chatwoot",
    "membros_inbox_chatwoot",
    "membros_equipe_chatwoot",
    "disponibilidade_historico_chatwoot",
    "contatos_chatwoot",
    "partes_chatwoot",
    "conversas_chatwoot",
    "mensagens_chatwoot",
    "sincronizacao_conversas_chatwoot",
    "eventos_chatwoot",
)


@pytest.fixture
def database(postgres_server: PostgresHandle, worker_id: str, tmp_path: Path) -> Iterator[psycopg.Connection]:
    name = f"chatwoot_tenancy_{worker_id}_{os.getpid()}"
    recreate_database(postgres_server.url, name)
    try:
        with psycopg.connect(postgres_server.url_for(name), autocommit=True, row_factory=dict_row) as conn:
            yield conn
    finally:
        drop_database(postgres_server.url, name)


def migrate_to(conn: psycopg.Connection, directory: Path, last_version: int) -> None:
    directory.mkdir(exist_ok=True)
    for path in sorted(default_migrations_dir().glob("*.sql")):
        if int(path.name[:4]) <= last_version:
            shutil.copy(path, directory / path.name)
    apply_migrations(conn, directory)


def counts(conn: psycopg.Connection, key: str) -> dict[str, dict[int, int]]:
    found: dict[str, dict[int, int]] = {}
    for table in MIRROR_TABLES:
        rows = conn.execute(f"SELECT {key} AS k, count(*) AS n FROM {table} GROUP BY 1 ORDER BY 1").fetchall()
        found[table] = {r["k"]: r["n"] for r in rows}
    return found


def test_a_populated_database_is_converted_and_the_new_schema_works(
    database: psycopg.Connection, tmp_path: Path
) -> None:
    conn = database
    migrations = tmp_path / "sql"
    migrate_to(conn, migrations, TENANCY - 1)
    with conn.transaction():
        conn.execute(POPULATED)
    before = counts(conn, "account_id")
    assert before["eventos_chatwoot"] == {1: 1, 2: 2, 99: 1}
    assert before["disponibilidade_historico_chatwoot"] == {1: 3, 2: 1}

    migrate_to(conn, migrations, TENANCY)

    # Every row is there, under the integration of its account (1 → integration 1, 2 → 2); the orphan event went.
    after = counts(conn, "integration_id")
    expected = {table: dict(rows) for table, rows in before.items()}
    del expected["eventos_chatwoot"][99]
    assert after == expected
    for table in MIRROR_TABLES:
        columns = {
            r["column_name"]
            for r in conn.execute("SELECT column_name FROM information_schema.columns WHERE table_name = %s", (table,))
        }
        assert "account_id" not in columns and "integration_id" in columns, table
    assert conn.execute(
        "SELECT integration_id, conversation_id, content FROM mensagens_chatwoot ORDER BY 1, 2, message_id"
    ).fetchall() == [
        {"integration_id": 1, "conversation_id": 7, "content": "oi A"},
        {"integration_id": 1, "conversation_id": 7, "content": "olá A"},
        {"integration_id": 2, "conversation_id": 7, "content": "oi B"},
    ]
    integrations = conn.execute("SELECT id, tenant, base_url, account_id FROM integracoes_chatwoot ORDER BY id")
    assert integrations.fetchall() == [
        {"id": 1, "tenant": "default", "base_url": "https://chat.souza.example", "account_id": 1},
        {"id": 2, "tenant": "default", "base_url": "http://chat.lima.example:8080/base", "account_id": 2},
    ]
    events = conn.execute("SELECT integration_id, tenant, type FROM eventos_chatwoot ORDER BY id").fetchall()
    assert [(e["integration_id"], e["tenant"]) for e in events] == [(1, "default"), (2, "default"), (2, "default")]
    load = conn.execute("SELECT integration_id, agent_id, active_conversations FROM usuarios_chatwoot ORDER BY 1, 2")
    assert load.fetchall() == [
        {"integration_id": 1, "agent_id": 10, "active_conversations": 2},
        {"integration_id": 1, "agent_id": 11, "active_conversations": 0},
        {"integration_id": 2, "agent_id": 10, "active_conversations": 1},
    ]
    assert conn.execute("SELECT recount_agent_load(1) + recount_agent_load(2) AS wrong").fetchone() == {"wrong": 0}

    with conn.transaction():
        # A second "account 1", of another Chatwoot, and the same account for another tenant, can be connected...
        conn.execute(
            "INSERT INTO integracoes_chatwoot (tenant, name, base_url, account_id, credentials) VALUES"
            " ('default', 'Outro', 'https://chat.outro.example', 1, '{}'),"
            " ('firm-b', 'Souza B', 'https://chat.souza.example', 1, '{}')"
        )
    # ... but not the same account of the same Chatwoot twice for one tenant.
    with pytest.raises(psycopg.errors.UniqueViolation), conn.transaction():
        conn.execute(
            "INSERT INTO integracoes_chatwoot (tenant, name, base_url, account_id, credentials)"
            " VALUES ('default', 'Dup', 'https://chat.souza.example', 1, '{}')"
        )

    with conn.transaction():
        # Counters follow the integration: a message bumps its own conversation, an assignment its own agent.
        conn.execute(
            "INSERT INTO mensagens_chatwoot (integration_id, message_id, conversation_id, message_type, content,"
            " chatwoot_created_at) VALUES (2, 502, 7, 'incoming', 'nova B', now())"
        )
        conn.execute("UPDATE conversas_chatwoot SET assignee_id = 10 WHERE integration_id = 2 AND conversation_id = 9")
        conn.execute("UPDATE conversas_chatwoot SET status = 'open' WHERE integration_id = 2 AND conversation_id = 9")
        conn.execute(
            "INSERT INTO eventos_chatwoot (integration_id, type, actor) VALUES (3, 'integration.created', 'x')"
        )
    conversation = conn.execute(
        "SELECT messages_count, last_message_preview FROM conversas_chatwoot"
        " WHERE integration_id = %s AND conversation_id = 7",
        (2,),
    ).fetchone()
    assert conversation == {"messages_count": 2, "last_message_preview": "nova B"}  # "oi B", then "nova B"
    assert conn.execute(
        "SELECT integration_id, active_conversations FROM usuarios_chatwoot WHERE agent_id = 10 ORDER BY 1"
    ).fetchall() == [{"integration_id": 1, "active_conversations": 2}, {"integration_id": 2, "active_conversations": 2}]
    assert conn.execute("SELECT tenant FROM eventos_chatwoot WHERE integration_id = 3").fetchone() == {
        "tenant": "default"
    }

    # A tenant is given once: from the placeholder to the firm, and then never again.
    with conn.transaction():
        conn.execute("UPDATE integracoes_chatwoot SET tenant = 'firm-a' WHERE id = 1")
    moved = conn.execute("SELECT DISTINCT tenant FROM eventos_chatwoot WHERE integration_id = 1").fetchall()
    assert moved == [{"tenant": "firm-a"}]  # its history follows it into the firm's feed
    with pytest.raises(psycopg.Error, match="cannot move to another tenant") as refused, conn.transaction():
        conn.execute("UPDATE integracoes_chatwoot SET tenant = 'firm-c' WHERE id = 1")
    assert refused.value.sqlstate == "CW001"

    # Deleting an integration removes its mirror and keeps its history.
    with conn.transaction():
        conn.execute("DELETE FROM integracoes_chatwoot WHERE id = 2")
    remaining = counts(conn, "integration_id")
    assert all(2 not in rows for table, rows in remaining.items() if table != "eventos_chatwoot")
    assert remaining["eventos_chatwoot"][2] == 2
