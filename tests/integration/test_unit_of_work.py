"""The unit of work: one transaction, its repositories, commit on success, rollback on any exception."""

from __future__ import annotations

import psycopg
import pytest

from chatwoot_integration.db import Database
from chatwoot_integration.repositories.conversations import ConversationRepository
from chatwoot_integration.uow import UnitOfWork, unit_of_work_factory
from tests.factories import conversation, create_integration


@pytest.fixture
def integration(conn: psycopg.Connection) -> int:
    """The integration (of account 1) every mirrored conversation of these tests belongs to."""
    return create_integration(conn)


def stored_ids(db: Database) -> list[int]:
    rows = db.connection().execute("SELECT conversation_id FROM conversas_chatwoot ORDER BY conversation_id")
    return [r["conversation_id"] for r in rows]


def test_leaving_the_block_commits_everything_written_in_it(db: Database, database_url: str, integration: int) -> None:
    other = Database(lambda: database_url)
    with UnitOfWork(db) as uow:
        uow.conversations.upsert_many(
            [conversation(integration, conversation_id=1), conversation(integration, conversation_id=2)],
            mark_synced=True,
        )
        assert stored_ids(other) == []  # not visible to anyone else before the commit

    assert stored_ids(db) == [1, 2]
    other.close()


def write_then_fail(db: Database, integration: int) -> None:
    with UnitOfWork(db) as uow:
        uow.conversations.upsert_many([conversation(integration, conversation_id=1)], mark_synced=True)
        raise RuntimeError("something failed in the middle")


def test_an_exception_rolls_back_every_write_of_the_block_and_goes_on(db: Database, integration: int) -> None:
    with pytest.raises(RuntimeError, match="in the middle"):
        write_then_fail(db, integration)

    assert stored_ids(db) == []
    assert db.connection().execute("SELECT count(*) AS n FROM eventos_chatwoot").fetchone() == {"n": 0}


def test_every_repository_of_a_unit_of_work_shares_its_one_transaction(db: Database, integration: int) -> None:
    with UnitOfWork(db) as uow:
        integration_id = uow.integrations.insert(
            {
                "tenant": "local",
                "name": "Escritório",
                "base_url": "http://127.0.0.1:1",
                "account_id": 2,
                "credentials": {"api_token": "t"},
            }
        ).id
        uow.conversations.upsert_many([conversation(integration, conversation_id=5)], mark_synced=True)
        transaction = uow.transaction_id
        assert uow.conversations is uow.conversations  # built once per unit of work
    rows = (
        db.connection()
        .execute(
            "SELECT xmin::text AS tx FROM integracoes_chatwoot WHERE id = %s"
            " UNION ALL SELECT xmin::text FROM conversas_chatwoot",
            (integration_id,),
        )
        .fetchall()
    )
    assert {r["tx"] for r in rows} == {str(transaction)}


def test_a_read_only_unit_of_work_refuses_writes_in_the_database(db: Database, integration: int) -> None:
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction), UnitOfWork(db, read_only=True) as uow:
        uow.conversations.upsert_many([conversation(integration, conversation_id=1)], mark_synced=True)

    assert stored_ids(db) == []
    with UnitOfWork(db) as uow:  # the connection is writable again for the next unit of work
        uow.conversations.upsert_many([conversation(integration, conversation_id=1)], mark_synced=True)
    assert stored_ids(db) == [1]


def test_a_unit_of_work_is_entered_once_and_its_repositories_live_only_inside(db: Database) -> None:
    uow = UnitOfWork(db)
    with uow:
        repository = uow.conversations
    assert isinstance(repository, ConversationRepository)
    with pytest.raises(RuntimeError, match="entered once"), uow:
        pass
    with pytest.raises(RuntimeError, match="outside its with block"):
        _ = UnitOfWork(db).conversations


@pytest.mark.usefixtures("integration")
def test_the_factory_gives_a_new_unit_of_work_each_time(db: Database) -> None:
    new = unit_of_work_factory(db)
    with new() as first, new(read_only=True) as second:
        assert first is not second
        assert len(second.integrations.list_all()) == 1
