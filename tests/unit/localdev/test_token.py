"""``make token``: flags, then SUB/ROLE/TENANT from the environment, then LOCAL_TENANT and defaults."""

from __future__ import annotations

from typing import Any

import pytest

from localdev.authorizer import JwtVerifier
from localdev.settings import DEFAULT_JWT_SECRET
from localdev.token import main


def printed_claims(capsys: pytest.CaptureFixture[str], secret: str = DEFAULT_JWT_SECRET) -> dict[str, Any]:
    token = capsys.readouterr().out.strip()
    return JwtVerifier(secret).verify(f"Bearer {token}")


def test_defaults_are_a_local_admin_of_tenant_local(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([], environ={}) == 0

    claims = printed_claims(capsys)
    assert (claims["sub"], claims["role"], claims["tenant"]) == ("local-admin", "admin", "local")
    assert "accounts" not in claims
    assert claims["exp"] - claims["iat"] == 3600


def test_flags_set_subject_role_tenant_and_lifetime(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--sub", "lawyer-7", "--role", "agent", "--tenant", "firm-b", "--ttl", "60"], environ={})

    claims = printed_claims(capsys)
    assert (claims["sub"], claims["role"], claims["tenant"]) == ("lawyer-7", "agent", "firm-b")
    assert claims["exp"] - claims["iat"] == 60


def test_the_makefile_variables_are_read_from_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    main([], environ={"SUB": "env-user", "ROLE": "agent", "TENANT": "firm-c", "LOCAL_TENANT": "ignored"})

    claims = printed_claims(capsys)
    assert (claims["sub"], claims["role"], claims["tenant"]) == ("env-user", "agent", "firm-c")


def test_local_tenant_is_the_fallback_for_tenant(capsys: pytest.CaptureFixture[str]) -> None:
    main([], environ={"LOCAL_TENANT": "3f2a9c1e-0b7d-4e8a-9f61-2d5c8b7a4e10"})

    assert printed_claims(capsys)["tenant"] == "3f2a9c1e-0b7d-4e8a-9f61-2d5c8b7a4e10"


def test_flags_win_over_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--role", "admin", "--tenant", "local"], environ={"ROLE": "agent", "TENANT": "firm-b"})

    claims = printed_claims(capsys)
    assert (claims["role"], claims["tenant"]) == ("admin", "local")


def test_the_token_is_signed_with_local_jwt_secret_when_set(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "another-local-secret-of-a-decent-length-0123"
    main([], environ={"LOCAL_JWT_SECRET": secret})

    assert printed_claims(capsys, secret)["sub"] == "local-admin"


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["--role", "owner"], {}),
        ([], {"ROLE": "owner"}),
        (["--tenant", "firm a"], {}),
        ([], {"TENANT": "x" * 65}),
        (["--ttl", "0"], {}),
    ],
)
def test_invalid_input_exits_with_usage_error_and_prints_no_token(
    argv: list[str], environ: dict[str, str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exited:
        main(argv, environ=environ)

    assert exited.value.code == 2
    assert capsys.readouterr().out == ""
