"""HTTP API payload v2 events, the Lambda context stand-in, and responses made of handler results."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime

import pytest

from localdev.apigw import (
    LocalLambdaContext,
    LocalRequest,
    MalformedResponse,
    build_http_event,
    error_response,
    http_response,
)

NOW = datetime(2024, 3, 5, 19, 3, 58, 123000, tzinfo=UTC)


def request(**overrides: object) -> LocalRequest:
    values: dict[str, object] = {
        "method": "POST",
        "raw_path": "/integrations/1/conversations/7",
        "raw_query": "status=open&label=a&label=b%20c&empty=",
        "headers": [
            ("Host", "127.0.0.1:3000"),
            ("User-Agent", "curl/8"),
            ("X-Tag", "one"),
            ("x-tag", "two"),
            ("Cookie", "a=1; b=2"),
            ("Content-Type", "application/octet-stream"),
        ],
        "body": b"\x00\xffbinary",
        "source_ip": "127.0.0.1",
        "server_port": 3000,
    }
    values.update(overrides)
    return LocalRequest(**values)  # type: ignore[arg-type]


def test_the_event_has_the_shape_api_gateway_builds() -> None:
    event = build_http_event(
        request(),
        route_key="POST /integrations/{integration_id}/conversations/{conversation_id}",
        path_parameters={"integration_id": "1", "conversation_id": "7"},
        request_id="req-1",
        now=NOW,
    )

    assert event == {
        "version": "2.0",
        "routeKey": "POST /integrations/{integration_id}/conversations/{conversation_id}",
        "rawPath": "/integrations/1/conversations/7",
        "rawQueryString": "status=open&label=a&label=b%20c&empty=",
        "cookies": ["a=1", "b=2"],
        "headers": {
            "host": "127.0.0.1:3000",
            "user-agent": "curl/8",
            "x-tag": "one,two",
            "content-type": "application/octet-stream",
            "x-forwarded-for": "127.0.0.1",
            "x-forwarded-proto": "http",
            "x-forwarded-port": "3000",
        },
        "queryStringParameters": {"status": "open", "label": "a,b c", "empty": ""},
        "pathParameters": {"integration_id": "1", "conversation_id": "7"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "local",
            "domainName": "127.0.0.1:3000",
            "domainPrefix": "127",
            "http": {
                "method": "POST",
                "path": "/integrations/1/conversations/7",
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "curl/8",
            },
            "requestId": "req-1",
            "routeKey": "POST /integrations/{integration_id}/conversations/{conversation_id}",
            "stage": "$default",
            "time": "05/Mar/2024:19:03:58 +0000",
            "timeEpoch": 1709665438123,
        },
        "body": base64.b64encode(b"\x00\xffbinary").decode(),
        "isBase64Encoded": True,
    }


def test_a_utf8_body_is_passed_as_text() -> None:
    event = build_http_event(request(body='{"nome": "João"}'.encode()), route_key="POST /x", now=NOW)

    assert event["body"] == '{"nome": "João"}'
    assert event["isBase64Encoded"] is False


def test_a_request_without_body_query_cookies_or_parameters_leaves_those_keys_out() -> None:
    event = build_http_event(
        request(method="GET", raw_query="", headers=[("Host", "localhost:3000")], body=b""),
        route_key="GET /health",
        now=NOW,
    )

    assert not {"body", "cookies", "queryStringParameters", "pathParameters"} & set(event)
    assert event["isBase64Encoded"] is False
    assert "authorizer" not in event["requestContext"]
    assert event["requestContext"]["http"]["userAgent"] == ""


def test_authorizer_claims_and_scopes_go_under_request_context_jwt() -> None:
    event = build_http_event(
        request(), route_key="POST /x", claims={"sub": "u", "accounts": "[1 2]"}, scopes=["read"], now=NOW
    )

    assert event["requestContext"]["authorizer"] == {
        "jwt": {"claims": {"sub": "u", "accounts": "[1 2]"}, "scopes": ["read"]}
    }


def test_a_forwarded_for_header_from_the_client_is_extended_with_the_source_ip() -> None:
    event = build_http_event(
        request(headers=[("X-Forwarded-For", "203.0.113.9")], source_ip="127.0.0.2"), route_key="POST /x"
    )

    assert event["headers"]["x-forwarded-for"] == "203.0.113.9, 127.0.0.2"


def test_a_result_with_status_code_becomes_that_response() -> None:
    response = http_response(
        {
            "statusCode": 201,
            "headers": {"content-type": "application/json", "x-count": 3},
            "multiValueHeaders": {"x-multi": ["one", "two"]},
            "cookies": ["a=1; HttpOnly"],
            "body": '{"ok": true}',
        },
        request_id="req-1",
    )

    assert response.status == 201
    assert response.headers == [
        ("content-type", "application/json"),
        ("x-count", "3"),
        ("x-multi", "one"),
        ("x-multi", "two"),
        ("set-cookie", "a=1; HttpOnly"),
        ("apigw-requestid", "req-1"),
    ]
    assert response.body == b'{"ok": true}'


def test_a_base64_body_is_decoded() -> None:
    response = http_response(
        {"statusCode": 200, "body": base64.b64encode(b"\x00\xff").decode(), "isBase64Encoded": True}
    )

    assert response.body == b"\x00\xff"


@pytest.mark.parametrize(
    ("result", "body"),
    [({"message": "hi"}, b'{"message": "hi"}'), ("hello", b"hello"), ([1, 2], b"[1, 2]"), (None, b"null")],
)
def test_a_result_without_status_code_is_a_200_json_response(result: object, body: bytes) -> None:
    response = http_response(result)

    assert response.status == 200
    assert response.headers == [("content-type", "application/json")]
    assert response.body == body


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200"},
        {"statusCode": True},
        {"statusCode": 999},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": "***", "isBase64Encoded": True},
        {"statusCode": 200, "headers": {"x": {"nested": 1}}},
        {"statusCode": 200, "multiValueHeaders": {"x": "not a list"}},
        {"statusCode": 200, "cookies": "a=1"},
    ],
)
def test_a_result_api_gateway_cannot_use_is_refused(result: dict[str, object]) -> None:
    with pytest.raises(MalformedResponse):
        http_response(result)


def test_error_responses_have_the_projects_error_shape() -> None:
    response = error_response(404, "not_found", "no route for GET /x", request_id="r")

    assert response.status == 404
    assert json.loads(response.body) == {"error": {"code": "not_found", "message": "no route for GET /x"}}
    assert ("content-type", "application/json") in response.headers


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_the_context_counts_down_from_the_configured_timeout_and_can_be_expired() -> None:
    clock = FakeClock()
    context = LocalLambdaContext("ApiFunction", timeout_seconds=25, memory_limit_in_mb=512, clock=clock)

    clock.now += 1.5
    remaining = context.get_remaining_time_in_millis()
    context.expire()

    assert remaining == 23500
    assert context.get_remaining_time_in_millis() == 0
    assert context.function_name == "ApiFunction"
    assert context.memory_limit_in_mb == 512
    assert context.invoked_function_arn == "arn:aws:lambda:us-east-1:123456789012:function:ApiFunction"
    assert context.log_group_name == "/aws/lambda/ApiFunction"
    assert context.aws_request_id


def test_the_remaining_time_never_goes_below_zero() -> None:
    clock = FakeClock()
    context = LocalLambdaContext("SyncFunction", timeout_seconds=1, clock=clock)

    clock.now += 5

    assert context.get_remaining_time_in_millis() == 0
