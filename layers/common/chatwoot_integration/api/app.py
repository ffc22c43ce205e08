"""The API resolver: routes of every router, OpenAPI document, Swagger UI, health."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer
from pydantic import BaseModel

from .. import errors as domain_errors
from ..db import get_database
from . import errors, routes
from .auth import authorize_path

TITLE = "Chatwoot integration API"
VERSION = "1.0.0"


class Health(BaseModel):
    status: str
    database: str


def build_app() -> APIGatewayHttpResolver:
    app = APIGatewayHttpResolver(enable_validation=True)
    errors.install(app)
    app.enable_swagger(
        path="/docs",
        title=TITLE,
        version=VERSION,
        description="Conversations, agents, integrations and the change feed of the Chatwoot mirror.",
        security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearerAuth": []}],
    )

    @app.get("/openapi.json", include_in_schema=False)
    def openapi_document() -> Response[str]:
        return Response(
            status_code=200,
            content_type="application/json",
            body=app.get_openapi_json_schema(
                title=TITLE,
                version=VERSION,
                security_schemes={"bearerAuth": HTTPBearer(bearerFormat="JWT")},
                security=[{"bearerAuth": []}],
            ),
        )

    @app.get("/health", summary="Liveness and database reachability", security=[])
    def health() -> Response[Any]:
        database_ok = get_database().ping()
        body = Health(status="ok" if database_ok else "degraded", database="ok" if database_ok else "unavailable")
        return Response(
            status_code=200 if database_ok else 503, content_type="application/json", body=body.model_dump()
        )

    app.include_router(routes.router)
    return app


def handle(app: APIGatewayHttpResolver, event: dict[str, Any], context: Any) -> dict[str, Any]:
    """Authorize by path, then let the resolver validate and route the request."""
    request_context = event.get("requestContext") or {}
    claims = ((request_context.get("authorizer") or {}).get("jwt") or {}).get("claims")
    try:
        authorize_path(event.get("rawPath", ""), claims)
    except domain_errors.DomainError as refused:
        response = errors.error_response(errors.status_for(refused), refused.code, refused.message)
        return {
            "statusCode": response.status_code,
            "headers": {"Content-Type": "application/json"},
            "body": response.body,
            "isBase64Encoded": False,
        }
    return app.resolve(event, context)
