"""The simulator against Chatwoot's own contract.

REST: every endpoint the simulator serves is called over HTTP the way a client would, and the JSON is
validated against the matching response schema of Chatwoot's OpenAPI 3.1 document (JSON Schema 2020-12,
``$ref`` resolved through a ``referencing`` registry). Where that document is known to be wrong about
what Chatwoot's code renders (chatwoot.md), the schema is corrected before validation, and the correction
is listed in ``KNOWN_SWAGGER_DEVIATIONS`` with its reason.

Webhooks: the payloads the simulator sends have the same shape (keys, key order, JSON types) as the
example payloads in ``shared/chatwoot/payloads``.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from jsonschema import Draft202012Validator  # type: ignore[import-untyped]
from referencing import Registry
from referencing.jsonschema import DRAFT202012

from chatwoot_simulator import ManualClock, Simulator, SimulatorServer, WebhookDelivery, serve
from chatwoot_simulator.rest import RestApi

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT.parent / "shared" / "chatwoot"
SWAGGER = SHARED / "swagger.json"
PAYLOADS = SHARED / "payloads"

pytestmark = pytest.mark.skipif(
    not SWAGGER.exists(),
    reason=f"Chatwoot's OpenAPI document is not available: {SWAGGER} (expected at <repo>/../shared) does not exist",
)

DOCUMENT_URI = "urn:chatwoot:swagger"
ACCOUNT = "/api/v1/accounts/{account_id}"
CONVERSATION = ACCOUNT + "/conversations/{conversation_id}"
START = 1_781_690_000.0


@dataclass(frozen=True)
class SwaggerDeviation:
    """A place where swagger.json disagrees with what Chatwoot's code renders; the code wins."""

    pointer: str  # JSON pointer into swagger.json
    corrected: dict[str, Any]  # the schema used instead
    real_value: Any  # a value Chatwoot really renders there, which the original schema rejects
    reason: str


def _path_pointer(path: str, method: str, status: int) -> str:
    escaped = path.replace("~", "~0").replace("/", "~1")
    return f"/paths/{escaped}/{method}/responses/{status}/content/application~1json/schema"


KNOWN_SWAGGER_DEVIATIONS: list[SwaggerDeviation] = [
    SwaggerDeviation(
        pointer="/components/schemas/conversation/properties/status",
        corrected={"type": "string", "enum": ["open", "resolved", "pending", "snoozed"]},
        real_value="snoozed",
        reason=(
            "Conversation#status is open|resolved|pending|snoozed (app/models/conversation.rb; chatwoot.md 1b "
            "and 1e); the swagger enum leaves out snoozed."
        ),
    ),
    SwaggerDeviation(
        pointer="/components/schemas/conversation/properties/snoozed_until",
        corrected={"type": ["string", "null"], "format": "date-time"},
        real_value="2026-06-17T10:53:20.000Z",
        reason=(
            "_conversation.json.jbuilder renders conversation.snoozed_until as stored (a time), which Rails "
            "serialises as an ISO-8601 string, as in webhooks (chatwoot.md 1b); swagger says number."
        ),
    ),
    SwaggerDeviation(
        pointer=_path_pointer(CONVERSATION + "/assignments", "post", 200),
        corrected={"anyOf": [{"$ref": "#/components/schemas/user"}, {"type": "null"}]},
        real_value=None,
        reason=(
            "An unknown assignee_id silently unassigns and AssignmentsController#render_agent answers "
            "`render json: nil` (chatwoot.md 1d); swagger only allows the user object."
        ),
    ),
]


# ---------------------------------------------------------------- schema plumbing


def _load_document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(SWAGGER.read_text(encoding="utf-8"))
    return document


def _registry(document: dict[str, Any]) -> Registry:
    return Registry().with_resource(DOCUMENT_URI, DRAFT202012.create_resource(document))


def _validator(registry: Registry, pointer: str) -> Draft202012Validator:
    return Draft202012Validator({"$ref": f"{DOCUMENT_URI}#{quote(pointer)}"}, registry=registry)


def _set_pointer(document: dict[str, Any], pointer: str, value: dict[str, Any]) -> None:
    parts = [part.replace("~1", "/").replace("~0", "~") for part in pointer.lstrip("/").split("/")]
    node: Any = document
    for part in parts[:-1]:
        node = node[part]
    assert parts[-1] in node, f"{pointer} no longer exists in swagger.json: drop the deviation"
    node[parts[-1]] = value


@pytest.fixture(scope="module")
def original_registry() -> Registry:
    return _registry(_load_document())


