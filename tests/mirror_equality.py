"""The mirror compared with Chatwoot's state (the simulator's records), field by field, and with itself.

The expected rows are derived from the simulator's own records and Chatwoot's rendering rules, never from the
product's mapping code, so a mapping mistake shows up as a difference:

* REST renders most times as integer unix seconds; ``snoozed_until`` to the millisecond; ``updated_at`` as a float
  kept to the microsecond (the ordering guard);
* a message's time is whole seconds in REST and milliseconds in a webhook, and a message row is written once by
  whichever came first, so message times (and a conversation's ``last_message_at``) are compared to the second.

What the mirror must equal after the final sync:

* conversations: every field it keeps, the set of message ids and each message's fields; conversations Chatwoot
  no longer has must be soft-deleted;
* agents: name, email, role, availability, active; inbox and team membership;
* contacts of live conversations: name, email, phone, identifier (contacts nothing points at are not the sync's
  business: Chatwoot's contact list is not read);

and, at any moment, the counters the triggers keep must equal a recount from the rows.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from chatwoot_integration.db import Database
from chatwoot_simulator import Simulator
from chatwoot_simulator.presenters import unread_count
from chatwoot_simulator.state import Conversation as SimConversation
from chatwoot_simulator.state import Message as SimMessage

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
STORED_MESSAGE_TYPES = ("incoming", "outgoing", "template")

Row = dict[str, Any]


def _seconds(value: float | None) -> datetime | None:
    return None if value is None else datetime.fromtimestamp(int(value), UTC)


def _milliseconds(value: float | None) -> datetime | None:
    if value is None:
        return None
    moment = datetime.fromtimestamp(value, UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def _to_second(value: datetime | None) -> datetime | None:
    return None if value is None else value.replace(microsecond=0)


def _sender_type(message: SimMessage) -> str | None:
    return None if message.sender_type is None else message.sender_type.lower()


# The mirror keys rows by integration; the helpers here are given the simulator's account id, which in these tests
# only one integration uses.
_BY_ACCOUNT = "integration_id = (SELECT id FROM integracoes_chatwoot WHERE account_id = %s)"


# Expected, from the simulator ---------------------------------------------------------------------------------


def expected_conversations(sim: Simulator, account_id: int) -> dict[int, Row]:
    with sim.locked() as store:
        return {
            c.display_id: _expected_conversation(store, c)
            for c in store.conversations.values()
            if c.account_id == account_id
        }


def _expected_conversation(store: Any, c: SimConversation) -> Row:
    messages: list[SimMessage] = store.conversation_messages(c)
    kept = [m for m in messages if m.message_type != "activity"]
    visible = [m for m in kept if not m.private]
    last = max(visible, key=lambda m: m.id) if visible else None
    return {
        "inbox_id": c.inbox_id,
        "contact_id": c.contact_id,
        "status": c.status,
        "priority": c.priority,
        "assignee_id": c.assignee_id,
        "agent_bot_id": None,  # the simulator has no agent bots
        "team_id": c.team_id,
        "labels": list(c.labels),
        "custom_attributes": dict(c.custom_attributes),
        "unread_count": unread_count(store, c),
        "last_activity_at": _seconds(c.last_activity_at),
        "waiting_since": _seconds(c.waiting_since),
        "snoozed_until": _milliseconds(c.snoozed_until),
        "first_reply_created_at": _seconds(c.first_reply_created_at),
        "chatwoot_created_at": _seconds(c.created_at),
        "chatwoot_updated_at": EPOCH + timedelta(microseconds=c.updated_at_us),
        "messages_count": sum(1 for m in kept if not m.private and m.message_type in STORED_MESSAGE_TYPES),
        "private_notes_count": sum(1 for m in kept if m.private),
        "last_message_at": _seconds(last.created_at) if last else None,
        "last_message_preview": last.content[:280] if last else None,
        "deleted": False,
        "messages": {
            m.id: {
                "message_type": m.message_type,
                "private": m.private,
                "sender_type": _sender_type(m),
                "sender_id": m.sender_id,
                "content": m.content,
                "created_at": _seconds(m.created_at),
            }
            for m in kept
        },
    }


# Mirrored, from the database -----------------------------------------------------------------------------------

_CONVERSATION_FIELDS = (
    "inbox_id",
    "contact_id",
    "status",
    "priority",
    "assignee_id",
    "agent_bot_id",
    "team_id",
    "custom_attributes",
    "unread_count",
    "last_activity_at",
    "waiting_since",
    "snoozed_until",
    "first_reply_created_at",
    "chatwoot_created_at",
    "chatwoot_updated_at",
    "messages_count",
    "private_notes_count",
    "last_message_preview",
)


def mirrored_conversations(db: Database, account_id: int) -> dict[int, Row]:
    with db.transaction() as conn:
        rows = conn.execute(f"SELECT * FROM conversas_chatwoot WHERE {_BY_ACCOUNT}", (account_id,)).fetchall()
        messages = conn.execute(
            "SELECT conversation_id, message_id, message_type, private, sender_type, sender_id, content,"
            f" chatwoot_created_at FROM mensagens_chatwoot WHERE {_BY_ACCOUNT}",
            (account_id,),
        ).fetchall()
    by_conversation: dict[int, dict[int, Row]] = {}
    for m in messages:
        by_conversation.setdefault(m["conversation_id"], {})[m["message_id"]] = {
            "message_type": m["message_type"],
            "private": m["private"],
            "sender_type": m["sender_type"],
            "sender_id": m["sender_id"],
            "content": m["content"],
            "created_at": _to_second(m["chatwoot_created_at"]),
        }
    return {
        row["conversation_id"]: {
            **{name: row[name] for name in _CONVERSATION_FIELDS},
            "labels": list(row["labels"]),
            "last_message_at": _to_second(row["last_message_at"]),
            "deleted": row["deleted_at"] is not None,
            "messages": by_conversation.get(row["conversation_id"], {}),
        }
        for row in rows
    }


# Differences ---------------------------------------------------------------------------------------------------


def conversation_differences(db: Database, sim: Simulator, account_id: int) -> list[str]:
    expected = expected_conversations(sim, account_id)
    mirrored = mirrored_conversations(db, account_id)
    found: list[str] = []
    where = f"account {account_id} conversation"
    for display_id, want in sorted(expected.items()):
        have = mirrored.get(display_id)
        if have is None:
            found.append(f"{where} {display_id}: missing from the mirror")
            continue
        for key, value in want.items():
            if key == "messages":
                found.extend(_message_differences(f"{where} {display_id}", value, have["messages"]))
            elif have[key] != value:
                found.append(f"{where} {display_id}.{key}: mirror {have[key]!r} != chatwoot {value!r}")
    found.extend(
        f"{where} {display_id}: deleted in Chatwoot but live in the mirror"
        for display_id, have in sorted(mirrored.items())
        if display_id not in expected and not have["deleted"]
    )
    return found


def _message_differences(where: str, expected: dict[int, Row], mirrored: dict[int, Row]) -> list[str]:
    found = [f"{where} message {mid}: missing from the mirror" for mid in sorted(expected.keys() - mirrored.keys())]
    found.extend(f"{where} message {mid}: not in Chatwoot" for mid in sorted(mirrored.keys() - expected.keys()))
    for message_id in sorted(expected.keys() & mirrored.keys()):
        want, have = expected[message_id], mirrored[message_id]
        found.extend(
            f"{where} message {message_id}.{key}: mirror {have[key]!r} != chatwoot {value!r}"
            for key, value in want.items()
            if have[key] != value
        )
    return found


def agent_differences(db: Database, sim: Simulator, account_id: int) -> list[str]:
    with db.transaction() as conn:
        rows = {
            r["agent_id"]: r
            for r in conn.execute(f"SELECT * FROM usuarios_chatwoot WHERE {_BY_ACCOUNT}", (account_id,))
        }
        inbox_members = {
            (r["inbox_id"], r["agent_id"])
            for r in conn.execute(
                f"SELECT inbox_id, agent_id FROM membros_inbox_chatwoot WHERE {_BY_ACCOUNT}", (account_id,)
            )
        }
        team_members = {
            (r["team_id"], r["agent_id"])
            for r in conn.execute(
                f"SELECT team_id, agent_id FROM membros_equipe_chatwoot WHERE {_BY_ACCOUNT}", (account_id,)
            )
        }
    where = f"account {account_id} agent"
    found: list[str] = []
    agents = sim.list_agents(account_id)
    for agent in agents:
        row = rows.get(agent.id)
        if row is None:
            found.append(f"{where} {agent.id}: missing from the mirror")
            continue
        want = {
            "name": agent.name,
            "email": agent.email,
            "role": agent.role,
            "availability": agent.availability,
            "active": True,
        }
        found.extend(
            f"{where} {agent.id}.{key}: mirror {row[key]!r} != chatwoot {value!r}"
            for key, value in want.items()
            if row[key] != value
        )
    known = {agent.id for agent in agents}
    found.extend(
        f"{where} {agent_id}: not in Chatwoot but active in the mirror"
        for agent_id, row in sorted(rows.items())
        if agent_id not in known and row["active"]
    )
    want_inbox = {(i.id, a) for i in sim.list_inboxes(account_id) for a in i.member_ids}
    want_team = {(t.id, a) for t in sim.list_teams(account_id) for a in t.member_ids}
    found.extend(_set_differences(f"account {account_id} inbox member", inbox_members, want_inbox))
    found.extend(_set_differences(f"account {account_id} team member", team_members, want_team))
    return found


def _set_differences(what: str, mirrored: set[tuple[int, int]], expected: set[tuple[int, int]]) -> list[str]:
    found = [f"{what} (group, agent) {pair}: missing from the mirror" for pair in sorted(expected - mirrored)]
    found.extend(f"{what} (group, agent) {pair}: not in Chatwoot" for pair in sorted(mirrored - expected))
    return found


def contact_differences(db: Database, sim: Simulator, account_id: int) -> list[str]:
    with sim.locked() as store:
        referenced = sorted({c.contact_id for c in store.conversations.values() if c.account_id == account_id})
        expected = {
            contact_id: {
                "name": store.contacts[contact_id].name,
                "email": store.contacts[contact_id].email,
                "phone_number": store.contacts[contact_id].phone_number,
                "identifier": store.contacts[contact_id].identifier,
            }
            for contact_id in referenced
        }
    with db.transaction() as conn:
        rows = {
            r["contact_id"]: r
            for r in conn.execute(
                "SELECT contact_id, name, email, phone_number, identifier FROM contatos_chatwoot"
                f" WHERE {_BY_ACCOUNT} AND contact_id = ANY(%s)",
                (account_id, referenced),
            )
        }
    where = f"account {account_id} contact"
    found: list[str] = []
    for contact_id, want in expected.items():
        row = rows.get(contact_id)
        if row is None:
            found.append(f"{where} {contact_id}: missing from the mirror")
            continue
        found.extend(
            f"{where} {contact_id}.{key}: mirror {row[key]!r} != chatwoot {value!r}"
            for key, value in want.items()
            if row[key] != value
        )
    return found


_MESSAGE_COUNTER_DRIFT = """
SELECT c.integration_id, c.conversation_id, c.messages_count, c.private_notes_count,
       count(m.message_id) FILTER (WHERE NOT m.private AND m.message_type IN ('incoming', 'outgoing', 'template'))
           AS recounted_messages,
       count(m.message_id) FILTER (WHERE m.private) AS recounted_notes
