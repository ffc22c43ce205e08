"""How the tests let the Chatwoot client reach their simulators, and name hosts that do not exist.

The simulators listen on 127.0.0.1 over http, which a deployed stack refuses: the tests allow both, as ``make
run`` does. Host names under ``.example`` and ``.test`` (integrations the tests create but never call) resolve to
a public address here, since the machine has no DNS for them; nothing ever connects to it.
"""

from __future__ import annotations

from chatwoot_integration.chatwoot.egress import system_resolver

ALLOWED_NETWORKS = "127.0.0.0/8 ::1"
ENVIRONMENT = {"CHATWOOT_ALLOW_HTTP": "true", "CHATWOOT_ALLOWED_NETWORKS": ALLOWED_NETWORKS}
PUBLIC_ADDRESS = "93.184.215.14"


def resolve_test_names(host: str, port: int) -> list[str]:
    if host.rstrip(".").endswith((".example", ".test")):
        return [PUBLIC_ADDRESS]
    return system_resolver(host, port)
