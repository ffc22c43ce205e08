"""Every error the API returns has one shape: ``{"error": {"code", "message", "details"?}}``.

Domain errors map to HTTP here and nowhere else. Client errors are logged at info level without stack traces;
anything unexpected becomes a 500 with no detail for the caller and the full trace in the logs.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict

from .. import errors
from ..observability import logger


class ErrorDetail(BaseModel):
    model_config = ConfigDict(defer_build=True)

    code: str
    message: str
    details: Any = None


class ErrorBody(BaseModel):
    model_config = ConfigDict(defer_build=True)

    error: ErrorDetail


STATUS_BY_ERROR: dict[type[errors.DomainError], HTTPStatus] = {
    errors.ValidationFailed: HTTPStatus.BAD_REQUEST,
    errors.Unauthorized: HTTPStatus.UNAUTHORIZED,
    errors.Forbidden: HTTPStatus.FORBIDDEN,
    errors.NotFound: HTTPStatus.NOT_FOUND,
    errors.Conflict: HTTPStatus.CONFLICT,
    errors.UnprocessableEntity: HTTPStatus.UNPROCESSABLE_ENTITY,
    errors.UpstreamError: HTTPStatus.BAD_GATEWAY,
    errors.MirrorPending: HTTPStatus.SERVICE_UNAVAILABLE,
}


def error_response(status: int, code: str, message: str, details: Any = None) -> Response[str]:
    body = ErrorBody(error=ErrorDetail(code=code, message=message, details=details))
    return Response(
        status_code=status,
        content_type="application/json",
        body=body.model_dump_json(exclude_none=True),
    )


def status_for(error: errors.DomainError) -> HTTPStatus:
    for cls in type(error).__mro__:
        if cls in STATUS_BY_ERROR:
            return STATUS_BY_ERROR[cls]
    return HTTPStatus.INTERNAL_SERVER_ERROR


def validation_details(exc: RequestValidationError) -> list[dict[str, Any]]:
    """Name the field of each problem (``body.status``, ``query.limit``) without echoing the rejected input."""
    details = []
    for problem in exc.errors():
        location = [str(part) for part in problem.get("loc", ())]
        details.append({"field": ".".join(location) or "request", "problem": problem.get("msg", "invalid")})
    return details


def install(app: APIGatewayHttpResolver) -> None:
    @app.exception_handler(errors.DomainError)
    def domain_error(exc: errors.DomainError) -> Response[str]:
        status = status_for(exc)
        logger.info("request refused", extra={"code": exc.code, "status": int(status)})
        return error_response(status, exc.code, exc.message, exc.details)

    @app.exception_handler(RequestValidationError)
    def invalid_request(exc: RequestValidationError) -> Response[str]:
        details = validation_details(exc)
        body_problem = any(d["field"].startswith("body") for d in details)
        status = HTTPStatus.UNPROCESSABLE_ENTITY if body_problem else HTTPStatus.BAD_REQUEST
        if any(d["field"].startswith("body") and "JSON" in d["problem"] for d in details):
            status = HTTPStatus.BAD_REQUEST
        return error_response(status, "validation_error", "the request is not valid", details)

    @app.exception_handler(ServiceError)
    def service_error(exc: ServiceError) -> Response[str]:
        code = (
            "not_found"
            if isinstance(exc, NotFoundError)
            else HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_")
        )
        return error_response(exc.status_code, code, str(exc.msg))

    @app.not_found
    def no_route(_exc: Exception) -> Response[str]:
        event = app.current_event
        return error_response(HTTPStatus.NOT_FOUND, "not_found", f"no route for {event.http_method} {event.path}")

    @app.exception_handler(Exception)
    def unexpected(exc: Exception) -> Response[str]:
        logger.exception("unexpected error")
        return error_response(HTTPStatus.INTERNAL_SERVER_ERROR, "internal_error", "internal error")
