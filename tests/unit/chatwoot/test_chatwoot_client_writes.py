"""Writes are never re-sent blindly, and assignments never reach Chatwoot with an id it does not know."""

from __future__ import annotations

import httpx
import pytest

from chatwoot_integration.chatwoot.client import ChatwootClient
from chatwoot_integration.chatwoot.errors import (
    ChatwootNotFound,
    ChatwootOutcomeUnknown,
    ChatwootServerError,
    ChatwootUnavailable,
    UnknownAgentError,
    UnknownTeamError,
)
from chatwoot_integration.chatwoot.retry import RetryPolicy
from tests.unit.chatwoot.chatwoot_rest_fakes import (
    ClientFactory,
    FakeTime,
    ScriptedChatwoot,
    account_path,
    agent_json,
    assigned_meta,
    body_of,
    connect_error,
    conversation_json,
    read_timeout,
    team_json,
)

AGENTS = account_path("/agents")
TEAMS = account_path("/teams")
CONVERSATION = account_path("/conversations/1043")
TOGGLE_STATUS = CONVERSATION + "/toggle_status"
ASSIGNMENTS = CONVERSATION + "/assignments"
LABELS = CONVERSATION + "/labels"


def resolved_answer() -> httpx.Response:
    return httpx.Response(
        200,
        json={
            "meta": {},
            "payload": {"success": True, "conversation_id": 1043, "current_status": "resolved", "snoozed_until": None},
        },
    )


def conversation_answer(**fields: object) -> httpx.Response:
    return httpx.Response(200, json=conversation_json(**fields))


