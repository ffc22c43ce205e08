"""Who is calling, from the JWT claims API Gateway verified, and what they may touch."""

from __future__ import annotations

import json
import re
from typing import Any

from pydantic import ValidationError

from ..errors import Forbidden, NotFound, Unauthorized
from ..models.actor import Actor


def parse_accounts(value: Any) -> frozenset[int]:
    """Accept a JSON list, API Gateway's rendering of array claims (``"[1 2]"``), or a single id."""
    if value is None or value == "":
        return frozenset()
    if isinstance(value, int | str) and str(value).strip().lstrip("-").isdigit():
        return frozenset({int(value)})
    if isinstance(value, str):
        text = value.strip()
        try:
            value = json.loads(text)
        except ValueError:
            if not (text.startswith("[") and text.endswith("]")):
                raise ValueError("accounts claim is not a list") from None
            value = text[1:-1].replace(",", " ").split()
    if not isinstance(value, list):
        raise ValueError("accounts claim is not a list")
    return frozenset(int(v) for v in value)


def caller_from_claims(claims: dict[str, Any] | None) -> Actor:
    """The actor a verified token names (API Gateway checked its signature, issuer, audience and expiry)."""
    if not claims or not claims.get("sub"):
        raise Unauthorized("missing or invalid token")
    try:
        return Actor(
            sub=str(claims["sub"]), role=claims.get("role", "agent"), accounts=parse_accounts(claims.get("accounts"))
        )
    except (ValueError, ValidationError, TypeError) as exc:
        raise Unauthorized("token claims are not valid") from exc


def require_account(caller: Actor, account_id: int) -> None:
    """A caller who may not see an account learns nothing about it: the answer is the same 404."""
    if not caller.may_see(account_id):
        raise NotFound(f"account {account_id} not found")


def require_admin(caller: Actor) -> None:
    if not caller.is_admin:
        raise Forbidden("this operation needs the admin role")


_ACCOUNT_PATH = re.compile(r"^/accounts/(\d+)(?:/|$)")
PUBLIC_PATHS = frozenset({"/health", "/openapi.json", "/docs"})


def authorize_path(path: str, claims: dict[str, Any] | None) -> None:
    """Authorization by path, before the request body is even validated: every ``/integrations`` route needs an
    admin, every ``/accounts/{id}`` route needs that account in the token. The routes check again (and get the
    caller from the same claims); this early check only makes sure a caller who may not use a route learns
    nothing from it, not even what a valid body looks like."""
    if path in PUBLIC_PATHS:
        return
    caller = caller_from_claims(claims)
    if path == "/integrations" or path.startswith("/integrations/"):
        require_admin(caller)
    match = _ACCOUNT_PATH.match(path)
    if match:
        require_account(caller, int(match.group(1)))
