"""API Gateway (HTTP API, payload format 2.0) played locally: the event a handler receives, the Lambda context
beside it, and the HTTP response API Gateway makes of what the handler returns.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel

LOCAL_ACCOUNT_ID = "123456789012"
LOCAL_API_ID = "local"
LOCAL_REGION = "us-east-1"
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class LocalRequest:
    """An HTTP request as it reached the local front. ``headers`` keeps repeats and the client's spelling."""

    method: str
    raw_path: str
    raw_query: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"
    protocol: str = "HTTP/1.1"
    server_port: int = 3000

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (case-insensitive), or None."""
        wanted = name.lower()
        return next((value for key, value in self.headers if key.lower() == wanted), None)


@dataclass(frozen=True)
class LocalResponse:
    status: int
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""


class ErrorDetail(BaseModel):
    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    """The one error shape of this project: ``{"error": {"code", "message", "details"?}}``."""

    error: ErrorDetail


def error_response(status: int, code: str, message: str, *, request_id: str | None = None) -> LocalResponse:
    body = ErrorBody(error=ErrorDetail(code=code, message=message)).model_dump_json(exclude_none=True)
    headers = [("content-type", "application/json")]
    if request_id:
        headers.append(("apigw-requestid", request_id))
    return LocalResponse(status=status, headers=headers, body=body.encode())


def build_http_event(
    request: LocalRequest,
    *,
    route_key: str,
    path_parameters: Mapping[str, str] | None = None,
    claims: Mapping[str, str] | None = None,
    scopes: list[str] | None = None,
    request_id: str | None = None,
    now: datetime | None = None,
    api_id: str = LOCAL_API_ID,
) -> dict[str, Any]:
    """The event API Gateway hands a Lambda integration for ``request`` (HTTP API, payload format 2.0).

    Header names are lower-cased and repeated headers joined with commas; ``Cookie`` headers move to
    ``cookies``; repeated query keys are joined with commas; a body that is not UTF-8 is base64-encoded.
    ``claims`` are the authorizer's claims already rendered as strings (see ``authorizer.render_claims``).
    """
    now = now or datetime.now(UTC)
    headers, cookies = _event_headers(request)
    domain_name = headers.get("host", f"127.0.0.1:{request.server_port}")
    request_context: dict[str, Any] = {
        "accountId": LOCAL_ACCOUNT_ID,
        "apiId": api_id,
        "domainName": domain_name,
        "domainPrefix": domain_name.split(".", 1)[0].split(":", 1)[0],
        "http": {
            "method": request.method.upper(),
            "path": request.raw_path,
            "protocol": request.protocol,
            "sourceIp": request.source_ip,
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id or str(uuid.uuid4()),
        "routeKey": route_key,
        "stage": "$default",
        "time": _request_time(now),
        "timeEpoch": int(now.timestamp() * 1000),
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": dict(claims), "scopes": scopes}}

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": request.raw_path,
        "rawQueryString": request.raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = headers
    query = _query_parameters(request.raw_query)
    if query:
        event["queryStringParameters"] = query
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    event["requestContext"] = request_context
    event["isBase64Encoded"] = False
    if request.body:
        try:
            event["body"] = request.body.decode("utf-8")
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(request.body).decode("ascii")
            event["isBase64Encoded"] = True
    return event


def _event_headers(request: LocalRequest) -> tuple[dict[str, str], list[str]]:
    headers: dict[str, str] = {}
    cookies: list[str] = []
    for name, value in request.headers:
        key = name.lower()
        if key == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    forwarded_for = headers.get("x-forwarded-for")
    headers["x-forwarded-for"] = f"{forwarded_for}, {request.source_ip}" if forwarded_for else request.source_ip
    headers["x-forwarded-proto"] = "http"
    headers["x-forwarded-port"] = str(request.server_port)
    return headers, cookies


def _query_parameters(raw_query: str) -> dict[str, str]:
    parameters: dict[str, str] = {}
    for key, value in parse_qsl(raw_query, keep_blank_values=True):
        parameters[key] = f"{parameters[key]},{value}" if key in parameters else value
    return parameters


def _request_time(now: datetime) -> str:
    # Formatted by hand: strftime's %b follows the process locale, API Gateway's does not.
    utc = now.astimezone(UTC)
    return f"{utc.day:02d}/{_MONTHS[utc.month - 1]}/{utc.year}:{utc:%H:%M:%S} +0000"


class MalformedResponse(Exception):
    """The handler returned something API Gateway would answer with a 500."""


def http_response(result: Any, *, request_id: str | None = None) -> LocalResponse:
    """The HTTP response API Gateway makes of a handler's return value (payload format 2.0).

    A dict with ``statusCode`` is taken as a response (``headers``, ``multiValueHeaders``, ``cookies``,
    ``body``, ``isBase64Encoded``); anything else is the body of a 200 JSON response: a string as is,
    any other value serialised as JSON.
    """
    headers: list[tuple[str, str]] = [("apigw-requestid", request_id)] if request_id else []
    if not (isinstance(result, dict) and "statusCode" in result):
        body = result if isinstance(result, str) else json.dumps(result)
        headers.insert(0, ("content-type", "application/json"))
        return LocalResponse(status=200, headers=headers, body=body.encode())
    status = result["statusCode"]
    if isinstance(status, bool) or not isinstance(status, int) or not 100 <= status <= 599:
        raise MalformedResponse(f"statusCode must be an HTTP status, got {status!r}")
    headers[:0] = _response_headers(result)
    return LocalResponse(status=status, headers=headers, body=_response_body(result))


def _response_headers(result: Mapping[str, Any]) -> list[tuple[str, str]]:
    headers: list[tuple[str, str]] = []
    for name, value in (result.get("headers") or {}).items():
        headers.append((str(name), _header_value(value)))
    for name, values in (result.get("multiValueHeaders") or {}).items():
        if not isinstance(values, list):
            raise MalformedResponse("multiValueHeaders values must be lists")
        headers.extend((str(name), _header_value(value)) for value in values)
    cookies = result.get("cookies") or []
    if not isinstance(cookies, list):
        raise MalformedResponse("cookies must be a list")
    headers.extend(("set-cookie", str(cookie)) for cookie in cookies)
    return headers


def _header_value(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, str | int | float):
        return str(value)
    raise MalformedResponse(f"header values must be scalars, got {type(value).__name__}")


def _response_body(result: Mapping[str, Any]) -> bytes:
    body = result.get("body")
    if body is None:
        return b""
    if not isinstance(body, str):
        raise MalformedResponse("body must be a string")
    if result.get("isBase64Encoded"):
        try:
            return base64.b64decode(body, validate=True)
        except binascii.Error as exc:
            raise MalformedResponse("isBase64Encoded is set but body is not base64") from exc
    return body.encode()


class LocalLambdaContext:
    """Stands in for the Lambda runtime's context object (Powertools reads these attributes).

    The remaining time counts down from the function's configured timeout; :meth:`expire` brings it to zero
    so long-running handlers that watch it (the sync) wind down when the runner stops.
    """

    def __init__(
        self,
        function_name: str,
        *,
        timeout_seconds: float = 3,
        memory_limit_in_mb: int = 128,
        aws_request_id: str | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.function_name = function_name
        self.function_version = "$LATEST"
        self.memory_limit_in_mb = memory_limit_in_mb
        self.invoked_function_arn = f"arn:aws:lambda:{LOCAL_REGION}:{LOCAL_ACCOUNT_ID}:function:{function_name}"
        self.aws_request_id = aws_request_id or str(uuid.uuid4())
        self.log_group_name = f"/aws/lambda/{function_name}"
        self.log_stream_name = f"local/{self.aws_request_id}"
        self.identity: Any = None
        self.client_context: Any = None
        self.tenant_id: str | None = None
        self._clock = clock
        self._deadline = clock() + timeout_seconds

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - self._clock()) * 1000))

    def expire(self) -> None:
        self._deadline = self._clock()