class TestReadTimeoutOnAWrite:
    def test_when_the_re_read_shows_the_change_no_second_post_is_sent(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("POST", TOGGLE_STATUS, read_timeout, resolved_answer())
        chatwoot.on("GET", CONVERSATION, conversation_answer(status="resolved"))

        result = client.toggle_status(1043, "resolved")

        assert len(chatwoot.sent("POST", TOGGLE_STATUS)) == 1
        assert len(chatwoot.sent("GET", CONVERSATION)) == 1
        assert (result.success, result.conversation_id, result.current_status) == (True, 1043, "resolved")

    def test_when_the_re_read_does_not_show_the_change_the_post_is_sent_once_more(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("POST", TOGGLE_STATUS, read_timeout, resolved_answer())
        chatwoot.on("GET", CONVERSATION, conversation_answer(status="open"))

        result = client.toggle_status(1043, "resolved")

        posts = chatwoot.sent("POST", TOGGLE_STATUS)
        assert len(posts) == 2
        assert [body_of(post) for post in posts] == [{"status": "resolved"}, {"status": "resolved"}]
        assert [request.method for request in chatwoot.requests] == ["POST", "GET", "POST"]
        assert result.current_status == "resolved"

    def test_the_re_read_waits_a_backoff_so_the_lost_request_can_finish(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        chatwoot.on("POST", TOGGLE_STATUS, read_timeout)
        chatwoot.on("GET", CONVERSATION, conversation_answer(status="resolved"))

        client.toggle_status(1043, "resolved")

        assert fake_time.sleeps == [0.25]

    def test_labels_confirmed_by_the_re_read_are_returned_from_it(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("POST", LABELS, read_timeout)
        chatwoot.on("GET", CONVERSATION, conversation_answer(labels=["urgente", "trabalhista"]))

        labels = client.set_labels(1043, ["trabalhista", "urgente"])

        assert len(chatwoot.sent("POST", LABELS)) == 1
        assert labels == ["urgente", "trabalhista"]

    def test_an_assignment_confirmed_by_the_re_read_returns_the_assignee(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", AGENTS, httpx.Response(200, json=[agent_json()]))
        chatwoot.on("POST", ASSIGNMENTS, read_timeout)
        chatwoot.on("GET", CONVERSATION, conversation_answer(meta=assigned_meta(agent_json())))

        agent = client.assign_agent(1043, 14)

        assert len(chatwoot.sent("POST", ASSIGNMENTS)) == 1
        assert agent is not None
        assert agent.id == 14

    def test_a_priority_already_in_place_is_not_sent_again(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("POST", CONVERSATION + "/toggle_priority", read_timeout)
        chatwoot.on("GET", CONVERSATION, conversation_answer(priority="urgent"))

        client.toggle_priority(1043, "urgent")

        assert len(chatwoot.sent("POST")) == 1

    def test_an_unassignment_not_yet_in_place_is_sent_again(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("POST", ASSIGNMENTS, read_timeout, httpx.Response(200, content=b"null"))
        chatwoot.on("GET", CONVERSATION, conversation_answer(meta=assigned_meta(agent_json())))

        client.unassign(1043)

        assert [body_of(post) for post in chatwoot.sent("POST")] == [{"assignee_id": None}] * 2

    def test_a_gateway_timeout_is_treated_like_a_lost_answer(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("POST", TOGGLE_STATUS, httpx.Response(504, text="Gateway Time-out"))
        chatwoot.on("GET", CONVERSATION, conversation_answer(status="resolved"))

        client.toggle_status(1043, "resolved")

        assert len(chatwoot.sent("POST")) == 1

    def test_re_sends_stay_within_the_attempt_limit(
        self, make_client: ClientFactory, chatwoot: ScriptedChatwoot
    ) -> None:
        client = make_client(policy=RetryPolicy(max_attempts=3))
        chatwoot.on("POST", TOGGLE_STATUS, read_timeout)
        chatwoot.on("GET", CONVERSATION, conversation_answer(status="open"))

        with pytest.raises(ChatwootUnavailable, match="ReadTimeout"):
            client.toggle_status(1043, "resolved")

        assert len(chatwoot.sent("POST")) == 3
        assert len(chatwoot.sent("GET")) == 3

    def test_when_the_re_read_fails_the_outcome_is_unknown_and_nothing_is_re_sent(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("POST", TOGGLE_STATUS, read_timeout)
        chatwoot.on("GET", CONVERSATION, httpx.Response(500))

        with pytest.raises(ChatwootOutcomeUnknown) as caught:
            client.toggle_status(1043, "resolved")

        assert isinstance(caught.value.__cause__, ChatwootServerError)
        assert len(chatwoot.sent("POST")) == 1

    def test_a_conversation_missing_on_re_read_is_not_found(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("POST", TOGGLE_STATUS, read_timeout)
        chatwoot.on("GET", CONVERSATION, httpx.Response(404, json={"error": "Resource could not be found"}))

        with pytest.raises(ChatwootNotFound):
            client.toggle_status(1043, "resolved")

        assert len(chatwoot.sent("POST")) == 1


class TestWritesChatwootDidNotProcess:
    @pytest.mark.parametrize(
        "refusal", [connect_error, httpx.Response(503), httpx.Response(429, headers={"Retry-After": "1"})]
    )
    def test_are_re_sent_without_a_re_read(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, refusal: httpx.Response
    ) -> None:
        chatwoot.on("POST", TOGGLE_STATUS, refusal, resolved_answer())

        assert client.toggle_status(1043, "resolved").current_status == "resolved"

        assert [request.method for request in chatwoot.requests] == ["POST", "POST"]

    def test_availability_patch_sets_an_absolute_value_so_it_retries_like_a_read(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("PATCH", AGENTS + "/14", read_timeout, httpx.Response(200, json=agent_json()))

        client.update_agent_availability(14, "online")

        assert [request.method for request in chatwoot.requests] == ["PATCH", "PATCH"]


class TestUnknownAgentGuard:
    def test_an_agent_chatwoot_does_not_know_is_refused_before_any_post(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", AGENTS, httpx.Response(200, json=[agent_json(), agent_json(id=15)]))
        chatwoot.on("POST", ASSIGNMENTS, httpx.Response(200, content=b"null"))

        with pytest.raises(UnknownAgentError) as caught:
            client.assign_agent(1043, 99)

        assert caught.value.agent_id == 99
        assert chatwoot.sent("POST") == []

    def test_a_miss_in_a_fresh_cache_refreshes_it_once(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on(
            "GET",
            AGENTS,
            httpx.Response(200, json=[agent_json()]),
            httpx.Response(200, json=[agent_json(), agent_json(id=15, name="Bruno Costa")]),
        )
        chatwoot.on("POST", ASSIGNMENTS, httpx.Response(200, json=agent_json(id=15, name="Bruno Costa")))

        client.assign_agent(1043, 14)
        agent = client.assign_agent(1043, 15)

        assert len(chatwoot.sent("GET", AGENTS)) == 2
        assert [body_of(post) for post in chatwoot.sent("POST")] == [{"assignee_id": 14}, {"assignee_id": 15}]
        assert agent is not None
        assert agent.name == "Bruno Costa"

    def test_an_expired_cache_is_refreshed_and_a_removed_agent_refused(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        chatwoot.on(
            "GET",
            AGENTS,
            httpx.Response(200, json=[agent_json()]),
            httpx.Response(200, json=[agent_json(id=15)]),
        )
        chatwoot.on("POST", ASSIGNMENTS, httpx.Response(200, json=agent_json()))
        client.assign_agent(1043, 14)
        fake_time.advance(61)

        with pytest.raises(UnknownAgentError):
            client.assign_agent(1043, 14)

        assert len(chatwoot.sent("GET", AGENTS)) == 2
        assert len(chatwoot.sent("POST")) == 1

    @pytest.mark.parametrize("agent_id", [0, -3])
    def test_ids_that_cannot_exist_are_refused_without_any_request(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, agent_id: int
    ) -> None:
        with pytest.raises(UnknownAgentError):
            client.assign_agent(1043, agent_id)

        assert chatwoot.requests == []

    def test_a_team_chatwoot_does_not_know_is_refused_before_any_post(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", TEAMS, httpx.Response(200, json=[team_json()]))

        with pytest.raises(UnknownTeamError):
            client.assign_team(1043, 9)

        assert [request.method for request in chatwoot.requests] == ["GET"]
