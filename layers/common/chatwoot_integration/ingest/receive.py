"""The webhook function's work: authenticate one Chatwoot delivery, queue it, and say so.

Chatwoot waits 5 seconds and never retries, so this path does the least that makes a delivery safe: a size
check, the integration's secret from a per-container cache, the HMAC check, and one queue write. It never
touches the database (in AWS this module runs without psycopg loaded at all).

Every authentication failure (unknown or inactive integration, missing or malformed headers, wrong
signature, timestamp out of tolerance, wrong legacy token) raises the same :class:`WebhookUnauthorized`;
only logs and the ``rejected`` metric learn the reason.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Protocol

from pydantic import BaseModel, ConfigDict, Field

from ..errors import DomainError, Unauthorized
from ..observability import logger
from ..secrets import IntegrationSecret
from ..webhooks.errors import InvalidPayload
from ..webhooks.signature import InvalidSignature, check_signature, verify_legacy_token
from . import telemetry
from .queue import IngestQueue
from .record import DELIVERY_ID_MAX_LENGTH, IngestRecord, derive_delivery_id

SIGNATURE_HEADER = "x-chatwoot-signature"
TIMESTAMP_HEADER = "x-chatwoot-timestamp"
DELIVERY_HEADER = "x-chatwoot-delivery"

UNAUTHORIZED_MESSAGE = "the delivery could not be authenticated"

# Chatwoot sends a UUID; anything printable of a sane length is kept, the rest gets a derived id.
_DELIVERY_ID_PATTERN = re.compile(rf"[\x21-\x7e]{{1,{DELIVERY_ID_MAX_LENGTH}}}")
_INTEGRATION_ID_PATTERN = re.compile(r"[1-9][0-9]{0,17}")


class SecretLookup(Protocol):
    def get(self, integration_id: int) -> IntegrationSecret | None: ...


class WebhookRequest(BaseModel):
    """One HTTP request to ``POST /webhooks/chatwoot/{integration_id}``, as the handler read it.

    ``body`` is the request body as the HTTP front delivered it: text, or base64 when ``body_is_base64``.
    Header names are lower case.
    """

    model_config = ConfigDict(defer_build=True, frozen=True)

    integration_id: str | None = None
    headers: Mapping[str, str] = Field(default_factory=dict)
    token: str | None = Field(default=None, repr=False)
    body: str = Field(default="", repr=False)
    body_is_base64: bool = False

    def header(self, name: str) -> str | None:
        return self.headers.get(name)


class Receipt(BaseModel):
    """What the webhook answers once the delivery is queued: accepted, or refused because of its body."""

    model_config = ConfigDict(defer_build=True, frozen=True)

    delivery_id: str
    accepted: bool
    reason: str | None = None
    message: str | None = None


class WebhookUnauthorized(Unauthorized):
    """The delivery failed authentication; ``reason`` is for logs and metrics only, never for the caller."""

    def __init__(self, reason: str) -> None:
        super().__init__(UNAUTHORIZED_MESSAGE)
        self.reason = reason


class PayloadTooLarge(DomainError):
    code = "payload_too_large"


class WebhookReceiver:
    """Verifies and queues deliveries. One per container (``bootstrap``): it holds the secret cache and the queue
    client."""

    def __init__(
        self,
        secrets: SecretLookup,
        queue: IngestQueue,
        *,
        tolerance_seconds: int = 300,
        max_body_bytes: int = 1024 * 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._secrets = secrets
        self._queue = queue
        self._tolerance_seconds = tolerance_seconds
        self._max_body_bytes = max_body_bytes
        self._clock = clock

    def receive(self, request: WebhookRequest) -> Receipt:
        """Authenticate ``request`` and queue its delivery.

        Raises :class:`PayloadTooLarge` (checked first, before any decoding) or :class:`WebhookUnauthorized`.
        A delivery whose body is not a JSON object with an ``event`` string is still queued, so the processor
        records it as rejected, and the receipt says it was not accepted.
        """
        body = self._bounded_body(request)
        now = self._clock()
        integration_id = self._authenticate(request, body, now)
        delivery_id = _delivery_id(request, body)
        problem = body_problem(body)
        self._queue.send(
            IngestRecord(
                integration_id=integration_id,
                delivery_id=delivery_id,
                received_at=datetime.fromtimestamp(now, UTC),
                body=body,
            )
        )
        telemetry.count("received")
        keys = telemetry.log_keys(integration_id=integration_id, delivery_id=delivery_id)
        if problem is not None:
            logger.info("delivery queued with an invalid body", extra={**keys, "reason": problem.reason})
            return Receipt(delivery_id=delivery_id, accepted=False, reason=problem.reason, message=str(problem))
        logger.info("delivery queued", extra=keys)
        return Receipt(delivery_id=delivery_id, accepted=True)

    def _bounded_body(self, request: WebhookRequest) -> bytes:
        limit = self._max_body_bytes
        if request.body_is_base64:
            # Refuse on the encoded length first, so an oversized body is never decoded.
            if (len(request.body) // 4) * 3 - 2 > limit:
                raise self._too_large(request)
            try:
                body = base64.b64decode(request.body, validate=True)
            except (binascii.Error, ValueError):
                # Not base64 after all: the bytes as given (they will fail the signature check).
                body = request.body.encode("utf-8", errors="surrogatepass")
        else:
            # A UTF-8 text is never shorter in bytes than in characters.
            if len(request.body) > limit:
                raise self._too_large(request)
            # surrogatepass: a body that is not valid Unicode still reaches the processor, which rejects it.
            body = request.body.encode("utf-8", errors="surrogatepass")
        if len(body) > limit:
            raise self._too_large(request)
        return body

    def _too_large(self, request: WebhookRequest) -> PayloadTooLarge:
        telemetry.count_rejected("too_large")
        logger.warning("delivery refused: body too large", extra=_request_keys(request))
        return PayloadTooLarge(f"the body is larger than {self._max_body_bytes} bytes")

    def _authenticate(self, request: WebhookRequest, body: bytes, now: float) -> int:
        integration_id = _integration_id(request.integration_id)
        secret = self._secrets.get(integration_id) if integration_id is not None else None
        if integration_id is None or secret is None:
            raise self._refuse(request, "unknown_integration")
        if not secret.active:
            raise self._refuse(request, "inactive_integration")
        signed = request.header(SIGNATURE_HEADER) is not None or request.header(TIMESTAMP_HEADER) is not None
        if not signed and secret.legacy_unsigned:
            expected = secret.legacy_token.get_secret_value() if secret.legacy_token is not None else None
            if verify_legacy_token(expected, request.token):
                return integration_id
            raise self._refuse(request, "bad_legacy_token")
        try:
            check_signature(
                secret.accepted_webhook_secrets(datetime.fromtimestamp(now, UTC)),
                request.header(TIMESTAMP_HEADER),
                request.header(SIGNATURE_HEADER),
                body,
                now=now,
                tolerance_seconds=self._tolerance_seconds,
            )
        except InvalidSignature as failure:
            raise self._refuse(request, failure.reason.value) from None
        return integration_id

    def _refuse(self, request: WebhookRequest, reason: str) -> WebhookUnauthorized:
        telemetry.count_rejected(reason)
        logger.warning("delivery refused: not authenticated", extra={**_request_keys(request), "reason": reason})
        return WebhookUnauthorized(reason)


def body_problem(body: bytes) -> InvalidPayload | None:
    """Why ``body`` cannot be a Chatwoot webhook (not a JSON object with a non-empty ``event`` string), or None.

    Only the envelope is checked here; the processor parses the event itself. The reasons are those of
    :func:`~chatwoot_integration.webhooks.payloads.parse_webhook`.
    """
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        return InvalidPayload("not_json", "webhook body is not valid UTF-8 JSON")
    if not isinstance(data, dict):
        return InvalidPayload("not_an_object", "webhook body is not a JSON object")
    name = data.get("event")
    if name is None:
        return InvalidPayload("missing_event", "webhook body has no 'event' key")
    if not isinstance(name, str) or not name:
        return InvalidPayload("invalid_event", "webhook 'event' is not a non-empty string")
    return None


def _integration_id(raw: str | None) -> int | None:
    if raw is None or not _INTEGRATION_ID_PATTERN.fullmatch(raw):
        return None
    return int(raw)


def _delivery_id(request: WebhookRequest, body: bytes) -> str:
    given = (request.header(DELIVERY_HEADER) or "").strip()
    if _DELIVERY_ID_PATTERN.fullmatch(given):
        return given
    # Chatwoot before 4.12 sends none: a hash of the body keeps repeated deliveries deduplicated.
    return derive_delivery_id(body)


def _request_keys(request: WebhookRequest) -> dict[str, object]:
    given = (request.header(DELIVERY_HEADER) or "").strip()
    return telemetry.log_keys(
        integration_id=_integration_id(request.integration_id),
        delivery_id=given if _DELIVERY_ID_PATTERN.fullmatch(given) else None,
    )
