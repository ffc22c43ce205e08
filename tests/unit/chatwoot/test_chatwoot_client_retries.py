"""Errors, retries, the time budget and the deadline, and what the client logs."""

from __future__ import annotations

import logging
from datetime import timedelta
from email.utils import format_datetime

import httpx
import pytest

from chatwoot_integration.chatwoot.client import ChatwootClient
from chatwoot_integration.chatwoot.errors import (
    ChatwootAuthError,
    ChatwootBudgetExceeded,
    ChatwootClientError,
    ChatwootError,
    ChatwootNotFound,
    ChatwootRateLimited,
    ChatwootServerError,
    ChatwootUnavailable,
)
from chatwoot_integration.chatwoot.retry import RetryPolicy
from tests.unit.chatwoot.chatwoot_rest_fakes import (
    API_TOKEN,
    WALL_CLOCK,
    ClientFactory,
    FakeTime,
    ScriptedChatwoot,
    account_path,
    agent_json,
    connect_error,
    conversation_json,
    message_json,
    read_timeout,
    slow,
)

AGENTS = account_path("/agents")
CONVERSATION = account_path("/conversations/1043")
AGENT_LIST = httpx.Response(200, json=[agent_json()])


class TestErrorClasses:
    @pytest.mark.parametrize(
        ("status", "error_class"),
        [
            (401, ChatwootAuthError),
            (403, ChatwootAuthError),
            (404, ChatwootNotFound),
            (422, ChatwootClientError),
        ],
    )
    def test_each_status_maps_to_its_error_without_retrying(
        self,
        client: ChatwootClient,
        chatwoot: ScriptedChatwoot,
        fake_time: FakeTime,
        status: int,
        error_class: type[ChatwootError],
    ) -> None:
        chatwoot.on("GET", AGENTS, httpx.Response(status, json={"error": "nope"}))

        with pytest.raises(error_class) as caught:
            client.list_agents()

        assert caught.value.status_code == status
        assert (caught.value.method, caught.value.path) == ("GET", AGENTS)
        assert len(chatwoot.requests) == 1
        assert fake_time.sleeps == []

    @pytest.mark.parametrize(
        ("body", "expected"),
        [
            ({"error": "Conversation could not be found"}, "Conversation could not be found"),
            ({"message": "Labels is invalid"}, "Labels is invalid"),
            ({"errors": ["Name can't be blank", "Email is invalid"]}, "Name can't be blank; Email is invalid"),
            (
                {"description": "Invalid", "errors": [{"field": "status", "message": "is not a valid status"}]},
                "is not a valid status",
            ),
        ],
    )
    def test_client_errors_carry_chatwoots_message(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, body: dict[str, object], expected: str
    ) -> None:
        chatwoot.on("POST", CONVERSATION + "/labels", httpx.Response(422, json=body))

        with pytest.raises(ChatwootClientError) as caught:
            client.set_labels(1043, ["x"])

        assert expected in caught.value.message
        assert "HTTP 422" in caught.value.message

    def test_a_plain_text_error_body_is_not_kept(self, client: ChatwootClient, chatwoot: ScriptedChatwoot) -> None:
        chatwoot.on("GET", AGENTS, httpx.Response(400, text="Bad Request\n  malformed   query"))

        with pytest.raises(ChatwootClientError) as caught:
            client.list_agents()
        assert caught.value.message.endswith("/agents: HTTP 400")

    def test_a_500_on_a_read_is_retried_then_succeeds(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        chatwoot.on("GET", AGENTS, httpx.Response(500, json={"error": "Internal Server Error"}), AGENT_LIST)

        assert [a.id for a in client.list_agents()] == [agent_json()["id"]]
        assert len(chatwoot.requests) == 2
        assert len(fake_time.sleeps) == 1

    def test_a_500_on_a_read_that_persists_is_a_server_error_after_every_attempt(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", AGENTS, httpx.Response(500, json={"error": "Internal Server Error"}))

        with pytest.raises(ChatwootServerError) as caught:
            client.list_agents()
        assert caught.value.status_code == 500
        assert len(chatwoot.requests) == RetryPolicy().max_attempts

    def test_a_500_on_a_conversation_write_is_not_resent(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("POST", CONVERSATION + "/labels", httpx.Response(500, json={"error": "Internal Server Error"}))

        with pytest.raises(ChatwootServerError):
            client.set_labels(1043, ["x"])
        assert len(chatwoot.sent("POST", CONVERSATION + "/labels")) == 1


class TestRetries:
    def test_429_waits_the_retry_after_seconds_then_succeeds(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        chatwoot.on("GET", AGENTS, httpx.Response(429, text="Retry later\n", headers={"Retry-After": "7"}), AGENT_LIST)

        agents = client.list_agents()

        assert [agent.id for agent in agents] == [14]
        assert fake_time.sleeps == [7.0]
        assert len(chatwoot.requests) == 2

    def test_429_honours_the_http_date_form_of_retry_after(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        retry_at = format_datetime(WALL_CLOCK + timedelta(seconds=12), usegmt=True)
        chatwoot.on("GET", AGENTS, httpx.Response(429, headers={"Retry-After": retry_at}), AGENT_LIST)

        client.list_agents()

        assert fake_time.sleeps == [12.0]

    def test_429_without_retry_after_backs_off_with_jitter(
        self, make_client: ClientFactory, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        client = make_client(jitter=lambda: 0.25)
        chatwoot.on("GET", AGENTS, httpx.Response(429), AGENT_LIST)

        client.list_agents()

        # Full jitter: a quarter of the first ceiling (base_delay 0.5 s).
        assert fake_time.sleeps == [0.125]

    def test_503_then_success_returns_the_result(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        chatwoot.on("GET", AGENTS, httpx.Response(503, text="Service Unavailable"), AGENT_LIST)

        assert [agent.id for agent in client.list_agents()] == [14]
        assert len(chatwoot.requests) == 2
        assert fake_time.sleeps == [0.25]

    @pytest.mark.parametrize("responder", [read_timeout, connect_error, httpx.Response(502), httpx.Response(504)])
    def test_reads_retry_transient_failures(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, responder: httpx.Response
    ) -> None:
        chatwoot.on("GET", CONVERSATION, responder, httpx.Response(200, json=conversation_json()))

        assert client.get_conversation(1043).id == 1043
        assert len(chatwoot.requests) == 2

    def test_attempts_are_bounded_and_the_backoff_grows(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        chatwoot.on("GET", AGENTS, httpx.Response(503))

        with pytest.raises(ChatwootServerError) as caught:
            client.list_agents()

        assert caught.value.status_code == 503
        assert len(chatwoot.requests) == 5
        assert fake_time.sleeps == [0.25, 0.5, 1.0, 2.0]

    def test_network_failures_end_as_unavailable(self, make_client: ClientFactory, chatwoot: ScriptedChatwoot) -> None:
        client = make_client(policy=RetryPolicy(max_attempts=3))
        chatwoot.on("GET", AGENTS, connect_error)

        with pytest.raises(ChatwootUnavailable, match="ConnectError"):
            client.list_agents()

        assert len(chatwoot.requests) == 3

    def test_persistent_429_ends_as_rate_limited_with_the_last_hint(
        self, make_client: ClientFactory, chatwoot: ScriptedChatwoot
    ) -> None:
        client = make_client(policy=RetryPolicy(max_attempts=2))
        chatwoot.on("GET", AGENTS, httpx.Response(429, headers={"Retry-After": "1"}))

        with pytest.raises(ChatwootRateLimited) as caught:
            client.list_agents()

        assert caught.value.retry_after == 1.0
        assert len(chatwoot.requests) == 2

    def test_a_transport_error_that_is_not_transient_is_not_retried(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", AGENTS, httpx.UnsupportedProtocol("Request URL has an unsupported protocol"))

        with pytest.raises(ChatwootUnavailable):
            client.list_agents()

        assert len(chatwoot.requests) == 1


class TestTimeLimits:
    def test_the_total_budget_stops_retries_before_they_would_overrun_it(
        self, make_client: ClientFactory, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        client = make_client(policy=RetryPolicy(total_budget=3.0))
        # Every attempt takes a second: 1 s + 0.25 s backoff + 1 s leaves no room for a 0.5 s backoff
        # plus a minimal attempt inside 3 s.
        chatwoot.on("GET", AGENTS, slow(fake_time, 1.0, httpx.Response(503)))

        with pytest.raises(ChatwootBudgetExceeded) as caught:
            client.list_agents()

        assert len(chatwoot.requests) == 2
        assert caught.value.status_code == 503
        assert isinstance(caught.value.__cause__, ChatwootServerError)
        assert fake_time.sleeps == [0.25]

    def test_a_deadline_that_has_passed_prevents_any_request(
        self, make_client: ClientFactory, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        client = make_client(deadline=lambda: fake_time.now - 0.1)
        chatwoot.on("GET", AGENTS, AGENT_LIST)

        with pytest.raises(ChatwootBudgetExceeded):
            client.list_agents()

        assert chatwoot.requests == []

    def test_the_deadline_stops_retries_early(
        self, make_client: ClientFactory, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        end = fake_time.now + 2.0
        client = make_client(deadline=lambda: end)
        chatwoot.on("GET", AGENTS, slow(fake_time, 0.5, httpx.Response(503)))

        with pytest.raises(ChatwootBudgetExceeded):
            client.list_agents()

        # 0.5 + 0.25 + 0.5 = 1.25 s used; the next backoff (0.5 s) plus a minimal attempt would end past 2 s.
        assert len(chatwoot.requests) == 2
        assert fake_time.now <= end

    def test_a_retry_after_longer_than_the_budget_is_not_slept(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        chatwoot.on("GET", AGENTS, httpx.Response(429, headers={"Retry-After": "120"}))

        with pytest.raises(ChatwootBudgetExceeded) as caught:
            client.list_agents()

        assert isinstance(caught.value.__cause__, ChatwootRateLimited)
        assert fake_time.sleeps == []
        assert len(chatwoot.requests) == 1

    def test_attempt_timeouts_shrink_to_the_time_left_before_the_deadline(
        self, make_client: ClientFactory, chatwoot: ScriptedChatwoot, fake_time: FakeTime
    ) -> None:
        client = make_client(deadline=lambda: fake_time.now + 2.0)
        chatwoot.on("GET", AGENTS, AGENT_LIST)

        client.list_agents()

        timeout = chatwoot.requests[0].extensions["timeout"]
        assert timeout["read"] == 2.0
        assert timeout["connect"] == 2.0

    def test_default_timeouts_are_three_seconds_to_connect_and_ten_to_read(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", AGENTS, AGENT_LIST)

        client.list_agents()

        timeout = chatwoot.requests[0].extensions["timeout"]
        assert (timeout["connect"], timeout["read"]) == (3.0, 10.0)


class TestSecrecy:
    def test_the_token_never_reaches_exception_messages_even_when_echoed(
        self, client: ChatwootClient, chatwoot: ScriptedChatwoot
    ) -> None:
        chatwoot.on("GET", AGENTS, httpx.Response(401, json={"error": f"Invalid access token {API_TOKEN}"}))

        with pytest.raises(ChatwootAuthError) as caught:
            client.list_agents()

        assert API_TOKEN not in caught.value.message
        assert API_TOKEN not in str(caught.value)
        assert "[redacted]" in caught.value.message
        assert API_TOKEN not in repr(client)

    def test_logs_carry_method_path_status_attempt_and_elapsed_but_no_token_or_content(
        self,
        client: ChatwootClient,
        chatwoot: ScriptedChatwoot,
        fake_time: FakeTime,
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        secret_words = "Segredo de justiça: processo 0009999"
        chatwoot.on(
            "GET",
            CONVERSATION + "/messages",
            httpx.Response(503),
            slow(
                fake_time, 0.2, httpx.Response(200, json={"meta": {}, "payload": [message_json(content=secret_words)]})
            ),
        )
        chatwoot.on("GET", AGENTS, httpx.Response(401, json={"error": f"bad token {API_TOKEN}"}))
        caplog.set_level(logging.DEBUG, logger="chatwoot_integration.chatwoot")

        client.list_messages(1043)
        with pytest.raises(ChatwootAuthError):
            client.list_agents()

        records = [record for record in caplog.records if record.name.startswith("chatwoot_integration.chatwoot")]
        assert records
        for record in records:
            rendered = record.getMessage() + repr(record.__dict__)
            assert API_TOKEN not in rendered
            assert secret_words not in rendered
        success = [record for record in records if getattr(record, "http_status", None) == 200]
        assert len(success) == 1
        assert success[0].__dict__["http_method"] == "GET"
        assert success[0].__dict__["http_path"] == CONVERSATION + "/messages"
        assert success[0].__dict__["attempt"] == 2
        assert success[0].__dict__["elapsed_ms"] == 200.0
        retried = [record for record in records if getattr(record, "http_status", None) == 503]
        assert [record.levelno for record in retried] == [logging.WARNING]
