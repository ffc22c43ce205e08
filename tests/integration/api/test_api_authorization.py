"""The authorization matrix, generated from the OpenAPI document's route list: every route × every kind of caller
→ the expected status, and another tenant's ids answered byte for byte as missing ones."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import jwt
import pytest

from chatwoot_integration.api.app import build_app
from chatwoot_integration.api.openapi import document
from localdev.server import LocalGateway
from localdev.template_routes import read_template
from tests.api_support import REPO_ROOT, TENANT, ApiClient, ApiResponse, World, make_token

OTHER_TENANT = "firm-b"
PUBLIC_PATHS = {"/health", "/openapi.json", "/docs"}
HTTP_METHODS = {"get", "post", "put", "patch", "delete"}


@dataclass(frozen=True, order=True)
class Route:
    method: str
    path: str

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"


def documented_routes() -> list[Route]:
    spec = document(build_app())
    return sorted(
        Route(method.upper(), path)
        for path, operations in spec["paths"].items()
        for method in operations
        if method in HTTP_METHODS and path not in PUBLIC_PATHS
    )


ROUTES = documented_routes()

# What the tenant's own callers get, per route: a harmless request (body) and the status for an admin and for an
# agent. Every documented route must be here, so that a new route gets an explicit decision.
ADMIN_ONLY = 403
EXPECTED: dict[str, tuple[dict[str, Any] | None, int, int]] = {
    "GET /changes": (None, 200, 200),
    "GET /integrations": (None, 200, ADMIN_ONLY),
    "POST /integrations": ({}, 422, ADMIN_ONLY),
    "GET /integrations/{integration_id}": (None, 200, ADMIN_ONLY),
    "PATCH /integrations/{integration_id}": ({"name": "Silva & Souza"}, 200, ADMIN_ONLY),
    "DELETE /integrations/{integration_id}": (None, 409, ADMIN_ONLY),  # an active integration is not deleted
    "POST /integrations/{integration_id}/sync": (None, 200, ADMIN_ONLY),
    "GET /integrations/{integration_id}/changes": (None, 200, 200),
    "GET /integrations/{integration_id}/deliveries": (None, 200, ADMIN_ONLY),
    "GET /integrations/{integration_id}/conversations": (None, 200, 200),
    "GET /integrations/{integration_id}/conversations/{conversation_id}": (None, 200, 200),
    "PATCH /integrations/{integration_id}/conversations/{conversation_id}": ({"priority": "low"}, 200, 200),
    "DELETE /integrations/{integration_id}/conversations/{conversation_id}": (None, 204, 204),
    "POST /integrations/{integration_id}/conversations/{conversation_id}/sync": (None, 200, 200),
    "POST /integrations/{integration_id}/conversations/{conversation_id}/assignment": ({}, 200, 200),
    "GET /integrations/{integration_id}/agents": (None, 200, 200),
    "GET /integrations/{integration_id}/agents/{agent_id}": (None, 200, 200),
    # Agents change only their own availability (linked by user_id); skills are an admin's.
    "PATCH /integrations/{integration_id}/agents/{agent_id}": ({"skills": ["civel"]}, 200, ADMIN_ONLY),
}


def concrete(route: Route, world: World, *, conversation: int = 0) -> str:
    return (
        route.path.replace("{integration_id}", str(world.integration_id))
        .replace("{conversation_id}", str(world.conversations[conversation]))
        .replace("{agent_id}", str(world.agents["ana"]))
    )


def callers() -> dict[str, str | None]:
    return {
        "no token": None,
        "expired": make_token(ttl=-10),
        "wrong audience": make_token(aud="someone-else"),
        "other tenant's admin": make_token(sub="admin-b", tenant=OTHER_TENANT),
        "other tenant's agent": make_token(sub="lawyer-b", role="agent", tenant=OTHER_TENANT),
        "own agent": make_token(sub="lawyer-1", role="agent"),
        "own admin": make_token(sub="admin-1"),
    }


def call(client: ApiClient, route: Route, path: str, token: str | None) -> ApiResponse:
    body, _, _ = EXPECTED[route.key]
    return client.call(route.method, path, token=token, json_body=body)


def test_the_matrix_covers_every_documented_route_and_the_template_serves_them() -> None:
    assert {r.key for r in ROUTES} == set(EXPECTED), "every route needs its expectations in EXPECTED"
    served = {r.route_key for r in read_template(REPO_ROOT / "template.yaml").routes if r.function_id == "ApiFunction"}
    assert {r.key for r in ROUTES} <= served
    assert len(ROUTES) == 18


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.key)
def test_every_caller_gets_the_expected_status(client: ApiClient, world: World, route: Route) -> None:
    path = concrete(route, world)
    _, admin_status, agent_status = EXPECTED[route.key]
    tokens = callers()
    for kind in ("no token", "expired", "wrong audience"):
        response = call(client, route, path, tokens[kind])
        assert response.status == 401, (kind, response.body)
        assert response.json()["error"]["code"] == "unauthorized"
    scoped = "{integration_id}" in route.path
    for kind in ("other tenant's admin", "other tenant's agent"):
        response = call(client, route, path, tokens[kind])
        if scoped:
            assert response.status == 404, (kind, response.body)
            assert response.json() == {
                "error": {"code": "not_found", "message": f"integration {world.integration_id} not found"}
            }
        else:
            assert response.status in (200, 422, ADMIN_ONLY), (kind, response.body)
            assert str(world.integration_id).encode() not in response.body or response.status != 200
    agent = call(client, route, concrete(route, world, conversation=2), tokens["own agent"])
    assert agent.status == agent_status, agent.body
    if agent_status == ADMIN_ONLY:
        assert agent.json()["error"]["code"] == "forbidden"
    admin = call(client, route, path, tokens["own admin"])
    assert admin.status == admin_status, admin.body


@pytest.mark.parametrize("route", [r for r in ROUTES if "{integration_id}" in r.path], ids=lambda r: r.key)
def test_another_tenants_integration_answers_byte_for_byte_as_a_missing_one(
    client: ApiClient, world: World, route: Route
) -> None:
    """What an outsider gets for an existing integration of another tenant is exactly what they get once it is
    gone, and what the tenant's own callers get for an id that never existed."""
    tokens = callers()
    path = concrete(route, world)
    outsiders = ("other tenant's admin", "other tenant's agent")
    while_it_exists = {kind: call(client, route, path, tokens[kind]) for kind in outsiders}
    admin = tokens["own admin"]
    base = f"/integrations/{world.integration_id}"
    assert client.patch(base, token=admin, json_body={"active": False}).status == 200
    assert client.delete(base, token=admin).status == 204
    for kind in outsiders:
        gone = call(client, route, path, tokens[kind])
        before = while_it_exists[kind]
        assert (before.status, before.body, before.header("Content-Type")) == (
            gone.status,
            gone.body,
            gone.header("Content-Type"),
        ), kind
    for kind in ("own agent", "own admin"):
        missing = call(client, route, path, tokens[kind])
        assert (missing.status, missing.body) == (
            while_it_exists[outsiders[0]].status,
            while_it_exists[outsiders[0]].body,
        )


