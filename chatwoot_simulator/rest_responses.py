"""What the REST API answers: the response type, Chatwoot's error bodies, and the faults clients meet.

Controllers and the router build every answer through here, so an error reads the same wherever it is
raised, and an injected fault looks like what really stands in front of Chatwoot (rack-attack, a proxy).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from chatwoot_simulator.faults import InjectedFault

BAD_CREDENTIALS = "Invalid Access Token"
NOT_ALLOWED = "You are not authorized to do this action"


class RestResponse(BaseModel):
    model_config = ConfigDict(frozen=True)

    status: int
    body: bytes = b""
    content_type: str | None = None
    headers: dict[str, str] = {}

    def parsed(self) -> Any:
        return json.loads(self.body)


class HttpError(Exception):
    """Raised by controllers to answer with an error body ``{"error": message}``."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def json_response(status: int, body: Any) -> RestResponse:
    return RestResponse(
        status=status,
        body=json.dumps(body, ensure_ascii=False).encode("utf-8"),
        content_type="application/json; charset=utf-8",
    )


def error_response(status: int, message: str) -> RestResponse:
    return json_response(status, {"error": message})


def fault_response(fault: InjectedFault) -> RestResponse:
    """What a client really meets: rack-attack's plain 429, a proxy's HTML 5xx, a JSON 401."""
    if fault.status == 401:
        return error_response(401, BAD_CREDENTIALS)
    if fault.status == 429:
        return RestResponse(
            status=429,
            body=b"Retry later\n",
            content_type="text/plain",
            headers={"Retry-After": str(fault.retry_after)},
        )
    title = {500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout"}
    text = f"<html><body><h1>{fault.status} {title.get(fault.status, 'Error')}</h1></body></html>"
    return RestResponse(status=fault.status, body=text.encode(), content_type="text/html")
