"""Webhook function: ``POST /webhooks/chatwoot/{integration_id}`` (no JWT; the HMAC signature is the auth).

Reads the HTTP API (payload 2.0) event, hands it to the container's receiver, and answers 202 once the
delivery is queued; 401 for any authentication failure (always the same body), 413 for an oversized body,
400 for a signed body that is not a webhook (queued anyway, so the processor records it as rejected).
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.data_classes import APIGatewayProxyEventV2
from aws_lambda_powertools.utilities.typing import LambdaContext
from pydantic import BaseModel, ConfigDict

from chatwoot_integration.bootstrap import bootstrap
from chatwoot_integration.ingest import telemetry
from chatwoot_integration.ingest.receive import PayloadTooLarge, WebhookRequest, WebhookUnauthorized
from chatwoot_integration.observability import logger, metrics, tracer

components = bootstrap()


class Accepted(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: str = "accepted"
    delivery_id: str


class ErrorDetail(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str
    message: str


class ErrorBody(BaseModel):
    model_config = ConfigDict(defer_build=True)

    error: ErrorDetail


@metrics.log_metrics
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler(capture_response=False)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return answer(request_from_event(event))


def answer(request: WebhookRequest) -> dict[str, Any]:
    try:
        receipt = components.receiver.receive(request)
    except WebhookUnauthorized as refused:
        return _error(401, refused.code, refused.message)
    except PayloadTooLarge as refused:
        return _error(413, refused.code, refused.message)
    except Exception:
        # The queue (or the secret store) failed: Chatwoot will not retry, the scheduled sync recovers.
        telemetry.count("failed")
        logger.exception("delivery could not be queued")
        return _error(500, "internal_error", "the delivery could not be queued")
    if not receipt.accepted:
        return _error(400, "invalid_payload", receipt.message or "the body is not a Chatwoot webhook")
    return _response(202, Accepted(delivery_id=receipt.delivery_id))


def request_from_event(event: dict[str, Any]) -> WebhookRequest:
    http = APIGatewayProxyEventV2(event)
    return WebhookRequest(
        integration_id=(http.path_parameters or {}).get("integration_id"),
        headers={name.lower(): value for name, value in (http.headers or {}).items()},
        token=(http.query_string_parameters or {}).get("token"),
        body=http.body or "",
        body_is_base64=http.is_base64_encoded,
    )


def _error(status: int, code: str, message: str) -> dict[str, Any]:
    return _response(status, ErrorBody(error=ErrorDetail(code=code, message=message)))


def _response(status: int, body: BaseModel) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"content-type": "application/json"}, "body": body.model_dump_json()}