def test_tokens_the_authorizer_refuses_never_reach_the_function(gateway: LocalGateway) -> None:
    now = int(time.time())
    unsigned = jwt.encode(
        {"iss": "local", "aud": "chatwoot-integration", "sub": "x", "role": "admin", "tenant": TENANT, "exp": now + 60},
        key="",
        algorithm="none",
    )
    refused = {
        "garbage": "not.a.jwt",
        "bad signature": make_token(secret="another-secret-that-is-long-enough-000"),
        "wrong issuer": make_token(iss="https://evil.example"),
        "no exp": make_token(exp=None),
        "alg none": unsigned,
        "HS512": make_token(algorithm="HS512"),
    }
    client = ApiClient(gateway)
    for route in ROUTES:
        path = route.path.replace("{integration_id}", "1").replace("{conversation_id}", "1").replace("{agent_id}", "1")
        for kind, token in refused.items():
            response = client.call(route.method, path, token=token, json_body={})
            assert response.status == 401, (kind, route.key, response.body)


@pytest.mark.parametrize(
    ("claims", "problem"),
    [
        ({"tenant": None}, "token has no tenant claim"),
        ({"tenant": ""}, "token claim tenant is not valid"),
        ({"tenant": "x" * 65}, "token claim tenant is not valid"),
        ({"tenant": "firm a"}, "token claim tenant is not valid"),
        ({"tenant": "[local other]"}, "token claim tenant is not valid"),
        ({"tenant": 7}, "token claim tenant must be a string"),
        ({"tenant": True}, "token claim tenant must be a string"),
        ({"tenant": ["local"]}, "token claim tenant must be a string"),
        ({"tenant": {"id": "local"}}, "token claim tenant must be a string"),
        ({"role": "superuser"}, "token claim role is not valid"),
        ({"role": None}, "token has no role claim"),
        ({"role": ["admin"]}, "token claim role must be a string"),
        # The local authorizer, like PyJWT, already refuses a number as the subject.
        ({"sub": 12345}, "invalid token"),
        ({"sub": None}, "token has no sub claim"),
    ],
)
def test_claims_of_the_wrong_type_or_shape_are_401_never_coerced(
    client: ApiClient, world: World, claims: dict[str, Any], problem: str
) -> None:
    response = client.get(f"/integrations/{world.integration_id}/conversations", token=make_token(**claims))
    assert response.status == 401, response.body
    assert response.json() == {"error": {"code": "unauthorized", "message": problem}}


def test_the_old_accounts_claim_grants_nothing(client: ApiClient, world: World) -> None:
    token = make_token(tenant=None, accounts=[world.account_id])
    response = client.get(f"/integrations/{world.integration_id}/conversations", token=token)
    assert response.status == 401


def test_agents_read_and_change_conversations(client: ApiClient, world: World) -> None:
    agent = make_token(sub="lawyer-1", role="agent")
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
    ana_token = make_token(sub="lawyer-ana", role="agent")
    own = client.patch(f"{base}/{ana}", token=ana_token, json_body={"availability": "busy"})
    assert own.status == 200
    assert own.json()["availability"] == "busy"
    assert world.sim.get_agent(world.account_id, ana).availability == "busy"
    other = client.patch(f"{base}/{bruno}", token=ana_token, json_body={"availability": "offline"})
    assert other.status == 403
    capacity = client.patch(f"{base}/{ana}", token=ana_token, json_body={"capacity": 50})
    assert capacity.status == 403
    assert "admin" in capacity.json()["error"]["message"]
    # The same sub in another tenant is another person: not Ana.
    namesake = make_token(sub="lawyer-ana", role="agent", tenant=OTHER_TENANT)
    assert client.patch(f"{base}/{ana}", token=namesake, json_body={"availability": "online"}).status == 404


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
