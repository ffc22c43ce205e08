"""The authorization matrix over every route: tokens the JWT authorizer refuses, accounts the caller may not
see, and what only admins may do."""

from __future__ import annotations

import time

import jwt
import pytest

from localdev.server import LocalGateway
from localdev.template_routes import read_template
from tests.api_support import REPO_ROOT, ApiClient, World, make_token

ROUTES = [r for r in read_template(REPO_ROOT / "template.yaml").routes if r.function_id == "ApiFunction"]
PROTECTED = [r for r in ROUTES if r.authorized]
PUBLIC_PATHS = {"/health", "/openapi.json", "/docs"}


def concrete(path: str, world: World, *, account_id: int | None = None) -> str:
    return (
        path.replace("{account_id}", str(account_id or world.account_id))
        .replace("{conversation_id}", str(world.conversations[0]))
        .replace("{agent_id}", str(world.agents["ana"]))
        .replace("{integration_id}", str(world.integration_id))
    )


def bad_tokens() -> dict[str, str | None]:
    now = int(time.time())
    unsigned = jwt.encode(
        {"iss": "local", "aud": "chatwoot-integration", "sub": "x", "role": "admin", "accounts": [1], "exp": now + 60},
        key="",
        algorithm="none",
    )
    return {
        "missing": None,
        "garbage": "not.a.jwt",
        "bad signature": make_token(secret="another-secret-that-is-long-enough-000"),
        "expired": make_token(ttl=-10),
        "wrong audience": make_token(aud="someone-else"),
        "wrong issuer": make_token(iss="https://evil.example"),
        "no exp": make_token(exp=None),
        "alg none": unsigned,
        "HS512": make_token(algorithm="HS512"),
    }


def test_every_protected_route_is_in_the_matrix() -> None:
    assert {r.path for r in ROUTES} - {r.path for r in PROTECTED} == PUBLIC_PATHS
    assert len(PROTECTED) == 16


# The authorizer refuses before any function runs, so these need no data behind the ids.
NO_DATA = World(sim=None, url="", account_id=1, integration_id=1, agents={"ana": 1}, inbox_id=1, conversations=[1])  # type: ignore[arg-type]


@pytest.mark.parametrize("route", PROTECTED, ids=lambda r: r.route_key)
@pytest.mark.parametrize("kind", list(bad_tokens()))
def test_refused_tokens_get_401_everywhere(gateway: LocalGateway, route, kind: str) -> None:  # type: ignore[no-untyped-def]
    token = bad_tokens()[kind]
    response = ApiClient(gateway).call(route.method, concrete(route.path, NO_DATA), token=token, json_body={})
    assert response.status == 401, (kind, route.route_key, response.body)
    assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize("route", [r for r in PROTECTED if "{account_id}" in r.path], ids=lambda r: r.route_key)
def test_another_accounts_routes_answer_404_without_revealing_anything(client: ApiClient, world: World, route) -> None:  # type: ignore[no-untyped-def]
    outsider = make_token(accounts=[world.account_id + 100])
    response = client.call(route.method, concrete(route.path, world), token=outsider, json_body={})
    assert response.status == 404, response.body
    assert response.json()["error"]["message"] == f"account {world.account_id} not found"
    # And the same answer for an account that does not exist at all.
    missing = client.call(
        route.method, concrete(route.path, world, account_id=777), token=make_token(accounts=[1]), json_body={}
    )
    assert missing.status == 404


@pytest.mark.parametrize(
    "route", [r for r in PROTECTED if r.path.startswith("/integrations")], ids=lambda r: r.route_key
)
def test_integrations_are_admin_only(client: ApiClient, world: World, route) -> None:  # type: ignore[no-untyped-def]
    agent = make_token(sub="lawyer-1", role="agent", accounts=[world.account_id])
    response = client.call(route.method, concrete(route.path, world), token=agent, json_body={})
    assert response.status == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_agents_read_and_change_conversations(client: ApiClient, world: World) -> None:
    agent = make_token(sub="lawyer-1", role="agent", accounts=[world.account_id])
    base = f"/integrations/{world.integration_id}"
    assert client.get(f"{base}/conversations", token=agent).status == 200
    assert client.get(f"{base}/agents", token=agent).status == 200
    assert client.get(f"{base}/changes", token=agent).status == 200
    patched = client.patch(f"{base}/conversations/{world.conversations[0]}", token=agent, json_body={"priority": "low"})
    assert patched.status == 200


def test_an_agent_sets_only_its_own_availability_and_never_capacity(client: ApiClient, world: World) -> None:
    admin = make_token()
    ana, bruno = world.agents["ana"], world.agents["bruno"]
    base = f"/integrations/{world.integration_id}/agents"
    assert client.patch(f"{base}/{ana}", token=admin, json_body={"user_id": "lawyer-ana"}).status == 200
    ana_token = make_token(sub="lawyer-ana", role="agent", accounts=[world.account_id])
    own = client.patch(f"{base}/{ana}", token=ana_token, json_body={"availability": "busy"})
    assert own.status == 200
    assert own.json()["availability"] == "busy"
    assert world.sim.get_agent(world.account_id, ana).availability == "busy"
    other = client.patch(f"{base}/{bruno}", token=ana_token, json_body={"availability": "offline"})
    assert other.status == 403
    capacity = client.patch(f"{base}/{ana}", token=ana_token, json_body={"capacity": 50})
    assert capacity.status == 403
    assert "admin" in capacity.json()["error"]["message"]


def test_accounts_claim_in_api_gateway_string_form(client: ApiClient, world: World) -> None:
    # API Gateway renders array claims as "[1 2]"; a single number also works.
    for accounts in ([world.account_id, 99], world.account_id):
        token = make_token(accounts=accounts)  # type: ignore[arg-type]
        assert client.get(f"/integrations/{world.integration_id}/conversations", token=token).status == 200


def test_public_routes_need_no_token(client: ApiClient, world: World) -> None:
    health = client.get("/health", token=None)
    assert health.status == 200
    assert health.json() == {"status": "ok", "database": "ok"}
    assert client.get("/openapi.json", token=None).json()["openapi"].startswith("3.")
    docs = client.get("/docs", token=None)
    assert docs.status == 200
    assert b"swagger" in docs.body.lower()


def test_unknown_routes_are_404_json(client: ApiClient) -> None:
    response = client.get("/nothing/here")
    assert response.status == 404
    assert response.json()["error"]["code"] == "not_found"
