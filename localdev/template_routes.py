"""The functions and HTTP routes declared in the SAM template, and route matching the way API Gateway does it.

template.yaml is the only place routes are declared; the local runner reads it instead of keeping a copy.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import unquote

import yaml

DEFAULT_ROUTE = "$default"
ANY_METHOD = "ANY"
_DEFAULT_TIMEOUT_SECONDS = 3  # Lambda's own defaults when neither the function nor Globals sets them
_DEFAULT_MEMORY_MB = 128


class TemplateError(Exception):
    """The template declares something the local runner cannot serve faithfully."""


class CloudFormationLoader(yaml.SafeLoader):
    """A YAML loader that reads CloudFormation short tags (``!Ref``, ``!Sub``, ``!GetAtt``...) as long forms."""


def _construct_short_tag(loader: CloudFormationLoader, suffix: str, node: yaml.Node) -> dict[str, Any]:
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix in ("Ref", "Condition"):
        return {suffix: value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


CloudFormationLoader.add_multi_constructor("!", _construct_short_tag)


def load_template(path: Path) -> dict[str, Any]:
    with path.open(encoding="utf-8") as stream:
        document = yaml.load(stream, Loader=CloudFormationLoader)  # noqa: S506 - a SafeLoader subclass
    if not isinstance(document, dict):
        raise TemplateError(f"{path} is not a CloudFormation template")
    return document


@dataclass(frozen=True)
class FunctionSpec:
    """One ``AWS::Serverless::Function``: where its handler lives and the limits its context reports."""

    logical_id: str
    module_path: Path
    handler_name: str
    timeout_seconds: int = _DEFAULT_TIMEOUT_SECONDS
    memory_mb: int = _DEFAULT_MEMORY_MB


@dataclass(frozen=True)
class Route:
    """One ``HttpApi`` event: ``method`` is upper case or ``ANY``; ``path`` is a template or ``$default``."""

    method: str
    path: str
    function_id: str
    module_path: Path
    handler_name: str
    authorized: bool

    @property
    def route_key(self) -> str:
        return DEFAULT_ROUTE if self.path == DEFAULT_ROUTE else f"{self.method} {self.path}"


@dataclass(frozen=True)
class LocalTemplate:
    functions: dict[str, FunctionSpec]
    routes: list[Route] = field(default_factory=list)


def read_template(path: Path) -> LocalTemplate:
    """Parse the template at ``path``; code locations are relative to its directory, as in ``sam build``."""
    return parse_template(load_template(path), path.resolve().parent)


def parse_template(template: Mapping[str, Any], base_dir: Path) -> LocalTemplate:
    resources: Mapping[str, Any] = template.get("Resources") or {}
    global_sections: Mapping[str, Any] = template.get("Globals") or {}
    function_defaults: Mapping[str, Any] = global_sections.get("Function") or {}
    default_api_auth: Mapping[str, Any] = (global_sections.get("HttpApi") or {}).get("Auth") or {}

    functions: dict[str, FunctionSpec] = {}
    routes: list[Route] = []
    for logical_id, resource in resources.items():
        if not isinstance(resource, Mapping) or resource.get("Type") != "AWS::Serverless::Function":
            continue
        properties: Mapping[str, Any] = resource.get("Properties") or {}
        spec = _function_spec(logical_id, properties, function_defaults, base_dir)
        functions[logical_id] = spec
        for event_id, event in (properties.get("Events") or {}).items():
            if isinstance(event, Mapping) and event.get("Type") == "HttpApi":
                props: Mapping[str, Any] = event.get("Properties") or {}
                routes.append(_route(spec, f"{logical_id}.{event_id}", props, resources, default_api_auth))
    _refuse_duplicates(routes)
    return LocalTemplate(functions=functions, routes=routes)


def _function_spec(
    logical_id: str, properties: Mapping[str, Any], defaults: Mapping[str, Any], base_dir: Path
) -> FunctionSpec:
    code_uri = properties.get("CodeUri", defaults.get("CodeUri"))
    handler = properties.get("Handler", defaults.get("Handler"))
    if not isinstance(code_uri, str) or not isinstance(handler, str) or "." not in handler:
        raise TemplateError(f"{logical_id}: CodeUri and Handler must be literal, e.g. functions/x/ and app.handler")
    module_name, handler_name = handler.rsplit(".", 1)
    module_path = (base_dir / code_uri / (module_name.replace(".", "/") + ".py")).resolve()
    return FunctionSpec(
        logical_id=logical_id,
        module_path=module_path,
        handler_name=handler_name,
        timeout_seconds=_literal_int(properties, defaults, "Timeout", _DEFAULT_TIMEOUT_SECONDS),
        memory_mb=_literal_int(properties, defaults, "MemorySize", _DEFAULT_MEMORY_MB),
    )


def _literal_int(properties: Mapping[str, Any], defaults: Mapping[str, Any], name: str, fallback: int) -> int:
    value = properties.get(name, defaults.get(name, fallback))
    # A value computed by an intrinsic (a parameter, a mapping) is unknown locally: Lambda's default stands in.
    return int(value) if isinstance(value, int | str) and str(value).isdigit() else fallback


def _route(
    spec: FunctionSpec,
    event_name: str,
    props: Mapping[str, Any],
    resources: Mapping[str, Any],
    default_api_auth: Mapping[str, Any],
) -> Route:
    path = props.get("Path", DEFAULT_ROUTE)
    method = props.get("Method", ANY_METHOD)
    if not isinstance(path, str) or not isinstance(method, str):
        raise TemplateError(f"{event_name}: Path and Method must be literal strings")
    if path != DEFAULT_ROUTE:
        _check_path(event_name, path)
    return Route(
        method=method.upper(),
        path=path,
        function_id=spec.logical_id,
        module_path=spec.module_path,
        handler_name=spec.handler_name,
        authorized=_is_authorized(props, resources, default_api_auth),
    )


def _check_path(event_name: str, path: str) -> None:
    if not path.startswith("/"):
        raise TemplateError(f"{event_name}: Path must start with '/': {path}")
    segments = _segments(path)
    for position, segment in enumerate(segments):
        if segment.startswith("{") and segment.endswith("+}") and position != len(segments) - 1:
            raise TemplateError(f"{event_name}: a greedy parameter must be the last segment: {path}")


def _is_authorized(props: Mapping[str, Any], resources: Mapping[str, Any], default_api_auth: Mapping[str, Any]) -> bool:
    """As SAM wires it: an explicit ``Authorizer`` wins, else the API's ``DefaultAuthorizer`` applies."""
    named = (props.get("Auth") or {}).get("Authorizer")
    if named is not None:
        return named != "NONE"
    api_auth = default_api_auth
    api_id = props.get("ApiId")
    if isinstance(api_id, Mapping) and isinstance(api_id.get("Ref"), str):
        api = resources.get(api_id["Ref"]) or {}
        api_auth = (api.get("Properties") or {}).get("Auth") or {}
    return bool(api_auth.get("DefaultAuthorizer"))


