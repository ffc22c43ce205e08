"""Repositories against a real PostgreSQL: CRUD, filters, keyset pagination, the ordering guard, the feed."""

from __future__ import annotations

import random
import threading
import time

import psycopg
import pytest
from psycopg.rows import dict_row

from chatwoot_integration.db import Connection
from chatwoot_integration.errors import ValidationFailed
from chatwoot_integration.models.agent import AgentFilter
from chatwoot_integration.models.change import NewChange
from chatwoot_integration.models.conversation import ConversationFilter
from chatwoot_integration.models.party import Contact
from chatwoot_integration.repositories.agents import AgentRepository
from chatwoot_integration.repositories.changes import ChangeRepository, decode_change_cursor
from chatwoot_integration.repositories.conversations import (
    ConversationRepository,
    decode_cursor,
    encode_cursor,
)
from chatwoot_integration.repositories.integrations import IntegrationRepository
from chatwoot_integration.repositories.parties import PartyRepository
from tests.factories import agent, at, conversation, create_integration


@pytest.fixture
def account(conn: Connection) -> int:
    """The integration the mirror rows of these tests belong to (the first one: id 1)."""
    return create_integration(conn, account_id=1)


def upsert(conn: Connection, *states, mark_synced: bool = False):  # type: ignore[no-untyped-def]
    with conn.transaction():
        return ConversationRepository(conn).upsert_many(list(states), mark_synced=mark_synced)


def stored(conn: Connection, conversation_id: int, integration_id: int = 1) -> dict:  # type: ignore[type-arg]
    row = conn.execute(
        "SELECT * FROM conversas_chatwoot WHERE integration_id = %s AND conversation_id = %s",
        (integration_id, conversation_id),
    ).fetchone()
    assert row is not None
    return row


# Integrations ---------------------------------------------------------------------------------------------


def test_integration_crud(conn: Connection) -> None:
    repo = IntegrationRepository(conn)
    with conn.transaction():
        created = repo.insert(
            {
                "tenant": "firm-a",
                "name": "Escritório Silva",
                "base_url": "https://chat.silva.example",
                "account_id": 42,
                "credentials_ref": "chatwoot-integration/42",
                "assignment_policy": {"enabled": True, "mode": "round_robin"},
            }
        )
    assert created.account_id == 42
    assert created.assignment_policy.mode == "round_robin"
    assert created.active and created.sync_status == "never"
    with conn.transaction():
        updated = repo.update(created.id, {"active": False, "legacy_unsigned": True})
    assert updated is not None and not updated.active and updated.legacy_unsigned
    assert repo.find("firm-a", "https://chat.silva.example", 42) == updated
    assert repo.tenant_of(created.id) == "firm-a"
    assert [i.id for i in repo.list_for_tenant("firm-a")] == [created.id]
    assert repo.list_for_tenant("firm-b") == []
    assert [i.id for i in repo.list_all()] == [created.id]
    assert repo.list_all(active_only=True) == []
    with conn.transaction():
        assert repo.delete(created.id)
    assert repo.get(created.id) is None


def test_an_account_of_one_chatwoot_is_connected_once_per_tenant(conn: Connection) -> None:
    create_integration(conn, account_id=3)
    with pytest.raises(psycopg.errors.UniqueViolation):
        create_integration(conn, account_id=3)
    create_integration(conn, account_id=3, base_url="https://other.example")
    create_integration(conn, account_id=3, tenant="firm-b")


def test_sync_lease_is_exclusive_until_released_or_expired(conn: Connection) -> None:
    integration_id = create_integration(conn, account_id=4)
    repo = IntegrationRepository(conn)
    with conn.transaction():
        assert repo.acquire_sync_lease(integration_id, "run-a", until=at(300), now=at(0))
    with conn.transaction():
        assert not repo.acquire_sync_lease(integration_id, "run-b", until=at(400), now=at(100))
    with conn.transaction():
        assert repo.acquire_sync_lease(integration_id, "run-b", until=at(700), now=at(301))  # a's lease expired
    with conn.transaction():
        assert not repo.release_sync_lease(integration_id, "run-a", {"sync_status": "ok"})
        assert repo.release_sync_lease(integration_id, "run-b", {"sync_status": "ok", "last_sync_at": at(500)})
    integration = repo.get(integration_id)
    assert integration is not None
    assert integration.sync_status == "ok" and integration.last_sync_at == at(500)


