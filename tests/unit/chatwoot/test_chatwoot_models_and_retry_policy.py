"""Timestamp conversion, model tolerance, the backoff formula, Retry-After parsing, the shared HTTP client."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from pydantic import ValidationError

from chatwoot_integration.chatwoot.http import get_http_client
from chatwoot_integration.chatwoot.models import Agent, Conversation, to_utc_datetime
from chatwoot_integration.chatwoot.retry import RetryPolicy, backoff_delay, parse_retry_after
from tests.unit.chatwoot.chatwoot_rest_fakes import conversation_json

REPO_ROOT = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 6, 17, 10, 0, tzinfo=UTC)


class TestTimestamps:
    @pytest.mark.parametrize(
        ("raw", "expected"),
        [
            (None, None),
            (0, None),
            ("", None),
            ("0", None),
            (1781691130, datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)),
            (1781691130.548213, datetime(2026, 6, 17, 10, 12, 10, 548213, tzinfo=UTC)),
            ("1781691130", datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)),
            ("2026-06-17T10:12:10.512Z", datetime(2026, 6, 17, 10, 12, 10, 512000, tzinfo=UTC)),
            ("2026-06-17T07:12:10-03:00", datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)),
            ("2026-06-17T10:12:10", datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)),
            (datetime(2026, 6, 17, 10, 12, 10), datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC)),
            (
                datetime(2026, 6, 17, 7, 12, 10, tzinfo=timezone(timedelta(hours=-3))),
                datetime(2026, 6, 17, 10, 12, 10, tzinfo=UTC),
            ),
        ],
    )
    def test_every_shape_chatwoot_sends_becomes_an_aware_utc_datetime_or_none(
        self, raw: object, expected: datetime | None
    ) -> None:
        converted = to_utc_datetime(raw)

        assert converted == expected
        if converted is not None:
            assert converted.utcoffset() == timedelta(0)

    @pytest.mark.parametrize("raw", [True, "yesterday", [1781691130]])
    def test_values_that_are_not_timestamps_are_rejected(self, raw: object) -> None:
        with pytest.raises(ValueError):  # noqa: PT011 - the message is the converter's own
            to_utc_datetime(raw)

    def test_a_conversation_with_a_garbage_timestamp_fails_validation(self) -> None:
        with pytest.raises(ValidationError):
            Conversation.model_validate(conversation_json(created_at="last tuesday"))


class TestModelTolerance:
    def test_a_conversation_from_an_older_chatwoot_without_updated_at_or_account_id_parses(self) -> None:
        payload = conversation_json()
        for missing in ("updated_at", "account_id", "uuid", "sla_policy_id", "last_non_activity_message"):
            payload.pop(missing)

        conversation = Conversation.model_validate(payload)

        assert conversation.updated_at is None
        assert conversation.updated_at_datetime is None
        assert conversation.account_id is None

    def test_a_bot_assignee_parses_as_an_agent_with_what_it_has(self) -> None:
        bot = {"id": 2, "name": "Triagem", "description": "bot", "thumbnail": "", "outgoing_url": "https://bot"}

        agent = Agent.model_validate(bot)

        assert (agent.id, agent.name, agent.role, agent.email) == (2, "Triagem", None, None)


class TestBackoff:
    def test_full_jitter_takes_the_given_share_of_the_exponential_ceiling(self) -> None:
        policy = RetryPolicy(base_delay=0.5, max_delay=8.0)

        assert [backoff_delay(policy, attempt, 1.0) for attempt in range(1, 7)] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0]
        assert backoff_delay(policy, 3, 0.5) == 1.0
        assert backoff_delay(policy, 3, 0.0) == 0.0


class TestRetryAfter:
    @pytest.mark.parametrize(
        ("header", "expected"),
        [
            ("7", 7.0),
            (" 0 ", 0.0),
            ("Wed, 17 Jun 2026 10:00:12 GMT", 12.0),
            ("Wed, 17 Jun 2026 09:59:00 GMT", 0.0),
            (None, None),
            ("", None),
            ("soon", None),
            ("-5", None),
        ],
    )
    def test_reads_delta_seconds_and_http_dates(self, header: str | None, expected: float | None) -> None:
        assert parse_retry_after(header, NOW) == expected


class TestSharedHttpClient:
    def test_is_one_client_per_process_and_replaced_once_closed(self) -> None:
        first = get_http_client()

        assert get_http_client() is first
        first.close()
        replacement = get_http_client()
        assert replacement is not first
        assert not replacement.is_closed

    def test_is_not_created_at_import(self) -> None:
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(REPO_ROOT / "layers" / "common"), str(REPO_ROOT)])}
        probe = (
            "import chatwoot_integration.chatwoot as c, chatwoot_integration.chatwoot.http as t;"
            "print(t._shared_http._client is None)"
        )

        completed = subprocess.run(
            [sys.executable, "-c", probe], capture_output=True, text=True, env=env, check=True, timeout=60
        )

        assert completed.stdout.strip() == "True"
