"""Functions and routes read from a SAM template, and the route API Gateway would pick for a request."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from localdev.template_routes import (
    LocalTemplate,
    Route,
    RouteTable,
    TemplateError,
    load_template,
    parse_template,
    read_template,
)

REPO_ROOT = Path(__file__).resolve().parents[3]
FIXTURE_DIR = REPO_ROOT / "tests" / "fixtures" / "localdev"


@pytest.fixture(scope="module")
def fixture_template() -> LocalTemplate:
    return read_template(FIXTURE_DIR / "template.yaml")


def routes_by_key(template: LocalTemplate) -> dict[str, Route]:
    return {route.route_key: route for route in template.routes}


def function_with_events(events: dict[str, Any], **properties: Any) -> dict[str, Any]:
    return {
        "Type": "AWS::Serverless::Function",
        "Properties": {"CodeUri": "fn/", "Handler": "app.handler", "Events": events, **properties},
    }


def http_event(path: Any, method: Any = "GET", **properties: Any) -> dict[str, Any]:
    return {"Type": "HttpApi", "Properties": {"Path": path, "Method": method, **properties}}


def table(*routes: tuple[str, str]) -> RouteTable:
    return RouteTable(
        Route(method, path, f"F{i}", Path("app.py"), "handler", authorized=False)
        for i, (method, path) in enumerate(routes)
    )


def test_short_tags_are_read_as_their_long_forms() -> None:
    document = load_template(FIXTURE_DIR / "template.yaml")

    variables = document["Globals"]["Function"]["Environment"]["Variables"]
    assert variables["STAGE"] == {"Ref": "Stage"}
    assert variables["BUCKET"] == {
        "Fn::If": ["IsProd", {"Fn::Sub": "${AWS::StackName}-prod"}, {"Fn::GetAtt": ["Queue", "Arn"]}]
    }
    assert document["Conditions"]["IsProd"] == {"Fn::Equals": [{"Ref": "Stage"}, "prod"]}


def test_functions_resolve_their_handler_file_and_limits_from_the_function_or_globals(
    fixture_template: LocalTemplate,
) -> None:
    echo = fixture_template.functions["EchoFunction"]
    failing = fixture_template.functions["FailingFunction"]

    assert echo.module_path == FIXTURE_DIR / "echo" / "app.py"
    assert echo.handler_name == "lambda_handler"
    assert (echo.timeout_seconds, echo.memory_mb) == (20, 256)
    assert failing.handler_name == "handler"
    assert failing.timeout_seconds == 10
    assert set(fixture_template.functions) == {
        "EchoFunction",
        "FailingFunction",
        "DatabaseFunction",
        "ScheduledFunction",
    }


def test_routes_come_from_http_api_events_with_the_default_authorizer_unless_none(
    fixture_template: LocalTemplate,
) -> None:
    routes = routes_by_key(fixture_template)

    assert set(routes) == {
        "GET /public/echo",
        "POST /public/echo",
        "GET /items/special",
        "GET /items/{item_id}",
        "ANY /items/{item_id}",
        "GET /files/{proxy+}",
        "POST /private/{item_id}",
        "GET /boom",
        "GET /malformed",
        "GET /integrations/count",
    }
    assert routes["POST /private/{item_id}"].authorized
    assert routes["GET /integrations/count"].authorized
    assert not routes["GET /public/echo"].authorized
    assert routes["GET /boom"].function_id == "FailingFunction"
    assert routes["GET /boom"].module_path == FIXTURE_DIR / "failing" / "app.py"


def test_the_repository_template_serves_every_api_route_behind_the_jwt_authorizer_except_public_ones() -> None:
    template = read_template(REPO_ROOT / "template.yaml")
    routes = routes_by_key(template)

    public = {key for key, route in routes.items() if not route.authorized}
    assert public == {"POST /webhooks/chatwoot/{integration_id}", "GET /health", "GET /openapi.json", "GET /docs"}
    assert routes["GET /integrations/{integration_id}/conversations"].function_id == "ApiFunction"
    assert routes["POST /webhooks/chatwoot/{integration_id}"].function_id == "WebhookFunction"
    assert {"ApiFunction", "WebhookFunction", "ProcessorFunction", "SyncFunction", "MigrateFunction"} <= set(
        template.functions
    )
    for spec in template.functions.values():
        assert spec.module_path.is_file(), spec


def test_an_event_without_api_id_takes_the_implicit_apis_authorizer_from_globals() -> None:
    template = parse_template(
        {
            "Globals": {"HttpApi": {"Auth": {"DefaultAuthorizer": "Jwt"}}},
            "Resources": {"Fn": function_with_events({"A": http_event("/a")})},
        },
        Path("/srv"),
    )

    assert template.routes[0].authorized


def test_an_api_without_a_default_authorizer_leaves_its_routes_public() -> None:
    template = parse_template(
        {
            "Resources": {
                "Api": {"Type": "AWS::Serverless::HttpApi", "Properties": {}},
                "Fn": function_with_events({"A": http_event("/a", ApiId={"Ref": "Api"})}),
            }
        },
        Path("/srv"),
    )

    assert not template.routes[0].authorized


def test_an_event_without_path_and_method_is_the_default_route() -> None:
    template = parse_template({"Resources": {"Fn": function_with_events({"All": {"Type": "HttpApi"}})}}, Path("/srv"))

    assert template.routes[0].route_key == "$default"
    assert template.routes[0].module_path == Path("/srv/fn/app.py")


@pytest.mark.parametrize(
    ("events", "message"),
    [
        ({"A": http_event({"Fn::Sub": "/${Stage}/a"})}, "must be literal"),
        ({"A": http_event("/a", {"Ref": "Method"})}, "must be literal"),
        ({"A": http_event("/a"), "B": http_event("/a", "get")}, "declared twice"),
        ({"A": http_event("/{proxy+}/a")}, "greedy"),
        ({"A": http_event("a")}, "must start with '/'"),
    ],
)
def test_routes_the_runner_cannot_serve_faithfully_are_refused(events: dict[str, Any], message: str) -> None:
    with pytest.raises(TemplateError, match=message):
        parse_template({"Resources": {"Fn": function_with_events(events)}}, Path("/srv"))


def test_a_function_without_a_literal_code_location_is_refused() -> None:
    resource = function_with_events({}, CodeUri={"Bucket": "b", "Key": "k"})

    with pytest.raises(TemplateError, match="CodeUri and Handler"):
        parse_template({"Resources": {"Fn": resource}}, Path("/srv"))


def test_a_timeout_from_a_parameter_falls_back_to_lambdas_default() -> None:
    resource = function_with_events({}, Timeout={"Ref": "Timeout"})

    template = parse_template({"Resources": {"Fn": resource}}, Path("/srv"))

    assert template.functions["Fn"].timeout_seconds == 3


def test_a_literal_segment_wins_over_a_parameter(fixture_template: LocalTemplate) -> None:
    routes = RouteTable(fixture_template.routes)

    special = routes.match("GET", "/items/special")
    item = routes.match("GET", "/items/42")

    assert special is not None
    assert (special.route.route_key, special.path_parameters) == ("GET /items/special", {})
    assert item is not None
    assert (item.route.route_key, item.path_parameters) == ("GET /items/{item_id}", {"item_id": "42"})


def test_an_exact_method_wins_over_any_and_any_takes_the_other_methods(fixture_template: LocalTemplate) -> None:
    routes = RouteTable(fixture_template.routes)

    get = routes.match("get", "/items/7")
    delete = routes.match("DELETE", "/items/7")

    assert get is not None
    assert get.route.route_key == "GET /items/{item_id}"
    assert delete is not None
    assert (delete.route.route_key, delete.path_parameters) == ("ANY /items/{item_id}", {"item_id": "7"})


def test_a_greedy_parameter_takes_the_rest_of_the_path_but_never_nothing(fixture_template: LocalTemplate) -> None:
    routes = RouteTable(fixture_template.routes)

    nested = routes.match("GET", "/files/a/b%20c/d.txt")

    assert nested is not None
    assert nested.path_parameters == {"proxy": "a/b c/d.txt"}
    assert routes.match("GET", "/files/") is None
    assert routes.match("GET", "/files") is None


def test_unknown_paths_methods_and_trailing_slashes_match_nothing(fixture_template: LocalTemplate) -> None:
    routes = RouteTable(fixture_template.routes)

    assert routes.match("GET", "/nowhere") is None
    assert routes.match("DELETE", "/public/echo") is None
    assert routes.match("GET", "/public/echo/") is None
    assert routes.match("GET", "/items/") is None


def test_path_parameters_are_percent_decoded_within_their_segment(fixture_template: LocalTemplate) -> None:
    match = RouteTable(fixture_template.routes).match("GET", "/items/a%2Fb%3F")

    assert match is not None
    assert match.path_parameters == {"item_id": "a/b?"}


def test_specificity_is_compared_from_the_left() -> None:
    routes = table(("GET", "/{x}/b"), ("GET", "/a/{proxy+}"), ("GET", "/{proxy+}"))

    left_literal = routes.match("GET", "/a/b")
    parameter_first = routes.match("GET", "/z/b")
    greedy_only = routes.match("GET", "/z/y/x")

    assert left_literal is not None
    assert left_literal.route.path == "/a/{proxy+}"
    assert parameter_first is not None
    assert parameter_first.route.path == "/{x}/b"
    assert greedy_only is not None
    assert greedy_only.route.path == "/{proxy+}"


def test_the_default_route_catches_what_nothing_else_matched() -> None:
    routes = table(("GET", "/a"), ("ANY", "$default"))

    specific = routes.match("GET", "/a")
    fallback = routes.match("POST", "/a")

    assert specific is not None
    assert specific.route.path == "/a"
    assert fallback is not None
    assert (fallback.route.route_key, fallback.path_parameters) == ("$default", {})
