"""What a failed Chatwoot answer may leave in an error: its status and Chatwoot's own short JSON explanation,
never the body a server at a firm's URL chose to send."""

from __future__ import annotations

import httpx
import pytest

from chatwoot_integration.chatwoot.client import ChatwootClient
from chatwoot_integration.chatwoot.errors import ChatwootError
from tests.unit.chatwoot.chatwoot_rest_fakes import ClientFactory, ScriptedChatwoot, account_path

MARKER = "INJECTED-7f3a"
HTML = f"<html><body><h1>Oops</h1><script>steal()</script><p>{MARKER}</p></body></html>"


def failure(chatwoot: ScriptedChatwoot, client: ChatwootClient, response: httpx.Response) -> ChatwootError:
    chatwoot.on("GET", account_path("/agents"), response)
    with pytest.raises(ChatwootError) as caught:
        client.list_agents()
    return caught.value


@pytest.mark.parametrize(
    ("response", "expected"),
    [
        (httpx.Response(500, text=HTML, headers={"Content-Type": "text/html"}), "/agents: HTTP 500"),
        (httpx.Response(422, text=f"bad thing {MARKER}"), "/agents: HTTP 422"),
        (httpx.Response(422, json=[f"{MARKER}"]), "/agents: HTTP 422"),
        (httpx.Response(422, json={"error": {"detail": MARKER}}), "/agents: HTTP 422"),
        (
            httpx.Response(404, json={"message": "Resource could not be found"}),
            "/agents: HTTP 404: Resource could not be found",
        ),
        (
            httpx.Response(422, json={"errors": [{"detail": MARKER}, "Assignee is invalid"]}),
            "/agents: HTTP 422: Assignee is invalid",
        ),
        (
            httpx.Response(403, json={"error": "You are not authorized\x00\n\x07 to do this"}),
            "/agents: HTTP 403: You are not authorized to do this",
        ),
    ],
)
def test_only_the_status_and_chatwoots_own_json_text_are_kept(
    chatwoot: ScriptedChatwoot, make_client: ClientFactory, response: httpx.Response, expected: str
) -> None:
    error = failure(chatwoot, make_client(), response)
    assert error.message.endswith(expected), error.message
    assert MARKER not in error.message and MARKER not in str(error)
    assert "<" not in error.message


def test_a_long_json_error_is_cut_at_200_characters(chatwoot: ScriptedChatwoot, make_client: ClientFactory) -> None:
    error = failure(chatwoot, make_client(), httpx.Response(422, json={"error": "x" * 300 + MARKER}))
    detail = error.message.split("HTTP 422: ", 1)[1]
    assert len(detail) == 200
    assert MARKER not in error.message


def test_a_token_echoed_in_a_long_error_is_redacted_before_the_cut(
    chatwoot: ScriptedChatwoot, make_client: ClientFactory
) -> None:
    from tests.unit.chatwoot.chatwoot_rest_fakes import API_TOKEN  # noqa: PLC0415

    text = "x" * (200 - len(API_TOKEN) // 2) + API_TOKEN
    error = failure(chatwoot, make_client(), httpx.Response(422, json={"error": text}))
    assert API_TOKEN[: len(API_TOKEN) // 2] not in error.message


def test_a_protocol_error_keeps_its_kind_not_the_servers_bytes(
    chatwoot: ScriptedChatwoot, make_client: ClientFactory
) -> None:
    chatwoot.on("GET", account_path("/agents"), httpx.RemoteProtocolError(f"illegal status line: b'{MARKER}'"))
    with pytest.raises(ChatwootError) as caught:
        make_client().list_agents()
    assert "RemoteProtocolError" in caught.value.message
    assert MARKER not in caught.value.message
