"""``make token``: print a JWT the local authorizer accepts.

    python -m localdev.token [--sub S] [--role admin|agent] [--tenant T] [--ttl 3600]

Flags win over the environment (SUB, ROLE, TENANT, as ``make token ROLE=agent TENANT=firm-b`` passes them),
which wins over LOCAL_TENANT and the defaults (``local-admin``, ``admin``, tenant ``local``).
"""

from __future__ import annotations

import argparse
import os
import re
import sys
from collections.abc import Mapping, Sequence

from .authorizer import issue_token
from .settings import LocalSettings

ROLES = ("admin", "agent")
_TENANT = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def parse_tenant(value: str) -> str:
    if not _TENANT.match(value):
        raise argparse.ArgumentTypeError(f"tenant must be 1-64 letters, digits, '.', '_' or '-', got {value!r}")
    return value


def build_parser(environ: Mapping[str, str], settings: LocalSettings) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="make token", description="Print a JWT for the local API.")
    parser.add_argument("--sub", default=environ.get("SUB") or "local-admin", help="subject (default local-admin)")
    parser.add_argument("--role", default=environ.get("ROLE") or "admin", choices=ROLES, help="default admin")
    parser.add_argument(
        "--tenant",
        type=parse_tenant,
        default=environ.get("TENANT") or settings.local_tenant,
        help="the tenant (law firm) the caller acts for (default LOCAL_TENANT or local)",
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
    print(issue_token(settings.jwt_secret, subject=args.sub, role=args.role, tenant=args.tenant, ttl_seconds=args.ttl))
    return 0


if __name__ == "__main__":
    sys.exit(main())
