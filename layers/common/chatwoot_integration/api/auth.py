"""Who is calling, from the JWT API Gateway verified, and what they may touch.

API Gateway's JWT authorizer checks the token's signature, issuer, audience and expiry, then hands the claims
to the function rendered as strings (a number ``7`` and a string ``"7"`` look alike there). The claims this API
scopes requests by (``sub``, ``role``, ``tenant``) are therefore read with their JSON types from the payload of
the very token the authorizer verified (the ``Authorization`` header it was taken from), and must agree with the
authorizer's rendering of them. A claim of another type (a number, a boolean, a list) is a 401, never coerced.

The rule for visibility is one check on the path, before the route runs (:func:`authorize_request`): under
``/integrations/{id}``, an integration of another tenant answers exactly the 404 of one that does not exist,
for every role and method; only then does the role matter (managing integrations needs an admin).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import ValidationError

from ..errors import Forbidden, NotFound, Unauthorized
from ..models.actor import Actor
from ..models.common import MAX_ID

PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/docs"})
_SCOPED_CLAIMS = ("sub", "role", "tenant")

TenantOf = Callable[[int], str | None]


def caller_from_request(claims: Mapping[str, Any] | None, authorization: str | None) -> Actor:
    """The actor a verified token names, or :class:`Unauthorized`."""
    if not claims:
        raise Unauthorized("missing or invalid token")
    payload = _token_payload(authorization)
    values: dict[str, Any] = {}
    for name in _SCOPED_CLAIMS:
        value = payload.get(name)
        if value is None:
            raise Unauthorized(f"token has no {name} claim")
        if not isinstance(value, str):
            raise Unauthorized(f"token claim {name} must be a string")
        if str(claims.get(name, "")) != value:
            raise Unauthorized("token claims do not match the verified token")
        values[name] = value
    try:
        return Actor(**values)
    except ValidationError as exc:
        field = str(exc.errors()[0]["loc"][0]) if exc.errors() else "claims"
        raise Unauthorized(f"token claim {field} is not valid") from exc


def authorize_request(
    path: str, claims: Mapping[str, Any] | None, authorization: str | None, tenant_of: TenantOf
) -> Actor | None:
    """The caller of a request to ``path`` if they may use it; None for the public paths.

    Runs before the request body is even validated, so that a caller who may not use a route learns nothing
    from it, not even what a valid body looks like.
    """
    if path in PUBLIC_PATHS:
        return None
    caller = caller_from_request(claims, authorization)
    integration_id, rest = _integration_in(path)
    if integration_id is not None:
        require_integration(caller, integration_id, tenant_of)
        if rest in ("", "/sync", "/deliveries"):
            require_admin(caller)  # the integration itself, its sync and its webhook ledger
    elif path.rstrip("/") == "/integrations":
        require_admin(caller)
    return caller


def require_integration(caller: Actor, integration_id: int, tenant_of: TenantOf) -> None:
    """An integration the caller's tenant does not own is, to them, an integration that does not exist."""
    if integration_id > MAX_ID or tenant_of(integration_id) != caller.tenant:
        raise NotFound(f"integration {integration_id} not found")


def require_admin(caller: Actor) -> None:
    if not caller.is_admin:
        raise Forbidden("this operation needs the admin role")


def _integration_in(path: str) -> tuple[int | None, str]:
    """The integration id a path is under and what follows it (``""``, ``"/sync"``, ``"/conversations/7"``...)."""
    prefix = "/integrations/"
    if not path.startswith(prefix):
        return None, ""
    head, slash, rest = path[len(prefix) :].partition("/")
    if not head.isdigit() or len(head) > 19:
        return None, ""
    return int(head), (slash + rest).rstrip("/")


def _token_payload(authorization: str | None) -> dict[str, Any]:
    """The JSON payload of the bearer token (its signature was verified by the authorizer, not here)."""
    scheme, _, token = (authorization or "").strip().partition(" ")
    parts = token.strip().split(".")
    if scheme.lower() != "bearer" or len(parts) != 3:
        raise Unauthorized("missing or invalid token")
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except (binascii.Error, ValueError) as exc:
        raise Unauthorized("missing or invalid token") from exc
    if not isinstance(payload, dict):
        raise Unauthorized("missing or invalid token")
    return payload
