"""Integration routes (admin): secrets are write-only and never appear in a response or a log line."""

from __future__ import annotations

import http.server
import logging
import threading
from collections.abc import Iterator
from typing import ClassVar

import pytest

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.db import Database
from tests.api_support import ApiClient, World, make_token
from tests.egress_support import resolve_test_names

API_TOKEN = "cw-api-token-5f1d9c2e7a"
WEBHOOK_SECRET = "cw-webhook-secret-8b3e1a0f44"
NEW_SECRET = "cw-webhook-secret-rotated-91aa"


def new_integration(**overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "name": "Escritório Modelo",
        "base_url": "https://chat.escritorio.example",
        "account_id": 31,
        "api_token": API_TOKEN,
        "webhook_secret": WEBHOOK_SECRET,
    }
    body.update(overrides)
    return body


def test_create_read_list_update_delete(client: ApiClient, db: Database) -> None:
    created = client.post("/integrations", json_body=new_integration())
    assert created.status == 201, created.body
    body = created.json()
    integration_id = body["id"]
    assert body["has_api_token"] is True
    assert body["has_webhook_secret"] is True
    assert body["webhook_url"] == f"http://127.0.0.1:3000/webhooks/chatwoot/{integration_id}"
    assert body["assignment_policy"]["enabled"] is False
    assert body["sync_status"] == "never"

    assert client.get(f"/integrations/{integration_id}").json()["account_id"] == 31
    assert [i["id"] for i in client.get("/integrations").json()] == [integration_id]

    patched = client.patch(
        f"/integrations/{integration_id}",
        json_body={
            "assignment_policy": {"enabled": True, "mode": "round_robin"},
            "webhook_secret": NEW_SECRET,
            "previous_secret_valid_hours": 6,
        },
    )
    assert patched.status == 200, patched.body
    assert patched.json()["assignment_policy"]["mode"] == "round_robin"
    assert patched.json()["webhook_secret_rotation_until"] is not None

    assert client.delete(f"/integrations/{integration_id}").status == 409
    assert client.patch(f"/integrations/{integration_id}", json_body={"active": False}).status == 200
    assert client.delete(f"/integrations/{integration_id}").status == 204
    assert client.get(f"/integrations/{integration_id}").status == 404
    assert db.connection().execute("SELECT count(*) AS n FROM integracoes_chatwoot").fetchone() == {"n": 0}


def test_one_integration_per_account_is_409(client: ApiClient) -> None:
    assert client.post("/integrations", json_body=new_integration()).status == 201
    again = client.post("/integrations", json_body=new_integration(name="outra"))
    assert again.status == 409
    assert again.json()["error"]["message"] == "account 31 of https://chat.escritorio.example is already connected"


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"base_url": "ftp://chat.example"}, "body.base_url"),
        ({"account_id": 0}, "body.account_id"),
        ({"api_token": ""}, "body.api_token"),
        ({"name": ""}, "body.name"),
        ({"assignment_policy": {"mode": "random"}}, "body.assignment_policy.mode"),
        ({"surprise": True}, "body.surprise"),
    ],
)
def test_invalid_bodies_name_the_field_and_store_nothing(
    client: ApiClient, db: Database, overrides: dict[str, object], field: str
) -> None:
    response = client.post("/integrations", json_body=new_integration(**overrides))
    assert response.status == 422
    assert any(d["field"] == field for d in response.json()["error"]["details"]), response.body
    assert db.connection().execute("SELECT count(*) AS n FROM integracoes_chatwoot").fetchone() == {"n": 0}


def test_secrets_never_appear_in_responses_or_logs(
    client: ApiClient, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.DEBUG)
    bodies = []
    created = client.post("/integrations", json_body=new_integration())
    integration_id = created.json()["id"]
    bodies.append(created.body)
    bodies.append(client.get("/integrations").body)
    bodies.append(client.get(f"/integrations/{integration_id}").body)
    bodies.append(client.patch(f"/integrations/{integration_id}", json_body={"webhook_secret": NEW_SECRET}).body)
    bodies.append(client.patch(f"/integrations/{integration_id}", json_body={"api_token": "x" * 600}).body)  # refused
    bodies.append(client.post("/integrations", json_body=new_integration()).body)  # conflict
    bodies.append(client.get(f"/integrations/{integration_id}/changes", query={"limit": 50}).body)
    bodies.append(client.get("/changes", query={"limit": 50}).body)
    captured = capsys.readouterr()
    everything = b"\n".join(bodies).decode() + caplog.text + captured.out + captured.err
    for secret in (API_TOKEN, WEBHOOK_SECRET, NEW_SECRET, "x" * 600):
        assert secret not in everything