@pytest.fixture(scope="module")
def corrected_registry() -> Registry:
    document = copy.deepcopy(_load_document())
    for deviation in KNOWN_SWAGGER_DEVIATIONS:
        _set_pointer(document, deviation.pointer, deviation.corrected)
    return _registry(document)


def _errors(registry: Registry, pointer: str, instance: Any) -> list[str]:
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in _validator(registry, pointer).iter_errors(instance)
    ]


# ---------------------------------------------------------------- a running simulator


@dataclass
class Installation:
    sim: Simulator
    server: SimulatorServer
    account_id: int
    token: str
    agent_token: str
    agent_id: int
    team_id: int
    inbox_id: int
    contact_id: int


@pytest.fixture(scope="module")
def installation() -> Iterator[Installation]:
    sim = Simulator(seed=21, clock=ManualClock(start=START, tick=0.01))
    account = sim.create_account("Silva & Associados Advocacia")
    assert account.api_token is not None
    ana = sim.create_agent(account.id, "Ana Souza")
    bruno = sim.create_agent(account.id, "Bruno Lima", availability="busy")
    team = sim.create_team(account.id, "Trabalhista", description="Direito do trabalho", members=[ana.id])
    site = sim.create_inbox(account.id, "Chat do Site", "web_widget", members=[ana.id, bruno.id])
    sim.create_inbox(account.id, "E-mail", "email", members=[ana.id])
    whatsapp = sim.create_inbox(account.id, "WhatsApp", "whatsapp", members=[bruno.id])
    contact = sim.create_contact(
        account.id, "Maria da Silva", email="maria@email.example", phone_number="+5511987654321"
    )
    # 1: open, assigned, team, labels, messages of every kind; 2: snoozed; 3: unassigned; 4..: spare.
    sim.create_conversation(account.id, site.id, contact.id, message="Fui demitida sem justa causa.")
    sim.assign(account.id, 1, ana.id)
    sim.assign_team(account.id, 1, team.id)
    sim.set_labels(account.id, 1, ["area:trabalhista", "urgente"])
    sim.set_priority(account.id, 1, "high")
    sim.add_message(account.id, 1, "Pode enviar a carteira de trabalho?", message_type="outgoing")
    sim.add_message(account.id, 1, "Prazo de 2 anos, conferir.", message_type="outgoing", private=True)
    sim.create_conversation(account.id, whatsapp.id, contact.id, message="Meu benefício foi negado.")
    sim.set_status(account.id, 2, "snoozed", snoozed_until=START + 86_400)
    for _ in range(6):
        sim.create_conversation(account.id, site.id, contact.id, message="Olá")
    with serve(simulator=sim) as server:
        yield Installation(
            sim=sim,
            server=server,
            account_id=account.id,
            token=account.api_token,
            agent_token=ana.access_token,
            agent_id=ana.id,
            team_id=team.id,
            inbox_id=site.id,
            contact_id=contact.id,
        )


@dataclass(frozen=True)
class Call:
    """One request as a client makes it, and the documented response it must match."""

    method: str
    path: str  # the swagger path template
    status: int
    url: Callable[[Installation], str]
    body: dict[str, Any] | None = None
    authenticated: bool = True


