"""Helpers shared by the ingest tests: HTTP API events, ingest records, a fixed clock, a Lambda context."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from chatwoot_integration.ingest.record import IngestRecord
from chatwoot_integration.secrets import IntegrationSecret
from tests.fixtures.chatwoot_payloads import raw_body, webhook_headers

SECRET = "whsec-test-6Zq1mXr8PbT3"
OTHER_SECRET = "whsec-other-Kd82LmQa0"
NOW = 1781691200  # 2026-06-17T10:13:20Z, a little after the default payload's updated_at
ACCOUNT_ID = 3  # the account of the payload builders' defaults
# The integration of that account the tests create: the first of each test (tables restart their identities), and
# the key of every mirror row its deliveries write.
INTEGRATION_ID = 1

JsonDict = dict[str, Any]


def clock() -> float:
    return float(NOW)


@dataclass
class LambdaContextStub:
    """The attributes Powertools reads from a Lambda context."""

    function_name: str = "test-function"
    function_version: str = "$LATEST"
    invoked_function_arn: str = "arn:aws:lambda:us-east-1:123456789012:function:test-function"
    memory_limit_in_mb: int = 512
    aws_request_id: str = "00000000-0000-4000-8000-000000000000"
    log_group_name: str = "/aws/lambda/test-function"
    log_stream_name: str = "test"

    def get_remaining_time_in_millis(self) -> int:
        return 30_000


def http_event(
    body: bytes,
    headers: Mapping[str, str],
    *,
    integration_id: str | int = 1,
    token: str | None = None,
    base64_body: bool = False,
) -> JsonDict:
    """An HTTP API (payload 2.0) event for ``POST /webhooks/chatwoot/{integration_id}``."""
    path = f"/webhooks/chatwoot/{integration_id}"
    event: JsonDict = {
        "version": "2.0",
        "routeKey": "POST /webhooks/chatwoot/{integration_id}",
        "rawPath": path,
        "rawQueryString": f"token={token}" if token is not None else "",
        "headers": {name.lower(): value for name, value in headers.items()},
        "pathParameters": {"integration_id": str(integration_id)},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "test",
            "domainName": "test.execute-api.us-east-1.amazonaws.com",
            "http": {"method": "POST", "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9"},
            "requestId": str(uuid.uuid4()),
            "routeKey": "POST /webhooks/chatwoot/{integration_id}",
            "stage": "$default",
            "timeEpoch": NOW * 1000,
        },
        "isBase64Encoded": base64_body,
        "body": base64.b64encode(body).decode() if base64_body else body.decode("utf-8"),
    }
    if token is not None:
        event["queryStringParameters"] = {"token": token}
    return event


def signed_event(
    payload: Mapping[str, Any] | bytes,
    *,
    secret: str = SECRET,
    timestamp: int = NOW,
    integration_id: str | int = 1,
    delivery_id: str | None = None,
) -> JsonDict:
    body = payload if isinstance(payload, bytes) else raw_body(payload)
    return http_event(body, webhook_headers(body, secret, timestamp, delivery_id), integration_id=integration_id)


def record(
    payload: Mapping[str, Any] | bytes,
    *,
    integration_id: int = 1,
    delivery_id: str | None = None,
    received_at: datetime | None = None,
) -> IngestRecord:
    body = payload if isinstance(payload, bytes) else raw_body(payload)
    return IngestRecord(
        integration_id=integration_id,
        delivery_id=delivery_id or str(uuid.uuid4()),
        received_at=received_at or datetime.fromtimestamp(NOW, UTC),
        body=body,
    )


def integration_secret(**overrides: Any) -> IntegrationSecret:
    values: JsonDict = {"api_token": "token-test", "webhook_secret": SECRET, "account_id": ACCOUNT_ID}
    values.update(overrides)
    return IntegrationSecret.model_validate(values)


class StaticSecrets:
    """A secret lookup over a dict, counting lookups."""

    def __init__(self, secrets: Mapping[int, IntegrationSecret]) -> None:
        self.secrets = dict(secrets)
        self.lookups = 0

    def get(self, integration_id: int) -> IntegrationSecret | None:
        self.lookups += 1
        return self.secrets.get(integration_id)

    def load(self, integration_id: int) -> IntegrationSecret | None:
        """The secret store's spelling, for a CachedSecrets in front of this."""
        return self.get(integration_id)


def response_body(response: Mapping[str, Any]) -> JsonDict:
    body: JsonDict = json.loads(response["body"])
    return body


def emf_metrics(output: str) -> list[JsonDict]:
    """The CloudWatch EMF documents printed in ``output``: ``{"name": value, ..., "dimensions": {...}}``."""
    documents = []
    for raw_line in output.splitlines():
        line = raw_line.strip()
        if not line.startswith("{") or '"_aws"' not in line:
            continue
        data = json.loads(line)
        names = [m["Name"] for d in data["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]]
        dimension_names = {n for d in data["_aws"]["CloudWatchMetrics"] for group in d["Dimensions"] for n in group}
        documents.append(
            {
                **{name: data[name] for name in names},
                "dimensions": {name: data[name] for name in dimension_names},
            }
        )
    return documents


def metric_total(documents: list[JsonDict], name: str, **dimensions: str) -> float:
    total = 0.0
    for document in documents:
        if name not in document:
            continue
        if any(document["dimensions"].get(k) != v for k, v in dimensions.items()):
            continue
        value = document[name]
        total += sum(value) if isinstance(value, list) else value
    return total