# Conversations: the ordering guard -----------------------------------------------------------------------


def test_upsert_inserts_then_only_newer_versions_overwrite(conn: Connection, account: int) -> None:
    [first] = upsert(conn, conversation(conversation_id=10, status="open", chatwoot_updated_at=at(10)))
    assert first.inserted and first.changed

    older = upsert(conn, conversation(conversation_id=10, status="resolved", chatwoot_updated_at=at(5)))
    assert older == []
    assert stored(conn, 10)["status"] == "open"

    before = stored(conn, 10)
    equal = upsert(conn, conversation(conversation_id=10, status="pending", chatwoot_updated_at=at(10)))
    assert equal == []
    assert stored(conn, 10) == before

    [newer] = upsert(
        conn, conversation(conversation_id=10, status="resolved", assignee_id=3, chatwoot_updated_at=at(11))
    )
    assert not newer.inserted and newer.changed
    assert newer.previous is not None and newer.previous["status"] == "open"
    assert newer.current is not None and newer.current["status"] == "resolved"
    row = stored(conn, 10)
    assert (row["status"], row["assignee_id"], row["chatwoot_updated_at"]) == ("resolved", 3, at(11))


def test_sync_confirms_an_equal_version_and_clears_its_error(conn: Connection, account: int) -> None:
    upsert(conn, conversation(conversation_id=11, chatwoot_updated_at=at(10)))
    with conn.transaction():
        ConversationRepository(conn).set_sync_status(1, [11], "syncing")
        ConversationRepository(conn).set_sync_status(1, [11], "error", error="timeout")
    [confirmed] = upsert(conn, conversation(conversation_id=11, chatwoot_updated_at=at(10)), mark_synced=True)
    assert not confirmed.changed
    row = stored(conn, 11)
    assert (row["sync_status"], row["sync_error"]) == ("synced", None)
    assert row["synced_at"] is not None


def test_a_batch_collapses_versions_of_one_conversation_to_the_newest(conn: Connection, account: int) -> None:
    outcomes = upsert(
        conn,
        conversation(conversation_id=12, status="resolved", chatwoot_updated_at=at(30)),
        conversation(conversation_id=12, status="open", chatwoot_updated_at=at(20)),
        conversation(conversation_id=13, chatwoot_updated_at=at(20)),
    )
    assert sorted(o.conversation_id for o in outcomes) == [12, 13]
    assert stored(conn, 12)["status"] == "resolved"


def test_platform_deleted_rows_stay_deleted_and_sync_deleted_rows_come_back(conn: Connection, account: int) -> None:
    upsert(conn, conversation(conversation_id=14), conversation(conversation_id=15))
    with conn.transaction():
        repo = ConversationRepository(conn)
        repo.soft_delete(1, 14, by="api")
        repo.soft_delete(1, 15, by="sync")
    outcomes = upsert(
        conn,
        conversation(conversation_id=14, chatwoot_updated_at=at(99)),
        conversation(conversation_id=15, chatwoot_updated_at=at(99)),
        mark_synced=True,
    )
    assert [o.conversation_id for o in outcomes] == [15]
    assert outcomes[0].previous is not None and outcomes[0].previous["deleted"] is True
    assert stored(conn, 14)["deleted_at"] is not None
    assert stored(conn, 15)["deleted_at"] is None


def test_new_conversations_inherit_the_contacts_party(conn: Connection, account: int) -> None:
    with conn.transaction():
        PartyRepository(conn).link(1, 555, "parte-77")
    upsert(conn, conversation(conversation_id=16, contact_id=555), conversation(conversation_id=17, contact_id=556))
    assert stored(conn, 16)["parte_id"] == "parte-77"
    assert stored(conn, 17)["parte_id"] is None


def test_soft_delete_missing_spares_rows_written_during_the_pass(conn: Connection, account: int) -> None:
    upsert(conn, conversation(conversation_id=18), conversation(conversation_id=19), conversation(conversation_id=20))
    pass_started = conn.execute("SELECT clock_timestamp() AS t").fetchone()["t"]  # type: ignore[index]
    upsert(conn, conversation(conversation_id=21))
    with conn.transaction():
        gone = ConversationRepository(conn).soft_delete_missing(1, [18], seen_before=pass_started)
    assert sorted(gone) == [19, 20]
    assert stored(conn, 21)["deleted_at"] is None
    assert stored(conn, 19)["deleted_by"] == "sync"


