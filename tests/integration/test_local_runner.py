"""The local HTTP front over real sockets: route -> authorizer -> handler in-process -> response."""

from __future__ import annotations

import base64
import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from chatwoot_integration.db import Database
from localdev.authorizer import AUDIENCE, ISSUER, JwtVerifier, issue_token
from localdev.invoke import FunctionInvoker
from localdev.server import LocalApiServer, LocalGateway
from localdev.template_routes import read_template

FIXTURE_TEMPLATE = Path(__file__).resolve().parents[1] / "fixtures" / "localdev" / "template.yaml"
SECRET = "integration-test-secret-long-enough-for-hs256"


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    template = read_template(FIXTURE_TEMPLATE)
    invoker = FunctionInvoker(template.functions)
    server = LocalApiServer(LocalGateway(template, invoker, JwtVerifier(SECRET)), port=0)
    server.start()
    yield server.url
    server.stop()
    invoker.close()


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=30) as client:
        yield client


def bearer(**overrides: Any) -> dict[str, str]:
    token = issue_token(SECRET, subject="lawyer-7", role="agent", tenant="firm-a")
    if overrides:
        now = int(time.time())
        claims = {"iss": ISSUER, "aud": AUDIENCE, "sub": "lawyer-7", "iat": now, "exp": now + 60, **overrides}
        token = jwt.encode(claims, SECRET, algorithm="HS256")
    return {"Authorization": f"Bearer {token}"}


def echoed_event(response: httpx.Response) -> dict[str, Any]:
    event: dict[str, Any] = response.json()["event"]
    return event


def test_a_public_route_reaches_its_handler_with_an_api_gateway_event(client: httpx.Client) -> None:
    response = client.get(
        "/public/echo?tag=a&tag=b", headers=[("X-Tag", "one"), ("X-Tag", "two"), ("Cookie", "a=1; b=2")]
    )

    assert response.status_code == 201
    event = echoed_event(response)
    assert event["routeKey"] == "GET /public/echo"
    assert event["rawPath"] == "/public/echo"
    assert event["rawQueryString"] == "tag=a&tag=b"
    assert event["queryStringParameters"] == {"tag": "a,b"}
    assert event["headers"]["x-tag"] == "one,two"
    assert event["cookies"] == ["a=1", "b=2"]
    assert event["requestContext"]["http"]["sourceIp"] == "127.0.0.1"
    assert "authorizer" not in event["requestContext"]
    assert response.json()["context"]["function_name"] == "EchoFunction"


def test_the_handlers_headers_cookies_and_multi_value_headers_reach_the_client(client: httpx.Client) -> None:
    response = client.get("/public/echo")

    assert response.headers["x-echo"] == "yes"
    assert response.headers.get_list("x-multi") == ["one", "two"]
    assert response.headers.get_list("set-cookie") == ["session=abc; HttpOnly", "theme=dark"]
    assert response.headers["apigw-requestid"] == echoed_event(response)["requestContext"]["requestId"]


def test_path_parameters_follow_the_most_specific_route(client: httpx.Client) -> None:
    special = echoed_event(client.get("/items/special"))
    item = echoed_event(client.get("/items/a%20b"))
    any_method = echoed_event(client.delete("/items/9"))
    greedy = echoed_event(client.get("/files/docs/2024/report.pdf"))

    assert (special["routeKey"], special.get("pathParameters")) == ("GET /items/special", None)
    assert (item["routeKey"], item["pathParameters"]) == ("GET /items/{item_id}", {"item_id": "a b"})
    assert (any_method["routeKey"], any_method["pathParameters"]) == ("ANY /items/{item_id}", {"item_id": "9"})
    assert greedy["pathParameters"] == {"proxy": "docs/2024/report.pdf"}


def test_a_binary_request_body_arrives_base64_encoded(client: httpx.Client) -> None:
    payload = b"\x00\x01\xfe\xff"

    event = echoed_event(client.post("/public/echo", content=payload))

    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_a_text_request_body_arrives_as_text(client: httpx.Client) -> None:
    event = echoed_event(client.post("/public/echo", json={"nome": "João"}))

    assert event["isBase64Encoded"] is False
    assert json.loads(event["body"]) == {"nome": "João"}


