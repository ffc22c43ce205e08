"""``make token``: flags, then SUB/ROLE/ACCOUNTS from the environment, then LOCAL_ACCOUNTS and defaults."""

from __future__ import annotations

from typing import Any

import pytest

from localdev.authorizer import JwtVerifier
from localdev.settings import DEFAULT_JWT_SECRET
from localdev.token import main


def printed_claims(capsys: pytest.CaptureFixture[str], secret: str = DEFAULT_JWT_SECRET) -> dict[str, Any]:
    token = capsys.readouterr().out.strip()
    return JwtVerifier(secret).verify(f"Bearer {token}")


def test_defaults_are_a_local_admin_of_account_1(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([], environ={}) == 0

    claims = printed_claims(capsys)
    assert (claims["sub"], claims["role"], claims["accounts"]) == ("local-admin", "admin", [1])
    assert claims["exp"] - claims["iat"] == 3600


def test_flags_set_subject_role_accounts_and_lifetime(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--sub", "lawyer-7", "--role", "agent", "--accounts", "2,5", "--ttl", "60"], environ={})

    claims = printed_claims(capsys)
    assert (claims["sub"], claims["role"], claims["accounts"]) == ("lawyer-7", "agent", [2, 5])
    assert claims["exp"] - claims["iat"] == 60


def test_the_makefile_variables_are_read_from_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    main([], environ={"SUB": "env-user", "ROLE": "agent", "ACCOUNTS": "3,4", "LOCAL_ACCOUNTS": "9"})

    claims = printed_claims(capsys)
    assert (claims["sub"], claims["role"], claims["accounts"]) == ("env-user", "agent", [3, 4])


def test_local_accounts_is_the_fallback_for_accounts(capsys: pytest.CaptureFixture[str]) -> None:
    main([], environ={"LOCAL_ACCOUNTS": "7,8"})

    assert printed_claims(capsys)["accounts"] == [7, 8]


def test_flags_win_over_the_environment(capsys: pytest.CaptureFixture[str]) -> None:
    main(["--role", "admin", "--accounts", "1"], environ={"ROLE": "agent", "ACCOUNTS": "3"})

    claims = printed_claims(capsys)
    assert (claims["role"], claims["accounts"]) == ("admin", [1])


def test_the_token_is_signed_with_local_jwt_secret_when_set(capsys: pytest.CaptureFixture[str]) -> None:
    secret = "another-local-secret-of-a-decent-length-0123"
    main([], environ={"LOCAL_JWT_SECRET": secret})

    assert printed_claims(capsys, secret)["sub"] == "local-admin"


@pytest.mark.parametrize(
    ("argv", "environ"),
    [
        (["--role", "owner"], {}),
        ([], {"ROLE": "owner"}),
        (["--accounts", "one"], {}),
        ([], {"ACCOUNTS": "0"}),
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
