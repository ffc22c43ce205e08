"""A scripted Chatwoot for httpx.MockTransport, a fake clock, and payloads in Chatwoot's REST shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import httpx

from chatwoot_integration.chatwoot.client import ChatwootClient
from tests.fake_time import FakeTime

BASE_URL = "https://chatwoot.example.test"
ACCOUNT_ID = 3
API_TOKEN = "cw-user-token-7Qx9Lm2Vb8Rt4Zs1"
WALL_CLOCK = datetime(2026, 6, 17, 10, 0, 0, tzinfo=UTC)

ClientFactory = Callable[..., ChatwootClient]
Responder = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]


def account_path(suffix: str) -> str:
    return f"/api/v1/accounts/{ACCOUNT_ID}{suffix}"


class ScriptedChatwoot:
    """Answers each (method, path) with its scripted responders in order; the last one repeats."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], list[Responder]] = {}
        self.requests: list[httpx.Request] = []

    def on(self, method: str, path: str, *responders: Responder) -> ScriptedChatwoot:
        self.routes[(method, path)] = list(responders)
        return self

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        queue = self.routes.get((request.method, request.url.path))
        if not queue:
            return httpx.Response(404, json={"error": "Resource could not be found"})
        responder = queue.pop(0) if len(queue) > 1 else queue[0]
        if isinstance(responder, Exception):
            raise responder
        if isinstance(responder, httpx.Response):
            return responder
        return responder(request)

    def sent(self, method: str | None = None, path: str | None = None) -> list[httpx.Request]:
        return [
            request
            for request in self.requests
            if (method is None or request.method == method) and (path is None or request.url.path == path)
        ]


def body_of(request: httpx.Request) -> Any:
    return json.loads(request.content)


def read_timeout(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out", request=request)


def connect_error(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused", request=request)


def slow(time: FakeTime, seconds: float, response: httpx.Response) -> Callable[[httpx.Request], httpx.Response]:
    def respond(_request: httpx.Request) -> httpx.Response:
        time.advance(seconds)
        return response

    return respond


def contact_json(**overrides: Any) -> dict[str, Any]:
    contact: dict[str, Any] = {
        "additional_attributes": {"city": "São Paulo", "country": "Brazil", "company_name": "Silva & Souza"},
        "availability_status": "offline",
        "email": "maria.silva@example.com.br",
        "id": 812,
        "name": "Maria Silva",
        "phone_number": "+5511988887777",
        "blocked": False,
        "identifier": None,
        "thumbnail": "",
        "custom_attributes": {"cpf_hash": "a1b2"},
        "last_activity_at": 1781691130,
        "created_at": 1781600000,
    }
    contact.update(overrides)
    return contact


def agent_json(**overrides: Any) -> dict[str, Any]:
    agent: dict[str, Any] = {
        "id": 14,
        "account_id": ACCOUNT_ID,
        "availability_status": "online",
        "auto_offline": True,
        "confirmed": True,
        "email": "ana.lima@escritorio.example",
        "provider": "email",
        "available_name": "Ana Lima",
        "custom_attributes": {},
        "name": "Ana Lima",
        "role": "agent",
        "thumbnail": "https://chatwoot.example.test/rails/active_storage/ana.png",
        "custom_role_id": None,
    }
    agent.update(overrides)
    return agent


def team_json(**overrides: Any) -> dict[str, Any]:
    team: dict[str, Any] = {
        "id": 4,
        "name": "trabalhista",
        "description": "Direito do trabalho",
        "allow_auto_assign": False,
        "account_id": ACCOUNT_ID,
        "is_member": False,
    }
    team.update(overrides)
    return team


def message_json(**overrides: Any) -> dict[str, Any]:
    message: dict[str, Any] = {
        "id": 55120,
        "content": "Bom dia, recebi uma intimação e preciso de orientação.",
        "account_id": ACCOUNT_ID,
        "inbox_id": 7,
        "conversation_id": 1043,
        "message_type": 0,
        "created_at": 1781691130,
        "updated_at": "2026-06-17T10:12:10.512Z",
        "private": False,
        "status": "sent",
        "source_id": None,
        "content_type": "text",
        "content_attributes": {},
        "sender_type": "Contact",
        "sender_id": 812,
        "external_source_ids": {},
        "additional_attributes": {},
        "processed_message_content": "Bom dia, recebi uma intimação e preciso de orientação.",
        "sentiment": {},
        "conversation": {"assignee_id": None, "unread_count": 1, "last_activity_at": 1781691130},
        "sender": {"id": 812, "name": "Maria Silva", "type": "contact"},
    }
    message.update(overrides)
    return message


def conversation_json(**overrides: Any) -> dict[str, Any]:
    """A conversation as GET …/conversations/{id} returns it (v4.15 partial)."""
    conversation: dict[str, Any] = {
        "meta": {
            "sender": contact_json(),
            "channel": "Channel::WebWidget",
            "hmac_verified": False,
        },
        "id": 1043,
        "messages": [message_json()],
        "account_id": ACCOUNT_ID,
        "uuid": "0c6f5b3e-6a55-4f44-9a0e-5a8c7d1b2e90",
        "additional_attributes": {"browser_language": "pt-BR", "referer": "https://escritorio.example/contato"},
        "agent_last_seen_at": 0,
        "assignee_last_seen_at": 0,
        "can_reply": True,
        "contact_last_seen_at": 1781691131,
        "custom_attributes": {"numero_processo": "0001234-56.2026.8.26.0100"},
        "inbox_id": 7,
        "labels": ["trabalhista"],
        "muted": False,
        "snoozed_until": None,
        "status": "open",
        "created_at": 1781691130,
        "timestamp": 1781691130,
        "first_reply_created_at": 0,
        "unread_count": 1,
        "last_non_activity_message": message_json(),
        "last_activity_at": 1781691130,
        "priority": None,
        "waiting_since": 1781691130,
        "sla_policy_id": None,
        "updated_at": 1781691130.548213,
    }
    conversation.update(overrides)
    return conversation


def assigned_meta(agent: dict[str, Any] | None = None, team: dict[str, Any] | None = None) -> dict[str, Any]:
    meta: dict[str, Any] = {"sender": contact_json(), "channel": "Channel::WebWidget", "hmac_verified": False}
    if agent is not None:
        meta["assignee"] = agent
        meta["assignee_type"] = "User"
    if team is not None:
        meta["team"] = team
    return meta