FROM conversas_chatwoot c
LEFT JOIN mensagens_chatwoot m ON m.integration_id = c.integration_id AND m.conversation_id = c.conversation_id
GROUP BY c.integration_id, c.conversation_id, c.messages_count, c.private_notes_count
HAVING c.messages_count <> count(m.message_id)
           FILTER (WHERE NOT m.private AND m.message_type IN ('incoming', 'outgoing', 'template'))
    OR c.private_notes_count <> count(m.message_id) FILTER (WHERE m.private)
ORDER BY c.integration_id, c.conversation_id
"""

_AGENT_LOAD_DRIFT = """
SELECT u.integration_id, u.agent_id, u.active_conversations,
       (SELECT count(*) FROM conversas_chatwoot c
         WHERE c.integration_id = u.integration_id AND c.assignee_id = u.agent_id AND c.deleted_at IS NULL
           AND c.status IN ('open', 'pending')) AS recounted
FROM usuarios_chatwoot u
ORDER BY u.integration_id, u.agent_id
"""


def counter_differences(db: Database) -> list[str]:
    """Stored counters that a recount from the rows contradicts (the triggers keep them; nothing may drift)."""
    with db.transaction() as conn:
        messages = conn.execute(_MESSAGE_COUNTER_DRIFT).fetchall()
        agents = [r for r in conn.execute(_AGENT_LOAD_DRIFT).fetchall() if r["active_conversations"] != r["recounted"]]
    found = [
        f"integration {r['integration_id']} conversation {r['conversation_id']}: stored counts"
        f" (messages {r['messages_count']}, notes {r['private_notes_count']}) != recount"
        f" (messages {r['recounted_messages']}, notes {r['recounted_notes']})"
        for r in messages
    ]
    found.extend(
        f"integration {r['integration_id']} agent {r['agent_id']}: active_conversations {r['active_conversations']}"
        f" != recount {r['recounted']}"
        for r in agents
    )
    return found


def webhook_losses(db: Database, sim: Simulator, account_ids: Iterable[int]) -> list[str]:
    """Live conversations or messages of Chatwoot the mirror lacks: when no webhook was dropped and no sync ran,
    each of them is a delivery that was accepted and then lost."""
    found: list[str] = []
    for account_id in account_ids:
        mirrored = mirrored_conversations(db, account_id)
        for display_id, want in sorted(expected_conversations(sim, account_id).items()):
            have = mirrored.get(display_id)
            where = f"account {account_id} conversation {display_id}"
            if have is None or have["deleted"]:
                found.append(f"{where}: not in the mirror")
                continue
            found.extend(
                f"{where} message {mid}: not in the mirror"
                for mid in sorted(want["messages"].keys() - have["messages"].keys())
            )
    return found


def mirror_differences(db: Database, sim: Simulator, account_ids: Iterable[int]) -> list[str]:
    """Everything that keeps the mirror from being equal to Chatwoot; empty when it converged."""
    found: list[str] = []
    for account_id in account_ids:
        found.extend(conversation_differences(db, sim, account_id))
        found.extend(agent_differences(db, sim, account_id))
        found.extend(contact_differences(db, sim, account_id))
    found.extend(counter_differences(db))
    return found


_STATE_TABLES = {
    "integracoes_chatwoot": "id",
    "usuarios_chatwoot": "integration_id, agent_id",
    "membros_inbox_chatwoot": "integration_id, inbox_id, agent_id",
    "membros_equipe_chatwoot": "integration_id, team_id, agent_id",
    "contatos_chatwoot": "integration_id, contact_id",
    "conversas_chatwoot": "integration_id, conversation_id",
    "mensagens_chatwoot": "integration_id, message_id",
    "sincronizacao_conversas_chatwoot": "integration_id, conversation_id",
    "entregas_webhook_chatwoot": "id",
    "eventos_chatwoot": "id",
}


def database_state(db: Database) -> dict[str, list[Row]]:
    """Every row the product keeps, every column (its own timestamps included): equal snapshots mean nothing was
    written at all."""
    with db.transaction() as conn:
        return {
            table: conn.execute(f"SELECT * FROM {table} ORDER BY {order}").fetchall()
            for table, order in _STATE_TABLES.items()
        }


def describe(differences: Sequence[str], *, seed: int, limit: int = 25) -> str:
    """An assertion message: the seed to replay, how many differences, and the first ``limit`` of them."""
    shown = "\n  ".join(differences[:limit])
    more = f"\n  ... and {len(differences) - limit} more" if len(differences) > limit else ""
    return f"seed {seed} (replay with CONVERGENCE_SEED={seed}): {len(differences)} differences\n  {shown}{more}"
