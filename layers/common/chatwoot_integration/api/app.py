"""The API resolver: routes of every router, OpenAPI document, Swagger UI, health."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

import psycopg
from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from pydantic import BaseModel, ConfigDict

from .. import errors as domain_errors
from ..bootstrap import Components
from . import errors, routes
from .auth import authorize_request


class Health(BaseModel):
    model_config = ConfigDict(defer_build=True)

    status: str
    database: str


def build_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    errors.install(app)

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        document = routes.components().docs.openapi(app)
        return Response(status_code=200, content_type="application/json", body=json.dumps(document))

    @app.get("/docs", include_in_schema=False)
    def swagger_ui() -> Response[str]:
        return Response(status_code=200, content_type="text/html", body=routes.components().docs.swagger_page(app))

    @app.get("/health", summary="Liveness and database reachability", security=[], tags=["health"])
    def health() -> Response[Health]:
        database_ok = database_reachable(routes.components())
        body = Health(status="ok" if database_ok else "degraded", database="ok" if database_ok else "unavailable")
        return Response(status_code=200 if database_ok else 503, content_type="application/json", body=body)

    app.include_router(routes.router)
    return app


def database_reachable(components: Components) -> bool:
    try:
        with components.unit_of_work(read_only=True) as uow:
            uow.server.ping()
    except psycopg.Error:
        return False
    return True


def handle(app: APIGatewayHttpResolver, components: Components, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Authorize by path, then let the resolver validate and route the request with the container's graph."""
    request_context = event.get("requestContext") or {}
    claims = ((request_context.get("authorizer") or {}).get("jwt") or {}).get("claims")
    headers = {str(k).lower(): v for k, v in (event.get("headers") or {}).items()}
    try:
        caller = authorize_request(
            event.get("rawPath", ""), claims, headers.get("authorization"), components.integrations.tenant_of
        )
        refuse_nul_characters(event)
    except domain_errors.DomainError as refused:
        response = errors.error_response(errors.status_for(refused), refused.code, refused.message, refused.details)
        return {
            "statusCode": response.status_code,
            "headers": {"Content-Type": "application/json"},
            "body": response.body,
            "isBase64Encoded": False,
        }
    app.append_context(components=components, caller=caller)
    return app.resolve(event, context)


def refuse_nul_characters(event: dict[str, Any]) -> None:
    """PostgreSQL text cannot hold NUL; a request carrying one is refused whole (400) instead of failing later."""
    parts: list[Any] = [event.get("rawPath", ""), unquote(event.get("rawQueryString", ""))]
    body = event.get("body")
    if body and not event.get("isBase64Encoded"):
        try:
            parts.append(json.loads(body))
        except ValueError:
            parts.append(body)
    if any(_contains_nul(part) for part in parts):
        raise domain_errors.ValidationFailed(
            "the request contains a NUL character", details=[{"field": "request", "problem": "NUL character"}]
        )


def _contains_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_contains_nul(k) or _contains_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_contains_nul(v) for v in value)
    return False