# Conversations: listing ------------------------------------------------------------------------------------


@pytest.fixture
def catalogue(conn: Connection, account: int) -> None:
    create_integration(conn, account_id=2)
    upsert(
        conn,
        conversation(
            conversation_id=1,
            status="open",
            assignee_id=5,
            inbox_id=1,
            team_id=7,
            labels=("area:civel",),
            priority="high",
            last_activity_at=at(100),
        ),
        conversation(
            conversation_id=2,
            status="pending",
            assignee_id=None,
            inbox_id=2,
            labels=("area:trabalhista",),
            priority="low",
            last_activity_at=at(200),
        ),
        conversation(
            conversation_id=3,
            status="resolved",
            assignee_id=6,
            inbox_id=1,
            team_id=8,
            labels=("area:civel", "urgente"),
            last_activity_at=at(300),
            contact_id=900,
        ),
        conversation(conversation_id=4, status="open", assignee_id=5, inbox_id=2, last_activity_at=at(400)),
        conversation(integration_id=2, conversation_id=1, status="open", last_activity_at=at(500)),
    )
    with conn.transaction():
        repo = ConversationRepository(conn)
        repo.update_local(1, 3, {"parte_id": "parte-1"})
        repo.set_sync_status(1, [4], "syncing")


@pytest.mark.usefixtures("catalogue")
@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({}, [4, 3, 2, 1]),
        ({"status": "open"}, [4, 1]),
        ({"assignee_id": 5}, [4, 1]),
        ({"unassigned": True}, [2]),
        ({"inbox_id": 1}, [3, 1]),
        ({"team_id": 8}, [3]),
        ({"label": "area:civel"}, [3, 1]),
        ({"priority": "low"}, [2]),
        ({"sync_status": "syncing"}, [4]),
        ({"parte_id": "parte-1"}, [3]),
        ({"status": "open", "assignee_id": 5, "inbox_id": 2}, [4]),
        ({"label": "inexistente"}, []),
    ],
)
def test_each_filter(conn: Connection, filters: dict, expected: list[int]) -> None:  # type: ignore[type-arg]
    items, _ = ConversationRepository(conn).list_page(1, ConversationFilter(**filters), limit=10)
    assert [c.conversation_id for c in items] == expected
    assert all(c.integration_id == 1 for c in items)


@pytest.mark.usefixtures("catalogue")
def test_updated_since_and_deleted_rows(conn: Connection) -> None:
    repo = ConversationRepository(conn)
    cutoff = conn.execute("SELECT clock_timestamp() AS t").fetchone()["t"]  # type: ignore[index]
    with conn.transaction():
        repo.update_local(1, 2, {"priority": "urgent"})
        repo.soft_delete(1, 1, by="api")
    items, _ = repo.list_page(1, ConversationFilter(updated_since=cutoff), limit=10)
    assert [c.conversation_id for c in items] == [2]
    items, _ = repo.list_page(1, ConversationFilter(), limit=10)
    assert 1 not in [c.conversation_id for c in items]


@pytest.mark.usefixtures("catalogue")
def test_filters_are_parameters_not_sql(conn: Connection) -> None:
    hostile = "x' OR '1'='1"
    items, _ = ConversationRepository(conn).list_page(
        1, ConversationFilter(label=hostile, parte_id="1; DROP TABLE conversas_chatwoot; --"), limit=10
    )
    assert items == []
    assert conn.execute("SELECT count(*) AS n FROM conversas_chatwoot").fetchone() == {"n": 5}


