"""The one mapping, REST side: agents, contacts, the newest message, stored messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from chatwoot_integration.chatwoot.models import Agent, Conversation, Message
from chatwoot_integration.mapping import agent_states, conversation_contact, last_message_id, rest_message_records
from chatwoot_integration.sync.agents import summarise_agent_changes

CREATED = 1_781_690_000


def rest_message(message_id: int, message_type: int, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": message_id,
        "content": f"mensagem {message_id}",
        "message_type": message_type,
        "content_type": "text",
        "created_at": CREATED + message_id,
        "private": False,
        "conversation_id": 7,
    }
    values.update(overrides)
    return values


def rest_conversation(**overrides: Any) -> Conversation:
    values: dict[str, Any] = {
        "id": 7,
        "inbox_id": 1,
        "status": "open",
        "created_at": CREATED,
        "updated_at": CREATED + 0.5,
        "meta": {"sender": {"id": 40, "name": "Maria", "email": "maria@email.example", "phone_number": "+5511"}},
    }
    values.update(overrides)
    return Conversation.model_validate(values)


def test_agents_take_a_default_role_and_availability_and_agents_of_other_accounts_are_left_out() -> None:
    agents = [
        Agent(id=1, account_id=3, name="Ana", email="ana@x.example", role="administrator", availability_status="busy"),
        Agent(id=2, name="", available_name="Bruno"),
        Agent(id=9, account_id=4, name="Outra conta"),
    ]

    states = agent_states(12, 3, agents)  # integration 12 connects account 3

    assert all(s.integration_id == 12 for s in states)
    assert [(s.agent_id, s.name, s.role, s.availability) for s in states] == [
        (1, "Ana", "administrator", "busy"),
        (2, "Bruno", "agent", "offline"),
    ]


def test_the_contact_comes_from_meta_sender() -> None:
    contact = conversation_contact(3, rest_conversation())

    assert contact is not None
    assert contact.model_dump() == {
        "integration_id": 3,
        "contact_id": 40,
        "name": "Maria",
        "email": "maria@email.example",
        "phone_number": "+5511",
        "identifier": None,
    }
    assert conversation_contact(3, rest_conversation(meta={})) is None


def test_the_newest_message_is_the_last_non_activity_one_and_an_activity_never_counts() -> None:
    with_field = rest_conversation(last_non_activity_message=rest_message(12, 1), messages=[rest_message(13, 2)])
    older_version = rest_conversation(messages=[rest_message(12, 0)])
    only_activity = rest_conversation(messages=[rest_message(13, 2)])

    assert [last_message_id(c) for c in (with_field, older_version, only_activity, rest_conversation())] == [
        12,
        12,
        None,
        None,
    ]


def test_stored_messages_keep_notes_and_templates_drop_activities_and_content_when_asked() -> None:
    messages = [
        Message.model_validate(rest_message(1, 0, sender={"id": 40, "name": "Maria"})),
        Message.model_validate(rest_message(2, 1, private=True, sender={"id": 5, "type": "user"})),
        Message.model_validate(rest_message(3, 2)),
        Message.model_validate(rest_message(4, 3)),
        Message.model_validate(
            rest_message(5, 1, content_attributes={"deleted": True}, sender_type="User", sender_id=5)
        ),
    ]

    kept = rest_message_records(3, 7, messages, store_content=True)
    without_content = rest_message_records(3, 7, messages, store_content=False)

    assert [(m.message_id, m.message_type, m.private, m.sender_type, m.sender_id) for m in kept] == [
        (1, "incoming", False, "contact", 40),
        (2, "outgoing", True, "user", 5),
        (4, "template", False, None, None),
        (5, "outgoing", False, "user", 5),
    ]
    assert [m.content for m in kept] == ["mensagem 1", "mensagem 2", "mensagem 4", None]
    assert kept[-1].deleted is True
    assert all(m.content is None for m in without_content)
    assert kept[0].chatwoot_created_at == datetime.fromtimestamp(CREATED + 1, UTC)


def test_a_message_without_a_creation_time_is_skipped() -> None:
    broken = Message.model_validate(rest_message(1, 0, created_at=0))

    assert rest_message_records(3, 7, [broken], store_content=True) == []


def test_the_agent_refresh_reports_who_went_offline_or_left_and_who_came_online() -> None:
    changed: list[dict[str, Any]] = [
        {"agent_id": 1, "inserted": False, "availability": "offline", "previous_availability": "online"},
        {"agent_id": 2, "inserted": False, "availability": "online", "previous_availability": "busy"},
        {"agent_id": 3, "inserted": True, "availability": "online", "previous_availability": None},
        {"agent_id": 4, "inserted": False, "availability": "busy", "previous_availability": "busy"},
        {"agent_id": 5, "deactivated": True},
    ]

    refresh = summarise_agent_changes(changed)

    assert (refresh.changed, refresh.availability_changes) == (5, 2)
    assert (refresh.went_offline, refresh.came_online) == ([1, 5], [2, 3])
