"""The bytes a webhook receiver checks: the body exactly as Rails encodes it, and Chatwoot's HMAC over it.

A receiver verifies the signature against the raw body, so the encoding must match Rails' byte for byte
(compact separators, UTF-8 kept, HTML-significant characters escaped) for a test's verification to mean
anything against the real Chatwoot.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

_RAILS_JSON_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def encode_body(payload: dict[str, Any]) -> bytes:
    """``payload.to_json`` as Rails writes it: compact, UTF-8, with HTML-significant characters escaped."""
    text = json.dumps(payload, ensure_ascii=False, separators=(",", ":"))
    for char, escaped in _RAILS_JSON_ESCAPES.items():
        text = text.replace(char, escaped)
    return text.encode("utf-8")


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """``X-Chatwoot-Signature``: ``sha256=`` + hex HMAC-SHA256 of ``"{timestamp}.{body}"`` keyed by the secret."""
    digest = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()
