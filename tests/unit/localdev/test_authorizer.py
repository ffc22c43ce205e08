"""The local JWT authorizer: which tokens pass, which are refused and why, and how claims are rendered."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from typing import Any

import jwt
import pytest

from localdev.authorizer import (
    AUDIENCE,
    ISSUER,
    AuthorizationError,
    JwtVerifier,
    issue_token,
    render_claims,
    token_scopes,
)

SECRET = "a-test-secret-long-enough-for-every-hmac-algorithm-0123456789abcdef"


def claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    values: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": "u1",
        "role": "agent",
        "tenant": "local",
        "iat": now,
        "exp": now + 3600,
    }
    values.update(overrides)
    return {name: value for name, value in values.items() if value is not None}


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def hand_made_token(header: dict[str, Any], payload: dict[str, Any], key: bytes | None) -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(payload).encode())}"
    signature = b64(hmac.new(key, signing_input.encode(), hashlib.sha256).digest()) if key else ""
    return f"{signing_input}.{signature}"


def verify(authorization: str | None) -> dict[str, Any]:
    return JwtVerifier(SECRET).verify(authorization)


def test_a_token_issued_locally_is_accepted_with_its_claims() -> None:
    token = issue_token(SECRET, subject="lawyer-7", role="agent", tenant="firm-b", ttl_seconds=60)

    verified = verify(f"Bearer {token}")

    assert {key: verified[key] for key in ("iss", "aud", "sub", "role", "tenant")} == {
        "iss": "local",
        "aud": "chatwoot-integration",
        "sub": "lawyer-7",
        "role": "agent",
        "tenant": "firm-b",
    }
    assert verified["exp"] - verified["iat"] == 60


def test_the_bearer_scheme_is_case_insensitive() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS256")

    assert verify(f"bearer {token}")["sub"] == "u1"


@pytest.mark.parametrize(
    ("authorization", "message"),
    [
        (None, "missing bearer token"),
        ("", "missing bearer token"),
        ("Basic dXNlcjpwYXNz", "must be 'Bearer <token>'"),
        ("Bearer", "must be 'Bearer <token>'"),
        ("Bearer not-a-jwt", "invalid token"),
        ("Bearer a.b.c", "invalid token"),
    ],
)
def test_missing_and_malformed_tokens_are_refused(authorization: str | None, message: str) -> None:
    with pytest.raises(AuthorizationError, match=message):
        verify(authorization)


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        (claims(exp=int(time.time()) - 10), "token expired"),
        (claims(aud="another-api"), "audience not accepted"),
        (claims(iss="https://issuer.example"), "issuer not accepted"),
        (claims(exp=None), "no exp claim"),
        (claims(aud=None), "no aud claim"),
        (claims(iss=None), "no iss claim"),
    ],
)
def test_tokens_with_unacceptable_claims_are_refused(payload: dict[str, Any], message: str) -> None:
    token = jwt.encode(payload, SECRET, algorithm="HS256")

    with pytest.raises(AuthorizationError, match=message) as refused:
        verify(f"Bearer {token}")

    assert token not in str(refused.value)


def test_a_token_signed_with_another_secret_is_refused() -> None:
    token = jwt.encode(claims(), "some-other-secret-that-is-also-long-enough", algorithm="HS256")

    with pytest.raises(AuthorizationError, match="invalid token"):
        verify(f"Bearer {token}")


def test_an_unsigned_token_with_alg_none_is_refused() -> None:
    token = hand_made_token({"alg": "none", "typ": "JWT"}, claims(), key=None)

    with pytest.raises(AuthorizationError, match="algorithm not accepted"):
        verify(f"Bearer {token}")


def test_an_hs512_token_is_refused_even_with_the_right_secret() -> None:
    token = jwt.encode(claims(), SECRET, algorithm="HS512")

    with pytest.raises(AuthorizationError, match="algorithm not accepted"):
        verify(f"Bearer {token}")


def test_an_rs256_header_over_an_hmac_of_the_secret_is_refused() -> None:
    # The algorithm-confusion attack: claim RS256 but sign with the shared secret.
    token = hand_made_token({"alg": "RS256", "typ": "JWT"}, claims(), key=SECRET.encode())

    with pytest.raises(AuthorizationError, match="algorithm not accepted"):
        verify(f"Bearer {token}")


def test_the_control_for_the_hand_made_tokens_passes() -> None:
    token = hand_made_token({"alg": "HS256", "typ": "JWT"}, claims(), key=SECRET.encode())

    assert verify(f"Bearer {token}")["sub"] == "u1"


def test_claims_are_rendered_as_api_gateway_passes_them() -> None:
    rendered = render_claims(
        {
            "sub": "u1",
            "accounts": [1, 2],
            "roles": ["admin", "agent"],
            "exp": 1709665438,
            "ratio": 0.5,
            "whole": 3.0,
            "admin": True,
            "empty": [],
            "nested": [[1, 2], "x"],
            "profile": {"b": 2, "a": "x"},
            "nothing": None,
        }
    )

    assert rendered == {
        "sub": "u1",
        "accounts": "[1 2]",
        "roles": "[admin agent]",
        "exp": "1709665438",
        "ratio": "0.5",
        "whole": "3",
        "admin": "true",
        "empty": "[]",
        "nested": "[[1 2] x]",
        "profile": "map[a:x b:2]",
        "nothing": "",
    }


@pytest.mark.parametrize(
    ("token_claims", "scopes"),
    [
        ({"scope": "read write"}, ["read", "write"]),
        ({"scp": ["read"]}, ["read"]),
        ({"scope": ""}, None),
        ({}, None),
    ],
)
def test_scopes_come_from_the_scope_claim(token_claims: dict[str, Any], scopes: list[str] | None) -> None:
    assert token_scopes(token_claims) == scopes