def test_pagination_has_no_gaps_or_repeats_while_rows_are_inserted(conn: Connection, account: int) -> None:
    rng = random.Random(3)
    upsert(conn, *[conversation(conversation_id=i, last_activity_at=at(rng.randint(0, 50))) for i in range(1, 201)])
    repo = ConversationRepository(conn)
    seen: list[int] = []
    after = None
    next_id = 1000
    for sort in ("last_activity_at", "created_at"):
        seen, after = [], None
        while True:
            items, after = repo.list_page(1, ConversationFilter(), sort=sort, limit=17, after=after)  # type: ignore[arg-type]
            seen.extend(c.conversation_id for c in items)
            # Newer conversations arrive while the client pages: they sort before the cursor.
            upsert(conn, conversation(conversation_id=next_id, last_activity_at=at(10_000 + next_id)))
            next_id += 1
            if after is None:
                break
        assert len(seen) == len(set(seen)), "a row was repeated"
        assert set(range(1, 201)) <= set(seen), "a row was skipped"


def test_cursor_round_trip_and_rejections() -> None:
    key = (at(12.345678), 99)
    assert decode_cursor(encode_cursor("last_activity_at", key), "last_activity_at") == key
    with pytest.raises(ValidationFailed, match="another sort"):
        decode_cursor(encode_cursor("created_at", key), "last_activity_at")
    for bad in ("", "!!!", "bm90LWpzb24", "eyJzIjoibGFzdF9hY3Rpdml0eV9hdCJ9"):
        with pytest.raises(ValidationFailed, match="cursor"):
            decode_cursor(bad, "last_activity_at")


# Agents ---------------------------------------------------------------------------------------------------


def test_agents_upsert_keeps_local_fields_and_deactivates_leavers(conn: Connection, account: int) -> None:
    repo = AgentRepository(conn)
    with conn.transaction():
        first = repo.upsert_from_chatwoot(1, [agent(agent_id=1), agent(agent_id=2, availability="busy")])
        repo.update(1, 1, {"capacity": 3, "skills": ["area:civel"], "user_id": "u-1"})
    assert sorted(r["agent_id"] for r in first) == [1, 2]
    with conn.transaction():
        changed = repo.upsert_from_chatwoot(1, [agent(agent_id=1, name="Ana Souza", availability="offline")])
    assert {r["agent_id"] for r in changed} == {1, 2}
    ana = repo.get(1, 1)
    assert ana is not None
    assert (ana.name, ana.availability, ana.capacity, ana.skills, ana.user_id) == (
        "Ana Souza",
        "offline",
        3,
        ["area:civel"],
        "u-1",
    )
    gone = repo.get(1, 2)
    assert gone is not None and not gone.active
    with conn.transaction():
        assert repo.upsert_from_chatwoot(1, [agent(agent_id=1, name="Ana Souza", availability="offline")]) == []


def test_agent_filters(conn: Connection, account: int) -> None:
    repo = AgentRepository(conn)
    with conn.transaction():
        repo.upsert_from_chatwoot(
            1, [agent(agent_id=1), agent(agent_id=2, availability="busy"), agent(agent_id=3, availability="offline")]
        )
        repo.update(1, 1, {"skills": ["area:civel", "area:familia"], "capacity": 1})
        repo.update(1, 2, {"skills": ["area:civel"]})
        ConversationRepository(conn).upsert_many([conversation(conversation_id=1, assignee_id=1)], mark_synced=False)

    def ids(**kw: object) -> list[int]:
        return [a.agent_id for a in repo.list_agents(1, AgentFilter(**kw), default_capacity=2)]  # type: ignore[arg-type]

    assert ids() == [1, 2, 3]
    assert ids(availability="busy") == [2]
    assert ids(skill="area:civel") == [1, 2]
    assert ids(skill="area:familia") == [1]
    assert ids(has_capacity=True) == [2, 3]
    assert ids(has_capacity=False) == [1]


def test_membership_replacement(conn: Connection, account: int) -> None:
    repo = AgentRepository(conn)
    with conn.transaction():
        repo.upsert_from_chatwoot(1, [agent(agent_id=a) for a in (1, 2, 3)])
        assert repo.replace_inbox_members(1, 10, [1, 2, 99])  # 99 is not mirrored: ignored
        repo.replace_team_members(1, 20, [3])
    assert repo.inbox_members(1, 10) == [1, 2]
    with conn.transaction():
        assert repo.replace_inbox_members(1, 10, [2, 3])
        assert not repo.replace_inbox_members(1, 10, [2, 3])
        repo.remove_groups_not_in(1, inbox_ids=[10], team_ids=[])
    assert repo.inbox_members(1, 10) == [2, 3]
    assert repo.team_members(1, 20) == []