def test_a_chunked_request_body_is_read_whole(client: httpx.Client) -> None:
    event = echoed_event(client.post("/public/echo", content=iter([b"first,", b"second"])))

    assert event["body"] == "first,second"


@pytest.mark.parametrize(
    ("query", "content_type", "body"),
    [
        ("reply=plain", "application/json", b'{"echoed": "/public/echo"}'),
        ("reply=text", "application/json", b"plain text"),
        ("reply=binary", None, b"\x00\xff"),
    ],
)
def test_results_are_answered_as_api_gateway_answers_them(
    client: httpx.Client, query: str, content_type: str | None, body: bytes
) -> None:
    response = client.get(f"/public/echo?{query}")

    assert response.status_code == 200
    assert response.headers.get("content-type") == content_type
    assert response.content == body


def test_an_authorized_route_receives_the_claims_rendered_as_strings(client: httpx.Client) -> None:
    response = client.post("/private/42", headers=bearer(), content=b"{}")

    assert response.status_code == 201
    event = echoed_event(response)
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    assert (claims["sub"], claims["role"], claims["tenant"]) == ("lawyer-7", "agent", "firm-a")
    assert claims["exp"].isdigit()
    assert event["pathParameters"] == {"item_id": "42"}


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        (None, "missing bearer token"),
        ("garbage", "invalid token"),
        ({"exp": -5}, "token expired"),
        ({"aud": "someone-else"}, "token audience not accepted"),
        ({"iss": "elsewhere"}, "token issuer not accepted"),
    ],
)
def test_an_authorized_route_without_an_acceptable_token_is_401_and_the_handler_never_runs(
    client: httpx.Client, claims: dict[str, Any] | str | None, message: str
) -> None:
    # Tokens are made here, not at collection, so a long test run never turns them stale.
    if claims is None:
        headers: dict[str, str] = {}
    elif isinstance(claims, str):
        headers = {"Authorization": f"Bearer {claims}"}
    elif "exp" in claims:
        headers = bearer(exp=int(time.time()) + claims["exp"])
    else:
        headers = bearer(**claims)
    response = client.post("/private/42", headers=headers, content=b"{}")

    assert response.status_code == 401
    assert response.json() == {"error": {"code": "unauthorized", "message": message}}
    assert "event" not in response.json()


def test_an_unknown_route_is_404_json(client: httpx.Client) -> None:
    response = client.get("/x?secret=1")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "no route for GET /x"}}


def test_a_known_path_with_another_method_is_404(client: httpx.Client) -> None:
    response = client.put("/public/echo", content=b"{}")

    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "no route for PUT /public/echo"}}


def test_a_raising_handler_is_a_500_without_its_traceback(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    response = client.get("/boom")

    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "internal error"}}
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert "FailingFunction raised" in caplog.text  # the server keeps the details


def test_a_malformed_handler_result_is_a_500(client: httpx.Client) -> None:
    response = client.get("/malformed")

    assert response.status_code == 500
    assert response.json() == {"error": {"code": "internal_error", "message": "internal error"}}


def test_the_access_log_holds_no_query_strings_tokens_or_bodies(
    client: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("INFO", logger="localdev.server")
    headers = bearer()

    client.post("/private/secret-path-value?key=secret-query-value", headers=headers, content=b"secret-body")

    access = [r.getMessage() for r in caplog.records if r.name == "localdev.server"]
    assert len(access) == 1
    assert re.fullmatch(r"POST /private/\{item_id\} -> 201 \(\d+ ms\)", access[0])
    for secret in ("secret-path-value", "secret-query-value", "secret-body", headers["Authorization"][7:]):
        assert secret not in caplog.text


def test_a_handler_reads_the_database_the_fixtures_installed(client: httpx.Client, db: Database) -> None:
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO integracoes_chatwoot (tenant, name, base_url, account_id, credentials) VALUES"
            " ('firm-a', 'Escritório', 'http://chatwoot.test', 1, '{}'), ('firm-a', 'Filial', 'http://chatwoot.test', 2, '{}')"
        )

    response = client.get("/integrations/count", headers=bearer())

    assert response.status_code == 200
    assert response.json() == {"integrations": 2, "sub": "lawyer-7", "tenant": "firm-a"}
