"""Chatwoot's account REST API (chatwoot.md 1d), independent of the HTTP server that carries it.

:meth:`RestApi.handle` takes a method, a request target, headers and a body and returns a
:class:`RestResponse`: injected faults first, then authentication by the ``api_access_token`` header,
then the route. The controllers live in :mod:`chatwoot_simulator.rest_conversations` and
:mod:`chatwoot_simulator.rest_directory`; they parse and check input, call the simulator, and render with
:mod:`chatwoot_simulator.presenters`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from pydantic import ValidationError

from chatwoot_simulator import rest_conversations as conversations
from chatwoot_simulator import rest_directory as directory
from chatwoot_simulator.counters import UNMATCHED_ROUTE
from chatwoot_simulator.rest_context import Controller, RequestContext
from chatwoot_simulator.rest_responses import (
    BAD_CREDENTIALS,
    HttpError,
    RestResponse,
    error_response,
    fault_response,
)
from chatwoot_simulator.simulator import Simulator
from chatwoot_simulator.state import Agent, InvalidValueError, NotFoundError

JSON = dict[str, Any]
_SIGN_IN_REQUIRED = "You need to sign in or sign up before continuing."
_NOT_IN_ACCOUNT = "You are not authorized to access this account"
_NOT_FOUND = "Resource could not be found"


@dataclass(frozen=True)
class Route:
    method: str
    template: str
    controller: Controller
    pattern: re.Pattern[str] = field(init=False)

    def __post_init__(self) -> None:
        regex = re.sub(r"\{(\w+)\}", r"(?P<\1>\\d+)", self.template)
        object.__setattr__(self, "pattern", re.compile(f"^{regex}$"))

    @property
    def name(self) -> str:
        return f"{self.method} {self.template}"


class RestApi:
    """Routes requests to controllers; counts every request in ``sim.requests``."""

    def __init__(self, sim: Simulator) -> None:
        self._sim = sim
        prefix = "/api/v1/accounts/{account_id}"
        conversation = prefix + "/conversations/{conversation_id}"
        self._routes = [
            Route("GET", prefix + "/conversations", conversations.list_conversations),
            Route("GET", conversation, conversations.show_conversation),
            Route("POST", conversation + "/toggle_status", conversations.toggle_status),
            Route("POST", conversation + "/toggle_priority", conversations.toggle_priority),
            Route("GET", conversation + "/labels", conversations.list_labels),
            Route("POST", conversation + "/labels", conversations.replace_labels),
            Route("POST", conversation + "/assignments", conversations.create_assignment),
            Route("GET", conversation + "/messages", conversations.list_messages),
            Route("GET", prefix + "/agents", directory.list_agents),
            Route("PATCH", prefix + "/agents/{agent_id}", directory.update_agent),
            Route("GET", prefix + "/inboxes", directory.list_inboxes),
            Route("GET", prefix + "/inbox_members/{inbox_id}", directory.list_inbox_members),
            Route("GET", prefix + "/teams", directory.list_teams),
            Route("GET", prefix + "/teams/{team_id}/team_members", directory.list_team_members),
            Route("GET", prefix + "/contacts/{contact_id}", directory.show_contact),
        ]

    @property
    def routes(self) -> list[str]:
        return [route.name for route in self._routes]

    def handle(self, method: str, target: str, headers: Mapping[str, str], body: bytes) -> RestResponse:
        split = urlsplit(target)
        # Rails squeezes repeated slashes and ignores a trailing one.
        path = re.sub("/{2,}", "/", split.path).rstrip("/") or "/"
        route, path_params = self._match(method.upper(), path)
        route_name = route.name if route else UNMATCHED_ROUTE
        fault = self._sim.faults.apply()
        if fault is not None:
            response = fault_response(fault)
        elif route is None:
            response = error_response(404, "Not Found")
        else:
            response = self._dispatch(route, path_params, parse_qs(split.query), headers, body)
        self._sim.requests.record(route_name, response.status)
        return response

    def _match(self, method: str, path: str) -> tuple[Route | None, dict[str, int]]:
        for route in self._routes:
            if route.method == method and (found := route.pattern.match(path)):
                return route, {key: int(value) for key, value in found.groupdict().items()}
        return None, {}

    def _dispatch(
        self,
        route: Route,
        path: dict[str, int],
        query: dict[str, list[str]],
        headers: Mapping[str, str],
        body: bytes,
    ) -> RestResponse:
        try:
            viewer = self._authenticate(headers, path["account_id"])
            context = RequestContext(
                sim=self._sim,
                account_id=path["account_id"],
                viewer=viewer,
                path=path,
                query=query,
                body=_parse_body(body),
            )
            return route.controller(context)
        except HttpError as error:
            return error_response(error.status, error.message)
        except NotFoundError:
            return error_response(404, _NOT_FOUND)
        except (InvalidValueError, ValidationError) as error:
            return error_response(422, _first_line(error))

    def _authenticate(self, headers: Mapping[str, str], account_id: int) -> Agent:
        token = _header(headers, "api_access_token")
        if not token:
            raise HttpError(401, _SIGN_IN_REQUIRED)
        viewer = self._sim.authenticate(token)
        if viewer is None:
            raise HttpError(401, BAD_CREDENTIALS)
        self._sim.get_account(account_id)
        if viewer.account_id != account_id:
            raise HttpError(401, _NOT_IN_ACCOUNT)
        return viewer


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None:
        lowered = {key.lower(): item for key, item in headers.items()}
        value = lowered.get(name.lower())
    return value


def _parse_body(body: bytes) -> JSON:
    if not body.strip():
        return {}
    try:
        parsed = json.loads(body)
    except ValueError:
        raise HttpError(400, "Invalid JSON body") from None
    if not isinstance(parsed, dict):
        raise HttpError(400, "The JSON body must be an object")
    return parsed


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0] if str(error) else type(error).__name__