# Parties -----------------------------------------------------------------------------------------------


def test_contacts_and_party_links(conn: Connection, account: int) -> None:
    repo = PartyRepository(conn)
    contact = Contact(
        integration_id=1, contact_id=7, name="Maria", email="maria@ex.example", phone_number="+5511999990000"
    )
    with conn.transaction():
        assert repo.upsert_contact(contact)
        assert not repo.upsert_contact(contact)
        link = repo.link(1, 7, "parte-9")
        repo.link(1, 8, "parte-9")
    assert repo.get_contact(1, 7) == contact
    assert link.parte_id == "parte-9"
    assert repo.contacts_of_party(1, "parte-9") == [7, 8]
    with conn.transaction():
        assert repo.unlink(1, 8)
    assert repo.get_link(1, 8) is None


# Change feed -------------------------------------------------------------------------------------------


def feed_when_visible(repo: ChangeRepository, integration_id: int, *, after: str | None, limit: int, expect: int):  # type: ignore[no-untyped-def]
    """The feed holds events back while any older transaction in the cluster is still running (other test
    workers share the server), so a reader polls, as a real consumer does."""
    deadline = time.monotonic() + 15
    while True:
        items, cursor = repo.feed(integration_id, after=after, limit=limit)
        if len(items) >= expect or time.monotonic() > deadline:
            return items, cursor
        time.sleep(0.05)


def change(n: int, integration_id: int = 1) -> NewChange:
    return NewChange(
        integration_id=integration_id, type="conversation.updated", actor="sync", conversation_id=n, data={"n": n}
    )


def test_feed_pages_in_commit_order_per_integration(conn: Connection) -> None:
    create_integration(conn, account_id=1)
    create_integration(conn, account_id=2)
    repo = ChangeRepository(conn)
    for n in range(1, 6):
        with conn.transaction():
            repo.append([change(n), change(n, integration_id=2)])
    first, cursor = feed_when_visible(repo, 1, after=None, limit=3, expect=3)
    second, cursor2 = feed_when_visible(repo, 1, after=cursor, limit=3, expect=2)
    empty, cursor3 = repo.feed(1, after=cursor2, limit=3)
    assert [c.data["n"] for c in first] == [1, 2, 3]
    assert [c.data["n"] for c in second] == [4, 5]
    assert empty == [] and cursor3 == cursor2
    assert all(c.integration_id == 1 and c.tenant == "local" for c in first + second)


def test_feed_never_skips_an_event_that_commits_late(conn: Connection, database_url: str) -> None:
    create_integration(conn)
    repo = ChangeRepository(conn)
    slow = psycopg.connect(database_url, autocommit=True, row_factory=dict_row)
    try:
        with slow.transaction():
            ChangeRepository(slow).append([change(1)])  # older transaction, still open
            with conn.transaction():
                repo.append([change(2)])  # newer transaction commits first
            hidden, cursor = repo.feed(1, after=None, limit=10)
            assert hidden == []  # held back until the older transaction ends
        items, _ = feed_when_visible(repo, 1, after=cursor, limit=10, expect=2)
        assert [c.data["n"] for c in items] == [1, 2]
    finally:
        slow.close()


def test_unpublished_events_are_claimed_once(conn: Connection, database_url: str) -> None:
    create_integration(conn)
    repo = ChangeRepository(conn)
    with conn.transaction():
        repo.append([change(1), change(2)])
    other = psycopg.connect(database_url, autocommit=True, row_factory=dict_row)
    claimed_elsewhere: list[int] = []
    try:
        with conn.transaction():
            mine = repo.unpublished()
            done = threading.Event()

            def claim() -> None:
                with other.transaction():
                    claimed_elsewhere.extend(c.id for c in ChangeRepository(other).unpublished())
                done.set()

            threading.Thread(target=claim).start()
            assert done.wait(5)
            repo.mark_published([c.id for c in mine])
    finally:
        other.close()
    assert len(mine) == 2 and claimed_elsewhere == []
    with conn.transaction():
        assert repo.unpublished() == []


def test_change_cursor_rejects_garbage() -> None:
    for bad in ("", "abc", "LTE6LTE"):
        with pytest.raises(ValidationFailed):
            decode_change_cursor(bad)