CALLS: list[Call] = [
    Call("get", ACCOUNT + "/conversations", 200, lambda i: "/conversations?status=all"),
    Call("get", ACCOUNT + "/conversations", 200, lambda i: "/conversations?assignee_type=me&page=1"),
    Call("get", ACCOUNT + "/conversations", 200, lambda i: "/conversations?updated_within=3600&status=all"),
    Call("get", CONVERSATION, 200, lambda i: "/conversations/1"),
    Call("get", CONVERSATION, 200, lambda i: "/conversations/2"),
    Call("get", CONVERSATION, 200, lambda i: "/conversations/3"),
    Call("get", CONVERSATION, 404, lambda i: "/conversations/999"),
    Call(
        "post", CONVERSATION + "/toggle_status", 200, lambda i: "/conversations/4/toggle_status", {"status": "resolved"}
    ),
    Call(
        "post",
        CONVERSATION + "/toggle_status",
        200,
        lambda i: "/conversations/5/toggle_status",
        {"status": "snoozed", "snoozed_until": int(START) + 3600},
    ),
    Call("post", CONVERSATION + "/toggle_status", 401, lambda i: "/conversations/4/toggle_status", {}, False),
    Call("post", CONVERSATION + "/toggle_status", 404, lambda i: "/conversations/999/toggle_status", {}),
    Call("post", CONVERSATION + "/toggle_priority", 401, lambda i: "/conversations/4/toggle_priority", {}, False),
    Call("get", CONVERSATION + "/labels", 200, lambda i: "/conversations/1/labels"),
    Call("post", CONVERSATION + "/labels", 200, lambda i: "/conversations/6/labels", {"labels": ["area:civel"]}),
    Call("post", CONVERSATION + "/assignments", 200, lambda i: "/conversations/7/assignments", {"assignee_id": 2}),
    Call("post", CONVERSATION + "/assignments", 200, lambda i: "/conversations/7/assignments", {"team_id": 1}),
    Call("post", CONVERSATION + "/assignments", 200, lambda i: "/conversations/8/assignments", {"assignee_id": 999}),
    Call("get", CONVERSATION + "/messages", 200, lambda i: "/conversations/1/messages"),
    Call("get", CONVERSATION + "/messages", 200, lambda i: "/conversations/1/messages?after=1"),
    Call("get", CONVERSATION + "/messages", 200, lambda i: "/conversations/3/messages?before=1000"),
    Call("get", ACCOUNT + "/agents", 200, lambda i: "/agents"),
    Call("patch", ACCOUNT + "/agents/{id}", 200, lambda i: "/agents/3", {"role": "agent", "availability": "online"}),
    Call("patch", ACCOUNT + "/agents/{id}", 404, lambda i: "/agents/999", {"role": "agent"}),
    Call("get", ACCOUNT + "/inboxes", 200, lambda i: "/inboxes"),
    Call("get", ACCOUNT + "/inbox_members/{inbox_id}", 200, lambda i: f"/inbox_members/{i.inbox_id}"),
    Call("get", ACCOUNT + "/inbox_members/{inbox_id}", 404, lambda i: "/inbox_members/999"),
    Call("get", ACCOUNT + "/teams", 200, lambda i: "/teams"),
    Call("get", ACCOUNT + "/teams", 401, lambda i: "/teams", None, False),
    Call("get", ACCOUNT + "/teams/{team_id}/team_members", 200, lambda i: f"/teams/{i.team_id}/team_members"),
    Call("get", ACCOUNT + "/contacts/{id}", 200, lambda i: f"/contacts/{i.contact_id}"),
    Call("get", ACCOUNT + "/contacts/{id}", 404, lambda i: "/contacts/999"),
]


def _call_id(call: Call) -> str:
    return f"{call.method.upper()} {call.path.removeprefix(ACCOUNT) or '/'} {call.status}"


@pytest.fixture(scope="module")
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=10) as client:
        yield client


def _request(http: httpx.Client, installation: Installation, call: Call) -> httpx.Response:
    headers = {"api_access_token": installation.token} if call.authenticated else {}
    url = f"{installation.server.url}/api/v1/accounts/{installation.account_id}{call.url(installation)}"
    return http.request(call.method.upper(), url, headers=headers, json=call.body)


@pytest.mark.parametrize("call", CALLS, ids=[_call_id(call) for call in CALLS])
def test_responses_match_chatwoots_openapi_schemas(
    http: httpx.Client, installation: Installation, corrected_registry: Registry, call: Call
) -> None:
    response = _request(http, installation, call)

    assert response.status_code == call.status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert _errors(corrected_registry, _path_pointer(call.path, call.method, call.status), response.json()) == []


def test_toggle_priority_answers_the_documented_empty_200(http: httpx.Client, installation: Installation) -> None:
    # The document gives this 200 no content; Chatwoot answers `head :ok`.
    path = CONVERSATION + "/toggle_priority"
    call = Call("post", path, 200, lambda i: "/conversations/4/toggle_priority", {"priority": "urgent"})

    response = _request(http, installation, call)

    assert response.status_code == 200
    assert response.content == b""
    assert "content" not in _load_document()["paths"][path]["post"]["responses"]["200"]


def test_every_served_route_is_documented_and_exercised() -> None:
    document = _load_document()
    served = RestApi(Simulator()).routes
    exercised = {f"{call.method.upper()} {_normalise(call.path)}" for call in CALLS} | {
        f"POST {_normalise(CONVERSATION + '/toggle_priority')}"
    }

    for route in served:
        method, path = route.split(" ", 1)
        documented = [p for p in document["paths"] if _normalise(p) == _normalise(path)]
        assert documented, f"{route} is not in swagger.json"
        assert method.lower() in document["paths"][documented[0]], f"{route}: method not documented"
        assert f"{method} {_normalise(path)}" in exercised, f"{route} has no contract call"