def test_without_a_public_base_url_webhook_urls_use_the_apis_own_domain(
    client: ApiClient, db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PUBLIC_BASE_URL", "")
    handlers = bootstrap()
    handlers.configure(database=db, egress_resolver=resolve_test_names)  # the settings are read again
    created = client.post("/integrations", json_body=new_integration(), headers=[("Host", "api.escritorio.example")])
    assert created.status == 201
    assert created.json()["webhook_url"] == f"https://api.escritorio.example/webhooks/chatwoot/{created.json()['id']}"


class _Recorder(http.server.BaseHTTPRequestHandler):
    """A server at the new address that records every header it receives and knows nothing."""

    received: ClassVar[list[dict[str, str]]] = []

    def _answer(self) -> None:
        type(self).received.append({k.lower(): v for k, v in self.headers.items()})
        body = b'{"error": "not found"}'
        self.send_response(404)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PATCH = _answer

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def recorder() -> Iterator[tuple[str, list[dict[str, str]]]]:
    received: ClassVar[list[dict[str, str]]] = []
    handler = type("Recorder", (_Recorder,), {"received": received})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()


def test_a_repoint_without_a_new_token_is_400_and_the_stored_token_never_travels(
    client: ApiClient, world: World, db: Database, recorder: tuple[str, list[dict[str, str]]]
) -> None:
    new_url, received = recorder
    old_token = (
        db.connection().execute("SELECT credentials FROM integracoes_chatwoot").fetchone()["credentials"]["api_token"]
    )
    base = f"/integrations/{world.integration_id}"
    before = db.connection().execute("SELECT * FROM integracoes_chatwoot").fetchall()
    for body in ({"base_url": new_url}, {"account_id": world.account_id + 1}, {"base_url": new_url, "name": "x"}):
        refused = client.patch(base, json_body=body)
        assert refused.status == 400, refused.body
        assert refused.json()["error"]["details"] == [
            {"field": "api_token", "problem": "required when base_url or account_id changes"}
        ]
    assert db.connection().execute("SELECT * FROM integracoes_chatwoot").fetchall() == before
    assert client.post(f"{base}/sync").json()["status"] == "ok"  # still the original Chatwoot
    assert received == []

    moved = client.patch(base, json_body={"base_url": new_url, "api_token": "tok-for-the-new-host"})
    assert moved.status == 200, moved.body
    assert moved.json()["base_url"] == new_url
    client.post(f"{base}/sync")
    assert received, "the sync went to the new address"
    assert all(r.get("api_access_token") == "tok-for-the-new-host" for r in received)
    assert not any(old_token in value for r in received for value in r.values())


def test_the_webhook_ledger_lists_outcomes_newest_first_by_page_without_bodies(client: ApiClient, db: Database) -> None:
    integration_id = client.post("/integrations", json_body=new_integration()).json()["id"]
    rows = [("d-1", "applied", None), ("d-2", "stale", "not_newer"), ("d-3", "rejected", "invalid_fields")]
    with db.transaction() as conn:
        for delivery_id, status, reason in rows:
            conn.execute(
                "INSERT INTO entregas_webhook_chatwoot (integration_id, delivery_id, event, status, reason, body,"
                " received_at) VALUES (%s, %s, 'conversation_updated', %s, %s, %s, now())",
                (integration_id, delivery_id, status, reason, b"SECRET-BODY" if status == "rejected" else None),
            )
    base = f"/integrations/{integration_id}/deliveries"

    first = client.get(base, query={"limit": 2})
    assert first.status == 200, first.body
    page = first.json()
    assert [(d["delivery_id"], d["outcome"], d["reason"]) for d in page["items"]] == [
        ("d-3", "rejected", "invalid_fields"),
        ("d-2", "stale", "not_newer"),
    ]
    rest = client.get(base, query={"limit": 2, "cursor": page["next_cursor"]}).json()
    assert [d["delivery_id"] for d in rest["items"]] == ["d-1"] and rest["next_cursor"] is None
    stale = client.get(base, query={"outcome": "stale"}).json()["items"]
    assert [d["delivery_id"] for d in stale] == ["d-2"]
    assert b"SECRET-BODY" not in first.body and "body" not in page["items"][0]
    assert client.get(base, query={"outcome": "lost"}).status == 400
    assert client.get(base, query={"cursor": "not-a-cursor"}).status == 400
    agent = make_token(sub="lawyer-1", role="agent")
    assert client.get(base, token=agent).status == 403