def _refuse_duplicates(routes: Iterable[Route]) -> None:
    seen: set[str] = set()
    for route in routes:
        if route.route_key in seen:
            raise TemplateError(f"route declared twice: {route.route_key}")
        seen.add(route.route_key)


def _segments(path: str) -> list[str]:
    return path[1:].split("/")


@dataclass(frozen=True)
class RouteMatch:
    route: Route
    path_parameters: dict[str, str]


@dataclass(frozen=True)
class _CompiledRoute:
    route: Route
    segments: tuple[str, ...]


class RouteTable:
    """Chooses the route API Gateway would: most specific path first, then an exact method over ``ANY``.

    Specificity is compared segment by segment from the left: a literal beats ``{param}``, which beats
    ``{proxy+}``. ``$default`` catches whatever nothing else matched.
    """

    _LITERAL, _PARAMETER, _GREEDY = 2, 1, 0

    def __init__(self, routes: Iterable[Route]) -> None:
        self._routes: list[_CompiledRoute] = []
        self._default: Route | None = None
        for route in routes:
            if route.path == DEFAULT_ROUTE:
                self._default = route
            else:
                self._routes.append(_CompiledRoute(route, tuple(_segments(route.path))))

    def match(self, method: str, raw_path: str) -> RouteMatch | None:
        method = method.upper()
        request_segments = _segments(raw_path) if raw_path.startswith("/") else [raw_path]
        best: tuple[tuple[int, ...], int, RouteMatch] | None = None
        for compiled in self._routes:
            if compiled.route.method not in (method, ANY_METHOD):
                continue
            matched = self._match_path(compiled.segments, request_segments)
            if matched is None:
                continue
            specificity, parameters = matched
            exact_method = int(compiled.route.method == method)
            if best is None or (specificity, exact_method) > best[:2]:
                best = (specificity, exact_method, RouteMatch(compiled.route, parameters))
        if best is not None:
            return best[2]
        if self._default is not None:
            return RouteMatch(self._default, {})
        return None

    def _match_path(
        self, pattern: tuple[str, ...], request: list[str]
    ) -> tuple[tuple[int, ...], dict[str, str]] | None:
        """Per-segment specificity and the path parameters, or None when ``request`` does not fit."""
        greedy = bool(pattern) and pattern[-1].startswith("{") and pattern[-1].endswith("+}")
        fixed = pattern[:-1] if greedy else pattern
        rest = request[len(fixed) :]
        if greedy and rest in ([], [""]):
            return None  # a greedy parameter needs at least one segment
        if len(request) < len(fixed) or (not greedy and rest):
            return None
        specificity: list[int] = []
        parameters: dict[str, str] = {}
        for segment, value in zip(fixed, request, strict=False):
            if segment.startswith("{") and segment.endswith("}"):
                if value == "":
                    return None
                parameters[segment[1:-1]] = unquote(value)
                specificity.append(self._PARAMETER)
            elif unquote(value) == segment:
                specificity.append(self._LITERAL)
            else:
                return None
        if greedy:
            parameters[pattern[-1][1:-2]] = unquote("/".join(rest))
            specificity.append(self._GREEDY)
        return tuple(specificity), parameters