def _normalise(path: str) -> str:
    # Parameter names differ between the document ({id}) and the simulator ({agent_id}).
    return "/".join("{}" if part.startswith("{") else part for part in path.split("/"))


@pytest.mark.parametrize("deviation", KNOWN_SWAGGER_DEVIATIONS, ids=lambda d: d.pointer.rsplit("/", 4)[-1])
def test_each_known_deviation_is_still_needed_and_fixed_by_its_correction(
    original_registry: Registry, corrected_registry: Registry, deviation: SwaggerDeviation
) -> None:
    assert _errors(original_registry, deviation.pointer, deviation.real_value) != [], (
        f"swagger.json now accepts {deviation.real_value!r} at {deviation.pointer}: remove this deviation"
    )
    assert _errors(corrected_registry, deviation.pointer, deviation.real_value) == []


def test_an_agent_token_sees_only_its_inboxes_in_the_documented_shape(
    http: httpx.Client, installation: Installation, corrected_registry: Registry
) -> None:
    response = http.get(
        f"{installation.server.url}/api/v1/accounts/{installation.account_id}/inboxes",
        headers={"api_access_token": installation.agent_token},
    )

    assert response.status_code == 200
    assert _errors(corrected_registry, _path_pointer(ACCOUNT + "/inboxes", "get", 200), response.json()) == []
    assert {inbox["name"] for inbox in response.json()["payload"]} == {"Chat do Site", "E-mail"}


# ---------------------------------------------------------------- webhook payload shapes

FREE_FORM = {"additional_attributes", "custom_attributes", "content_attributes", "external_source_ids", "sentiment"}


def _shape_differences(example: Any, actual: Any, where: str = "") -> list[str]:
    """Keys (in order) and JSON types that differ; ``null`` on either side matches any type."""
    if example is None or actual is None:
        return []
    if isinstance(example, dict) and isinstance(actual, dict):
        if list(example) != list(actual):
            return [f"{where or '<root>'}: keys {list(actual)} != {list(example)}"]
        differences: list[str] = []
        for key, value in example.items():
            if key not in FREE_FORM:
                differences += _shape_differences(value, actual[key], f"{where}.{key}")
        return differences
    if isinstance(example, list) and isinstance(actual, list):
        if example and actual:
            return _shape_differences(example[0], actual[0], f"{where}[0]")
        return []
    if _json_type(example) != _json_type(actual):
        return [f"{where}: {_json_type(actual)} != {_json_type(example)}"]
    return []


def _json_type(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "float"
    return type(value).__name__


def _example(name: str) -> Any:
    return json.loads((PAYLOADS / name).read_text(encoding="utf-8"))


@pytest.fixture
def webhook_world() -> tuple[Simulator, list[WebhookDelivery]]:
    sim = Simulator(seed=4, clock=ManualClock(start=START, tick=0.37))
    account = sim.create_account("Acme Support")
    agent = sim.create_agent(account.id, "Sam Rivera")
    team = sim.create_team(account.id, "billing", members=[agent.id])
    inbox = sim.create_inbox(account.id, "Website", "web_widget", members=[agent.id])
    contact = sim.create_contact(account.id, "quiet-river-118")
    deliveries: list[WebhookDelivery] = []
    sim.set_webhook(account.id, handler=deliveries.append, secret="s")
    sim.create_conversation(account.id, inbox.id, contact.id, message="Hi, I was charged twice.")
    sim.assign(account.id, 1, agent.id)
    sim.assign_team(account.id, 1, team.id)
    sim.set_labels(account.id, 1, ["billing"])
    sim.set_priority(account.id, 1, "high")
    sim.add_message(account.id, 1, "Refunded!", message_type="outgoing", sender_id=agent.id)
    sim.mark_seen(account.id, 1)
    sim.set_status(account.id, 1, "resolved")
    return sim, deliveries


@pytest.mark.parametrize(
    ("example", "event"),
    [
        ("conversation_created.json", "conversation_created"),
        ("conversation_status_changed.json", "conversation_status_changed"),
        ("message_created_incoming.json", "message_created"),
    ],
)
def test_webhook_payloads_have_the_example_shapes(
    webhook_world: tuple[Simulator, list[WebhookDelivery]], example: str, event: str
) -> None:
    _, deliveries = webhook_world
    if not (PAYLOADS / example).exists():
        pytest.skip(f"example payload {example} is not in {PAYLOADS}")
    delivery = next(d for d in deliveries if d.event == event)

    assert _shape_differences(_example(example), delivery.payload()) == []
