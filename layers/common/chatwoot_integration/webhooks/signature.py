"""Authenticity checks for Chatwoot webhook deliveries.

Chatwoot (4.12+) signs each delivery with the webhook's secret::

    X-Chatwoot-Timestamp: <unix seconds>
    X-Chatwoot-Signature: sha256=<lowercase hex HMAC-SHA256(secret, "<timestamp>.<raw body>")>

The MAC covers the exact bytes Chatwoot sent, so verification must use the raw request body,
never a re-serialised JSON document. Older instances send no signature at all; an integration
may opt into unsigned delivery only with a long random token in the webhook URL, checked with
``verify_legacy_token``.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Sequence
from enum import StrEnum

DEFAULT_TOLERANCE_SECONDS = 300
SIGNATURE_PREFIX = "sha256="

# Chatwoot sends `Time.now.to_i.to_s`: plain decimal digits. Anything else (signs, spaces, underscores
# that int() would accept) is refused because the signed string uses the header text verbatim.
_TIMESTAMP_PATTERN = re.compile(r"[0-9]{1,12}")
_HEX_DIGEST_PATTERN = re.compile(r"[0-9a-fA-F]{64}")

Secret = str | bytes
Secrets = Secret | Sequence[Secret]


class SignatureFailure(StrEnum):
    """Why a delivery was refused; the values are the metric/log reason codes."""

    MISSING_HEADERS = "missing_headers"
    MALFORMED_TIMESTAMP = "malformed_timestamp"
    STALE_TIMESTAMP = "stale_timestamp"
    MALFORMED_SIGNATURE = "malformed_signature"
    BAD_SIGNATURE = "bad_signature"


class InvalidSignature(Exception):
    """A delivery failed authentication.

    ``reason`` is for logs and metrics only: the HTTP layer answers the same 401 whatever it is, so a
    caller probing the endpoint learns nothing about which check failed.
    """

    def __init__(self, reason: SignatureFailure) -> None:
        super().__init__(f"webhook signature rejected: {reason.value}")
        self.reason = reason


def sign(secret: Secret, timestamp: str | int, body: bytes) -> str:
    """Return the ``X-Chatwoot-Signature`` header value Chatwoot would send for this body."""
    return SIGNATURE_PREFIX + _hex_digest(_as_bytes(secret), str(timestamp), body)


def check_signature(
    secret: Secrets,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> None:
    """Raise ``InvalidSignature`` unless the delivery was signed by one of ``secret`` recently.

    ``secret`` is one secret or a sequence of them (the current one and the previous one while a
    rotation is in progress). Empty secrets never match: Chatwoot does not sign with a blank secret.
    The timestamp must be within ``tolerance_seconds`` of ``now`` in either direction, which bounds
    replays of captured deliveries and rejects clocks that are far off.
    """
    if not timestamp or not signature:
        raise InvalidSignature(SignatureFailure.MISSING_HEADERS)
    if not _TIMESTAMP_PATTERN.fullmatch(timestamp):
        raise InvalidSignature(SignatureFailure.MALFORMED_TIMESTAMP)
    given_digest = _parse_signature(signature)
    if abs(now - int(timestamp)) > tolerance_seconds:
        raise InvalidSignature(SignatureFailure.STALE_TIMESTAMP)
    if not _matches_any(_secret_list(secret), timestamp, body, given_digest):
        raise InvalidSignature(SignatureFailure.BAD_SIGNATURE)


def verify_signature(
    secret: Secrets,
    timestamp: str | None,
    signature: str | None,
    body: bytes,
    *,
    now: float,
    tolerance_seconds: int = DEFAULT_TOLERANCE_SECONDS,
) -> bool:
    """Boolean form of ``check_signature`` for callers that do not need the reason."""
    try:
        check_signature(secret, timestamp, signature, body, now=now, tolerance_seconds=tolerance_seconds)
    except InvalidSignature:
        return False
    return True


def verify_legacy_token(expected: str | None, given: str | None) -> bool:
    """Compare the URL token of an unsigned (pre-4.12) integration in constant time.

    False whenever either side is missing or empty, so an integration without a configured token can
    never be reached through this path.
    """
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())


def _parse_signature(signature: str) -> str:
    if not signature.startswith(SIGNATURE_PREFIX):
        raise InvalidSignature(SignatureFailure.MALFORMED_SIGNATURE)
    digest = signature.removeprefix(SIGNATURE_PREFIX)
    if not _HEX_DIGEST_PATTERN.fullmatch(digest):
        raise InvalidSignature(SignatureFailure.MALFORMED_SIGNATURE)
    return digest.lower()


def _matches_any(secrets: list[bytes], timestamp: str, body: bytes, given_digest: str) -> bool:
    # Every candidate is compared (no short-circuit) so timing does not reveal which secret matched.
    results = [hmac.compare_digest(_hex_digest(key, timestamp, body), given_digest) for key in secrets]
    return any(results)


def _secret_list(secret: Secrets) -> list[bytes]:
    candidates = [secret] if isinstance(secret, str | bytes) else list(secret)
    return [key for key in (_as_bytes(candidate) for candidate in candidates) if key]


def _hex_digest(key: bytes, timestamp: str, body: bytes) -> str:
    return hmac.new(key, timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()


def _as_bytes(secret: Secret) -> bytes:
    return secret if isinstance(secret, bytes) else secret.encode()
