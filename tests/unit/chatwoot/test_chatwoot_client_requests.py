"""Each client method sends the request Chatwoot expects and parses Chatwoot's answer into typed models."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest

from chatwoot_integration.chatwoot.client import ChatwootClient
from chatwoot_integration.chatwoot.errors import ChatwootInvalidResponse
from chatwoot_integration.chatwoot.models import Agent, MessageType, Team
from tests.unit.chatwoot.chatwoot_rest_fakes import (
    API_TOKEN,
    ScriptedChatwoot,
    account_path,
    agent_json,
    assigned_meta,
    body_of,
    contact_json,
    conversation_json,
    message_json,
    team_json,
)

CONVERSATION = account_path("/conversations/1043")


def only_request(chatwoot: ScriptedChatwoot) -> httpx.Request:
    assert len(chatwoot.requests) == 1
    request = chatwoot.requests[0]
    assert request.headers["api_access_token"] == API_TOKEN
    assert request.headers["accept"] == "application/json"
    return request


def conversation_list(*conversations: dict[str, object]) -> dict[str, object]:
    return {
        "data": {
            "meta": {"mine_count": 0, "assigned_count": 1, "unassigned_count": 1, "all_count": 2},
            "payload": list(conversations),
        }
    }


class TestListConversations:
    def test_sends_status_and_page_and_parses_the_data_wrapper(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on(
            "GET",
            account_path("/conversations"),
            httpx.Response(200, json=conversation_list(conversation_json(), conversation_json(id=1044))),
        )

        page = client.list_conversations(page=2)

        request = only_request(chatwoot)
        assert request.url.path == "/api/v1/accounts/3/conversations"
        assert list(request.url.params.multi_items()) == [("status", "all"), ("page", "2")]
        assert [conversation.id for conversation in page.items] == [1043, 1044]
        assert (page.meta.assigned_count, page.meta.unassigned_count, page.meta.all_count) == (1, 1, 2)
        assert page.page == 2

    def test_sends_every_filter_and_repeats_labels_rails_style(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", account_path("/conversations"), httpx.Response(200, json=conversation_list()))

        client.list_conversations(
            status="open",
            assignee_type="unassigned",
            sort_by="waiting_since_asc",
            inbox_id=7,
            team_id=4,
            labels=["trabalhista", "urgente"],
        )

        assert list(only_request(chatwoot).url.params.multi_items()) == [
            ("status", "open"),
            ("assignee_type", "unassigned"),
            ("page", "1"),
            ("sort_by", "waiting_since_asc"),
            ("inbox_id", "7"),
            ("team_id", "4"),
            ("labels[]", "trabalhista"),
            ("labels[]", "urgente"),
        ]

    def test_updated_within_replaces_paging(self, client: ChatwootClient, chatwoot: ScriptedChatwoot) -> None:
        chatwoot.on(
            "GET", account_path("/conversations"), httpx.Response(200, json=conversation_list(conversation_json()))
        )

        page = client.list_conversations(updated_within=900)

        assert list(only_request(chatwoot).url.params.multi_items()) == [
            ("status", "all"),
            ("updated_within", "900"),
        ]
        assert page.page is None
        assert len(page.items) == 1


class TestGetConversation:
    def test_parses_the_rest_conversation_with_timestamps_as_utc_datetimes(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", CONVERSATION, httpx.Response(200, json=conversation_json()))

        conversation = client.get_conversation(1043)

        assert only_request(chatwoot).method == "GET"
        assert conversation.display_id == 1043
        assert conversation.account_id == 3
        assert conversation.uuid == "0c6f5b3e-6a55-4f44-9a0e-5a8c7d1b2e90"
        assert conversation.status == "open"
        assert conversation.labels == ["trabalhista"]
        assert conversation.custom_attributes == {"numero_processo": "0001234-56.2026.8.26.0100"}
        assert conversation.created_at == datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)
        assert conversation.waiting_since == datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)
        assert conversation.first_reply_created_at is None  # Chatwoot sends 0 for "never"
        assert conversation.agent_last_seen_at is None
        assert conversation.contact_id == 812
        assert conversation.assignee_id is None

    def test_keeps_updated_at_as_the_raw_float_and_as_a_microsecond_datetime(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", CONVERSATION, httpx.Response(200, json=conversation_json()))

        conversation = client.get_conversation(1043)

        assert conversation.updated_at == 1781691130.548213
        assert conversation.updated_at_datetime == datetime(2026, 6, 17, 10, 12, 10, 548213, tzinfo=UTC)

    def test_parses_assignee_team_and_the_integer_message_type(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on(
            "GET",
            CONVERSATION,
            httpx.Response(200, json=conversation_json(meta=assigned_meta(agent_json(), team_json()))),
        )

        conversation = client.get_conversation(1043)

        assert conversation.assignee_id == 14
        assert conversation.meta.assignee is not None
        assert conversation.meta.assignee.role == "agent"
        assert conversation.team_id == 4
        assert conversation.messages[0].message_type == MessageType.INCOMING
        assert conversation.messages[0].created_at == datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)

    def test_ignores_fields_added_by_newer_chatwoot_versions(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        payload = conversation_json(applied_sla={"id": 1}, sla_events=[], brand_new_field={"x": 1})
        chatwoot.on("GET", CONVERSATION, httpx.Response(200, json=payload))

        assert client.get_conversation(1043).id == 1043


class TestWrites:
    def test_toggle_status_posts_the_status_and_parses_the_payload(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on(
            "POST",
            CONVERSATION + "/toggle_status",
            httpx.Response(
                200,
                json={
                    "meta": {},
                    "payload": {
                        "success": True,
                        "conversation_id": 1043,
                        "current_status": "resolved",
                        "snoozed_until": None,
                    },
                },
            ),
        )

        result = client.toggle_status(1043, "resolved")

        assert body_of(only_request(chatwoot)) == {"status": "resolved"}
        assert (result.success, result.conversation_id, result.current_status) == (True, 1043, "resolved")
        assert result.snoozed_until is None

    def test_toggle_status_sends_snoozed_until_as_unix_seconds(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on(
            "POST",
            CONVERSATION + "/toggle_status",
            httpx.Response(
                200,
                json={
                    "meta": {},
                    "payload": {
                        "success": True,
                        "conversation_id": 1043,
                        "current_status": "snoozed",
                        "snoozed_until": "2026-06-18T12:00:00.000Z",
                    },
                },
            ),
        )

        result = client.toggle_status(1043, "snoozed", snoozed_until=1781784000)

        assert body_of(only_request(chatwoot)) == {"status": "snoozed", "snoozed_until": 1781784000}
        assert result.snoozed_until == datetime(2026, 6, 18, 12, 0, tzinfo=UTC)

    def test_toggle_status_rejects_an_unknown_status_without_sending(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        with pytest.raises(ValueError, match="status must be one of"):
            client.toggle_status(1043, "closed")  # type: ignore[arg-type]

        assert chatwoot.requests == []

    @pytest.mark.parametrize(("priority", "sent"), [("urgent", {"priority": "urgent"}), (None, {"priority": None})])
    def test_toggle_priority_posts_the_priority_or_null_to_clear_it(
        self,
        client: ChatwootClient,
        chatwoot: ScriptedChatwoot,
        priority: str | None,
        sent: dict[str, str | None],
    ) -> None:
        chatwoot.on("POST", CONVERSATION + "/toggle_priority", httpx.Response(200))

        assert client.toggle_priority(1043, priority) is None  # type: ignore[arg-type,func-returns-value]

        assert body_of(only_request(chatwoot)) == sent

    def test_set_labels_replaces_the_list_and_returns_what_chatwoot_holds(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on(
            "POST",
            CONVERSATION + "/labels",
            httpx.Response(200, json={"payload": ["trabalhista", "urgente"]}),
        )

        labels = client.set_labels(1043, ["trabalhista", "urgente", "trabalhista"])

        assert body_of(only_request(chatwoot)) == {"labels": ["trabalhista", "urgente"]}
        assert labels == ["trabalhista", "urgente"]

    def test_list_labels_unwraps_the_payload(self, client: ChatwootClient, chatwoot: ScriptedChatwoot) -> None:
        chatwoot.on("GET", CONVERSATION + "/labels", httpx.Response(200, json={"payload": ["trabalhista"]}))

        assert client.list_labels(1043) == ["trabalhista"]
        assert only_request(chatwoot).method == "GET"

    def test_assign_agent_checks_the_agent_list_then_posts_the_assignee(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", account_path("/agents"), httpx.Response(200, json=[agent_json(), agent_json(id=15)]))
        chatwoot.on("POST", CONVERSATION + "/assignments", httpx.Response(200, json=agent_json()))

        agent = client.assign_agent(1043, 14)

        assert [(request.method, request.url.path) for request in chatwoot.requests] == [
            ("GET", account_path("/agents")),
            ("POST", CONVERSATION + "/assignments"),
        ]
        assert body_of(chatwoot.requests[1]) == {"assignee_id": 14}
        assert isinstance(agent, Agent)
        assert (agent.id, agent.name, agent.availability_status) == (14, "Ana Lima", "online")

    def test_assign_agent_reuses_the_cached_agent_list(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", account_path("/agents"), httpx.Response(200, json=[agent_json()]))
        chatwoot.on("POST", CONVERSATION + "/assignments", httpx.Response(200, json=agent_json()))

        client.assign_agent(1043, 14)
        client.assign_agent(1043, 14)

        assert len(chatwoot.sent("GET", account_path("/agents"))) == 1
        assert len(chatwoot.sent("POST", CONVERSATION + "/assignments")) == 2

    def test_assign_agent_returns_none_when_chatwoot_answers_null(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", account_path("/agents"), httpx.Response(200, json=[agent_json()]))
        chatwoot.on("POST", CONVERSATION + "/assignments", httpx.Response(200, content=b"null"))

        assert client.assign_agent(1043, 14) is None

    def test_unassign_posts_a_null_assignee(self, client: ChatwootClient, chatwoot: ScriptedChatwoot) -> None:
        chatwoot.on("POST", CONVERSATION + "/assignments", httpx.Response(200, content=b"null"))

        client.unassign(1043)

        assert body_of(only_request(chatwoot)) == {"assignee_id": None}

    def test_assign_team_checks_the_team_list_then_posts_the_team(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", account_path("/teams"), httpx.Response(200, json=[team_json()]))
        chatwoot.on("POST", CONVERSATION + "/assignments", httpx.Response(200, json=team_json()))

        team = client.assign_team(1043, 4)

        assert body_of(chatwoot.sent("POST")[0]) == {"team_id": 4}
        assert isinstance(team, Team)
        assert team.name == "trabalhista"

    def test_assign_team_none_removes_the_team_without_a_lookup(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("POST", CONVERSATION + "/assignments", httpx.Response(200, content=b"null"))

        assert client.assign_team(1043, None) is None

        assert body_of(only_request(chatwoot)) == {"team_id": None}

    def test_update_agent_availability_patches_the_availability(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on(
            "PATCH", account_path("/agents/14"), httpx.Response(200, json=agent_json(availability_status="busy"))
        )

        agent = client.update_agent_availability(14, "busy")

        assert body_of(only_request(chatwoot)) == {"availability": "busy"}
        assert agent.availability_status == "busy"


class TestDirectoryReads:
    def test_list_agents_parses_the_bare_array(self, client: ChatwootClient, chatwoot: ScriptedChatwoot) -> None:
        chatwoot.on(
            "GET",
            account_path("/agents"),
            httpx.Response(200, json=[agent_json(), agent_json(id=15, role="administrator", auto_offline=False)]),
        )

        agents = client.list_agents()

        assert only_request(chatwoot).url.path == account_path("/agents")
        assert [(agent.id, agent.role, agent.auto_offline) for agent in agents] == [
            (14, "agent", True),
            (15, "administrator", False),
        ]

    def test_list_inboxes_unwraps_the_payload(self, client: ChatwootClient, chatwoot: ScriptedChatwoot) -> None:
        inbox = {
            "id": 7,
            "name": "Site",
            "channel_type": "Channel::WebWidget",
            "channel_id": 2,
            "enable_auto_assignment": False,
            "auto_assignment_config": {},
            "website_token": "wt-public",
        }
        chatwoot.on("GET", account_path("/inboxes"), httpx.Response(200, json={"payload": [inbox]}))

        inboxes = client.list_inboxes()

        assert [(item.id, item.channel_type, item.enable_auto_assignment) for item in inboxes] == [
            (7, "Channel::WebWidget", False)
        ]

    def test_list_inbox_members_unwraps_the_payload(self, client: ChatwootClient, chatwoot: ScriptedChatwoot) -> None:
        chatwoot.on("GET", account_path("/inbox_members/7"), httpx.Response(200, json={"payload": [agent_json()]}))

        assert [agent.id for agent in client.list_inbox_members(7)] == [14]
        assert only_request(chatwoot).url.path == account_path("/inbox_members/7")

    def test_list_teams_and_members_parse_bare_arrays(self, client: ChatwootClient, chatwoot: ScriptedChatwoot) -> None:
        chatwoot.on("GET", account_path("/teams"), httpx.Response(200, json=[team_json()]))
        chatwoot.on("GET", account_path("/teams/4/team_members"), httpx.Response(200, json=[agent_json(id=15)]))

        assert [team.id for team in client.list_teams()] == [4]
        assert [agent.id for agent in client.list_team_members(4)] == [15]

    def test_list_messages_sends_the_cursor_and_parses_meta_and_payload(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        outgoing = message_json(id=55121, message_type=1, sender_type="User", sender_id=14, created_at=1781691200)
        chatwoot.on(
            "GET",
            CONVERSATION + "/messages",
            httpx.Response(
                200,
                json={
                    "meta": {
                        "labels": ["trabalhista"],
                        "additional_attributes": {},
                        "contact": contact_json(),
                        "assignee": agent_json(),
                        "agent_last_seen_at": "2026-06-17T10:13:00.000Z",
                        "assignee_last_seen_at": None,
                    },
                    "payload": [message_json(), outgoing],
                },
            ),
        )

        page = client.list_messages(1043, after=55119)

        assert list(only_request(chatwoot).url.params.multi_items()) == [("after", "55119")]
        assert [(message.id, message.message_type) for message in page.items] == [
            (55120, MessageType.INCOMING),
            (55121, MessageType.OUTGOING),
        ]
        assert page.meta.labels == ["trabalhista"]
        assert page.meta.assignee is not None
        assert page.meta.assignee.id == 14
        assert page.meta.agent_last_seen_at == datetime(2026, 6, 17, 10, 13, tzinfo=UTC)

    def test_list_messages_without_cursor_sends_no_query(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", CONVERSATION + "/messages", httpx.Response(200, json={"meta": {}, "payload": []}))

        assert client.list_messages(1043).items == []
        assert only_request(chatwoot).url.query == b""

    def test_get_contact_unwraps_the_payload(self, client: ChatwootClient, chatwoot: ScriptedChatwoot) -> None:
        chatwoot.on("GET", account_path("/contacts/812"), httpx.Response(200, json={"payload": contact_json()}))

        contact = client.get_contact(812)

        assert (contact.id, contact.name, contact.phone_number) == (812, "Maria Silva", "+5511988887777")
        assert contact.created_at == datetime(2026, 6, 16, 8, 53, 20, tzinfo=UTC)


class TestUnexpectedBodies:
    def test_a_body_of_the_wrong_shape_names_the_field_but_not_its_value(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        broken = conversation_json(status="archived-and-secret")
        chatwoot.on("GET", CONVERSATION, httpx.Response(200, json=broken))

        with pytest.raises(ChatwootInvalidResponse) as caught:
            client.get_conversation(1043)

        assert "status" in caught.value.message
        assert "archived-and-secret" not in caught.value.message

    def test_a_body_that_is_not_json_is_an_invalid_response(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", account_path("/agents"), httpx.Response(200, text="<html>maintenance</html>"))

        with pytest.raises(ChatwootInvalidResponse, match="not JSON"):
            client.list_agents()

    def test_a_list_without_the_data_wrapper_is_an_invalid_response(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        # The filter endpoint's shape (no "data"), answered where the index shape is expected.
        chatwoot.on(
            "GET",
            account_path("/conversations"),
            httpx.Response(200, json={"meta": {}, "payload": [conversation_json()]}),
        )

        with pytest.raises(ChatwootInvalidResponse):
            client.list_conversations()
