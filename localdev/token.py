"""``make token``: print a JWT the local authorizer accepts.

    python -m localdev.token [--sub S] [--role admin|agent] [--accounts 1,2] [--ttl 3600]

Flags win over the environment (SUB, ROLE, ACCOUNTS, as ``make token ROLE=agent`` passes them), which wins
over LOCAL_ACCOUNTS and the defaults (``local-admin``, ``admin``, account ``1``).
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping, Sequence

from .authorizer import issue_token
from .settings import LocalSettings

ROLES = ("admin", "agent")


def parse_accounts(value: str) -> list[int]:
    try:
        accounts = [int(part) for part in value.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"accounts must be comma-separated numbers, got {value!r}") from None
    if not accounts or any(account <= 0 for account in accounts):
        raise argparse.ArgumentTypeError(f"accounts must be positive numbers, got {value!r}")
    return accounts


def build_parser(environ: Mapping[str, str], settings: LocalSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make token", description="Print a JWT for the local API.")
    parser.add_argument("--sub", default=environ.get("SUB") or "local-admin", help="subject (default local-admin)")
    parser.add_argument("--role", default=environ.get("ROLE") or "admin", choices=ROLES, help="default admin")
    parser.add_argument(
        "--accounts",
        type=parse_accounts,
        default=environ.get("ACCOUNTS") or settings.local_accounts,
        help="comma-separated Chatwoot account ids (default LOCAL_ACCOUNTS or 1)",
    )
    parser.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds (default 3600)")
    return parser


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None) -> int:
    env = os.environ if environ is None else environ
    settings = LocalSettings.from_environ(env)
    parser = build_parser(env, settings)
    args = parser.parse_args(argv)
    if args.role not in ROLES:  # ROLE from the environment bypasses argparse's choices check
        parser.error(f"role must be one of {', '.join(ROLES)}, got {args.role!r}")
    if args.ttl <= 0:
        parser.error("ttl must be positive")
    print(
        issue_token(settings.jwt_secret, subject=args.sub, role=args.role, accounts=args.accounts, ttl_seconds=args.ttl)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
