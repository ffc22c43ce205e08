"""The HTTP API's JWT authorizer, played locally with a shared secret, and the tokens it accepts.

In AWS the API Gateway JWT authorizer verifies tokens against the identity provider; locally tokens are
HS256, signed with ``LOCAL_JWT_SECRET``, issued by ``local`` for the audience ``chatwoot-integration``.
Verified claims reach the handler the way API Gateway passes them: every value rendered as a string.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import jwt

ISSUER = "local"
AUDIENCE = "chatwoot-integration"
ALGORITHM = "HS256"


class AuthorizationError(Exception):
    """The request carries no acceptable token. The message is safe to return: it never holds the token."""


class JwtVerifier:
    def __init__(self, secret: str) -> None:
        self._secret = secret

    def verify(self, authorization: str | None) -> dict[str, Any]:
        """The claims of the bearer token in an ``Authorization`` header value, or :class:`AuthorizationError`."""
        token = _bearer_token(authorization)
        try:
            claims: dict[str, Any] = jwt.decode(
                token,
                self._secret,
                algorithms=[ALGORITHM],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthorizationError("token expired") from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthorizationError("token audience not accepted") from exc
        except jwt.InvalidIssuerError as exc:
            raise AuthorizationError("token issuer not accepted") from exc
        except jwt.MissingRequiredClaimError as exc:
            raise AuthorizationError(f"token has no {exc.claim} claim") from exc
        except jwt.InvalidAlgorithmError as exc:
            raise AuthorizationError(f"token algorithm not accepted (only {ALGORITHM})") from exc
        except jwt.InvalidTokenError as exc:
            raise AuthorizationError("invalid token") from exc
        return claims


def _bearer_token(authorization: str | None) -> str:
    if not authorization or not authorization.strip():
        raise AuthorizationError("missing bearer token")
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise AuthorizationError("authorization header must be 'Bearer <token>'")
    return token.strip()


def render_claims(claims: Mapping[str, Any]) -> dict[str, str]:
    """Claims as API Gateway puts them in ``requestContext.authorizer.jwt.claims``: every value a string.

    Arrays become ``"[a b]"`` (space-separated in brackets), numbers their decimal form, booleans
    ``true``/``false``, objects ``"map[k:v]"`` (keys sorted), null the empty string.
    """
    return {name: _render_claim(value) for name, value in claims.items()}


def _render_claim(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, list | tuple):
        return "[" + " ".join(_render_claim(item) for item in value) + "]"
    if isinstance(value, Mapping):
        return "map[" + " ".join(f"{key}:{_render_claim(value[key])}" for key in sorted(value)) + "]"
    return "" if value is None else str(value)


def token_scopes(claims: Mapping[str, Any]) -> list[str] | None:
    """The OAuth scopes a token grants (``scope``/``scp``), as API Gateway lists them; None when it has none."""
    scope = claims.get("scope", claims.get("scp"))
    if isinstance(scope, str):
        return scope.split() or None
    if isinstance(scope, list):
        return [str(item) for item in scope] or None
    return None


def issue_token(
    secret: str,
    *,
    subject: str,
    role: str,
    tenant: str,
    ttl_seconds: int = 3600,
    now: float | None = None,
) -> str:
    """A token the local authorizer accepts, carrying the claims the API scopes requests by."""
    issued_at = int(time.time() if now is None else now)
    payload = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": subject,
        "role": role,
        "tenant": tenant,
        "iat": issued_at,
        "exp": issued_at + ttl_seconds,
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)
