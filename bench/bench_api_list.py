"""``GET …/conversations`` with filters over 100,000 mirrored conversations, through the api handler.

The limit is a primary-key lookup through the same handler in the same run (``GET …/conversations/{id}``:
one conversation by its key). Every listing's query plan is checked for an index (no sequential scan of the
mirror table).
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

from chatwoot_integration.models.conversation import ConversationFilter
from chatwoot_integration.uow import UnitOfWork
from localdev.apigw import LocalLambdaContext, LocalRequest, build_http_event
from localdev.authorizer import issue_token, render_claims

from .harness import BenchContext, Result, load_function, percentile

INTEGRATION = 1  # the first integration of a fresh database
TENANT = "bench"
CONVERSATIONS = 100_000
REQUESTS = 300

FILTERS: dict[str, dict[str, Any]] = {
    "no filter": {},
    "status=open": {"status": "open"},
    "assignee_id": {"assignee_id": 7},
    "unassigned": {"unassigned": "true"},
    "inbox_id": {"inbox_id": 3},
    "team_id": {"team_id": 3},
    "label": {"label": "area:trabalhista"},
    "priority": {"priority": "urgent"},
    "sync_status": {"sync_status": "error"},
    "parte_id": {"parte_id": "parte-42"},
    "updated_since": {"updated_since": "2026-11-01T00:00:00Z"},
    "status+assignee": {"status": "open", "assignee_id": 7},
    "sort=created_at": {"sort": "created_at"},
}

_SEED = f"""
INSERT INTO integracoes_chatwoot (tenant, name, base_url, account_id, credentials)
VALUES ('{TENANT}', 'bench', 'http://127.0.0.1:1', 1, '{{"api_token": "t", "webhook_secret": "s"}}');
INSERT INTO usuarios_chatwoot (integration_id, agent_id, name, availability)
SELECT {INTEGRATION}, g, 'Agente ' || g, 'online' FROM generate_series(1, 40) g;
INSERT INTO conversas_chatwoot (integration_id, conversation_id, inbox_id, contact_id, status, priority, assignee_id,
    team_id, labels, last_activity_at, chatwoot_created_at, chatwoot_updated_at, sync_status, sync_error, parte_id,
    created_at, updated_at)
SELECT {INTEGRATION}, g, 1 + g % 8, 1 + g % 5000,
       (ARRAY['open','resolved','pending','snoozed'])[1 + g % 4],
       (ARRAY[NULL,'low','medium','high','urgent'])[1 + g % 5],
       CASE WHEN g % 3 = 0 THEN NULL ELSE 1 + g % 40 END,
       CASE WHEN g % 2 = 0 THEN 1 + g % 6 END,
       ARRAY[(ARRAY['area:civel','area:trabalhista','area:familia','area:previdenciario','area:tributario'])[1 + g % 5]],
       timestamptz '2026-01-01' + g * interval '2 minutes',
       timestamptz '2026-01-01' + g * interval '2 minutes',
       timestamptz '2026-01-01' + g * interval '2 minutes' + interval '1 second',
       CASE WHEN g % 500 = 0 THEN 'error' ELSE 'synced' END,
       CASE WHEN g % 500 = 0 THEN 'timeout' END,
       CASE WHEN g % 50 = 0 THEN 'parte-' || (g % 100) END,
       timestamptz '2026-01-01' + g * interval '2 minutes',
       timestamptz '2026-01-01' + g * interval '2 minutes'
FROM generate_series(1, {CONVERSATIONS}) g;
ANALYZE;
"""


def _event(path: str, route_key: str, params: dict[str, str], query: dict[str, Any]) -> dict[str, Any]:
    identity = {"sub": "bench", "role": "admin", "tenant": TENANT}
    claims = render_claims(identity)
    token = issue_token("bench-secret-not-verified-by-the-function", subject="bench", role="admin", tenant=TENANT)
    request = LocalRequest(
        method="GET", raw_path=path, raw_query=urlencode(query), headers=[("Authorization", f"Bearer {token}")]
    )
    return build_http_event(request, route_key=route_key, path_parameters=params, claims=claims)


def _measure(handler: Any, event: dict[str, Any], n: int) -> list[float]:
    samples = []
    for _ in range(n):
        started = time.perf_counter()
        response = handler(event, LocalLambdaContext("ApiFunction", timeout_seconds=25, memory_limit_in_mb=512))
        samples.append(time.perf_counter() - started)
        assert response["statusCode"] == 200, response
    return samples


def run(ctx: BenchContext) -> list[Result]:
    results: list[Result] = []
    with ctx.fresh_database("bench_api_list") as database:
        with database.transaction() as conn:
            conn.execute(_SEED.encode())
        api = load_function("api")
        handler = api.lambda_handler

        pk_event = _event(
            f"/integrations/{INTEGRATION}/conversations/54321",
            "GET /integrations/{integration_id}/conversations/{conversation_id}",
            {"integration_id": str(INTEGRATION), "conversation_id": "54321"},
            {},
        )
        _measure(handler, pk_event, 30)  # warm-up
        pk = _measure(handler, pk_event, REQUESTS)
        pk_p99 = percentile(pk, 0.99)
        results.append(Result("api GET conversation by key p99 (limit)", pk_p99 * 1000, "ms"))

        with UnitOfWork(database, read_only=True) as uow:
            repo = uow.conversations
            for name, query in FILTERS.items():
                filters = {k: v for k, v in query.items() if k != "sort"}
                if "unassigned" in filters:
                    filters["unassigned"] = True
                plan = repo.explain_list(
                    INTEGRATION, ConversationFilter(**filters), sort=query.get("sort", "last_activity_at")
                )
                uses_index = "Seq Scan on conversas_chatwoot" not in plan
                results.append(
                    Result(f"list plan [{name}] uses an index", 1.0 if uses_index else 0.0, "bool", ok=uses_index)
                )

        worst = 0.0
        for name, query in FILTERS.items():
            event = _event(
                f"/integrations/{INTEGRATION}/conversations",
                "GET /integrations/{integration_id}/conversations",
                {"integration_id": str(INTEGRATION)},
                {**query, "limit": 25},
            )
            _measure(handler, event, 20)
            samples = _measure(handler, event, REQUESTS)
            p50, p99 = percentile(samples, 0.5), percentile(samples, 0.99)
            worst = max(worst, p99)
            results.append(Result(f"api list [{name}] p50", p50 * 1000, "ms"))
            results.append(
                Result.compared(f"api list [{name}] p99 vs key lookup p99", p99 * 1000, "ms", pk_p99 * 1000, "<= 3")
            )
    return results
