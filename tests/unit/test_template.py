"""The SAM template keeps the deployment promises the code relies on (routes, auth, queues, schedules, roles)."""

from __future__ import annotations

import tomllib
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from localdev.template_routes import load_template

REPO_ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_PATH = REPO_ROOT / "template.yaml"
SAMCONFIG_PATH = REPO_ROOT / "samconfig.toml"

FUNCTIONS = ("WebhookFunction", "ProcessorFunction", "ApiFunction", "SyncFunction", "MigrateFunction")
VPC_FUNCTIONS = ("ProcessorFunction", "ApiFunction", "SyncFunction", "MigrateFunction")

PRIVATE_API_ROUTES = {
    ("GET", "/integrations/{integration_id}/conversations"),
    ("GET", "/integrations/{integration_id}/conversations/{conversation_id}"),
    ("PATCH", "/integrations/{integration_id}/conversations/{conversation_id}"),
    ("DELETE", "/integrations/{integration_id}/conversations/{conversation_id}"),
    ("POST", "/integrations/{integration_id}/conversations/{conversation_id}/sync"),
    ("POST", "/integrations/{integration_id}/conversations/{conversation_id}/assignment"),
    ("GET", "/integrations/{integration_id}/agents"),
    ("GET", "/integrations/{integration_id}/agents/{agent_id}"),
    ("PATCH", "/integrations/{integration_id}/agents/{agent_id}"),
    ("GET", "/integrations/{integration_id}/changes"),
    ("GET", "/changes"),
    ("GET", "/integrations/{integration_id}/deliveries"),
    ("GET", "/integrations"),
    ("POST", "/integrations"),
    ("GET", "/integrations/{integration_id}"),
    ("PATCH", "/integrations/{integration_id}"),
    ("DELETE", "/integrations/{integration_id}"),
    ("POST", "/integrations/{integration_id}/sync"),
}
PUBLIC_API_ROUTES = {("GET", "/health"), ("GET", "/openapi.json"), ("GET", "/docs")}


@cache
def _template() -> dict[str, Any]:
    return load_template(TEMPLATE_PATH)


def _resource(name: str) -> dict[str, Any]:
    resource: dict[str, Any] = _template()["Resources"][name]
    return resource


def _properties(name: str) -> dict[str, Any]:
    properties: dict[str, Any] = _resource(name).get("Properties", {})
    return properties


def _function_setting(function: str, key: str) -> Any:
    """A function property as deployed: its own value, else the Globals value."""
    return _properties(function).get(key, _template()["Globals"]["Function"].get(key))


def _environment(function: str) -> dict[str, Any]:
    variables: dict[str, Any] = dict(_template()["Globals"]["Function"]["Environment"]["Variables"])
    variables.update(_properties(function).get("Environment", {}).get("Variables", {}))
    return variables


def _events(function: str, event_type: str) -> dict[str, dict[str, Any]]:
    events: dict[str, dict[str, Any]] = _properties(function).get("Events", {})
    return {name: event["Properties"] for name, event in events.items() if event["Type"] == event_type}


def _route_authorizers(function: str) -> dict[tuple[str, str], str | None]:
    return {
        (event["Method"], event["Path"]): event.get("Auth", {}).get("Authorizer")
        for event in _events(function, "HttpApi").values()
    }


def _policy_statements(function: str) -> list[dict[str, Any]]:
    policies: list[Any] = _properties(function).get("Policies", [])
    return [
        statement
        for policy in policies
        if isinstance(policy, dict) and "Statement" in policy
        for statement in policy["Statement"]
    ]


def test_every_function_runs_python311_on_x86_64_with_the_common_layer() -> None:
    for function in FUNCTIONS:
        assert _resource(function)["Type"] == "AWS::Serverless::Function"
        assert _function_setting(function, "Runtime") == "python3.11"
        assert _function_setting(function, "Architectures") == ["x86_64"]
        assert _function_setting(function, "Handler") == "app.lambda_handler"
        assert {"Ref": "CommonLayer"} in _function_setting(function, "Layers")
        assert _properties(function)["CodeUri"].rstrip("/") == f"functions/{function.removesuffix('Function').lower()}"


def test_common_layer_is_built_from_the_layer_folder_for_python311() -> None:
    layer = _resource("CommonLayer")

    assert layer["Type"] == "AWS::Serverless::LayerVersion"
    assert layer["Properties"]["ContentUri"] == "layers/common"
    assert layer["Properties"]["CompatibleRuntimes"] == ["python3.11"]
    assert layer["Metadata"]["BuildMethod"] == "python3.11"


def test_api_function_serves_exactly_the_documented_routes() -> None:
    assert set(_route_authorizers("ApiFunction")) == PRIVATE_API_ROUTES | PUBLIC_API_ROUTES


def test_private_api_routes_require_the_jwt_authorizer() -> None:
    auth = _properties("HttpApi")["Auth"]
    authorizers = _route_authorizers("ApiFunction")

    assert auth["DefaultAuthorizer"] == "JwtAuthorizer"
    assert auth["Authorizers"]["JwtAuthorizer"]["IdentitySource"] == "$request.header.Authorization"
    assert auth["Authorizers"]["JwtAuthorizer"]["JwtConfiguration"] == {
        "issuer": {"Ref": "JwtIssuer"},
        "audience": [{"Ref": "JwtAudience"}],
    }
    for route in PRIVATE_API_ROUTES:
        # No Auth on the event means the API's default authorizer applies.
        assert authorizers[route] in (None, "JwtAuthorizer"), route


def test_only_health_and_documentation_routes_are_public() -> None:
    public = {route for route, authorizer in _route_authorizers("ApiFunction").items() if authorizer == "NONE"}

    assert public == PUBLIC_API_ROUTES


def test_webhook_route_is_unauthenticated_post() -> None:
    assert _route_authorizers("WebhookFunction") == {("POST", "/webhooks/chatwoot/{integration_id}"): "NONE"}


def test_every_http_event_has_literal_path_method_and_the_api_id() -> None:
    for function in FUNCTIONS:
        for name, event in _events(function, "HttpApi").items():
            assert isinstance(event["Path"], str), name
            assert event["Path"].startswith("/"), name
            assert event["Method"] in {"GET", "POST", "PATCH", "PUT", "DELETE"}, name
            assert event["ApiId"] == {"Ref": "HttpApi"}, name


def test_http_api_fails_on_warnings_and_keeps_access_logs() -> None:
    api = _properties("HttpApi")
    log_group = _resource("HttpApiAccessLogGroup")

    assert api["FailOnWarnings"] is True
    assert api["AccessLogSettings"]["DestinationArn"] == {"Fn::GetAtt": ["HttpApiAccessLogGroup", "Arn"]}
    assert "RetentionInDays" in log_group["Properties"]


def test_processor_consumes_the_ingest_queue_with_partial_batch_failures() -> None:
    (event,) = _events("ProcessorFunction", "SQS").values()

    assert event["Queue"] == {"Fn::GetAtt": ["IngestQueue", "Arn"]}
    assert event["BatchSize"] == 10
    assert event["FunctionResponseTypes"] == ["ReportBatchItemFailures"]


def test_ingest_queue_visibility_covers_six_processor_timeouts() -> None:
    processor_timeout = _function_setting("ProcessorFunction", "Timeout")

    assert _properties("IngestQueue")["VisibilityTimeout"] >= 6 * processor_timeout


def test_ingest_queue_moves_a_message_to_the_dead_letter_queue_after_five_receives() -> None:
    redrive = _properties("IngestQueue")["RedrivePolicy"]

    assert redrive["deadLetterTargetArn"] == {"Fn::GetAtt": ["IngestDeadLetterQueue", "Arn"]}
    assert redrive["maxReceiveCount"] == 5
    assert _properties("IngestDeadLetterQueue")["MessageRetentionPeriod"] == 14 * 24 * 3600
    for queue in ("IngestQueue", "IngestDeadLetterQueue"):
        assert _properties(queue)["SqsManagedSseEnabled"] is True


def test_dead_letter_alarm_fires_on_the_first_message() -> None:
    alarm = _properties("DeadLetterQueueNotEmptyAlarm")

    assert alarm["MetricName"] == "ApproximateNumberOfMessagesVisible"
    assert alarm["Dimensions"] == [
        {"Name": "QueueName", "Value": {"Fn::GetAtt": ["IngestDeadLetterQueue", "QueueName"]}}
    ]
    assert alarm["ComparisonOperator"] == "GreaterThanThreshold"
    assert alarm["Threshold"] == 0
    assert alarm["AlarmActions"]["Fn::If"][0] == "HasAlarmTopic"


@pytest.mark.parametrize(
    ("event_name", "expression", "payload", "timezone"),
    [
        ("IncrementalSync", "rate(5 minutes)", '{"mode": "incremental"}', None),
        ("NightlyFullSync", "cron(0 3 * * ? *)", '{"mode": "full"}', "America/Sao_Paulo"),
    ],
)
def test_sync_runs_on_its_schedules(event_name: str, expression: str, payload: str, timezone: str | None) -> None:
    schedule = _events("SyncFunction", "ScheduleV2")[event_name]

    assert schedule["ScheduleExpression"] == expression
    assert schedule["Input"] == payload
    assert schedule.get("ScheduleExpressionTimezone") == timezone


def test_sync_has_five_minutes_to_run() -> None:
    assert _function_setting("SyncFunction", "Timeout") == 300


def test_webhook_answers_within_chatwoot_timeout_outside_the_vpc() -> None:
    environment = _environment("WebhookFunction")

    assert _function_setting("WebhookFunction", "Timeout") <= 5
    assert "VpcConfig" not in _properties("WebhookFunction")
    assert not any(name.startswith("DB_") for name in environment)
    assert environment["INGEST_QUEUE_URL"] == {"Ref": "IngestQueue"}
    assert environment["SECRETS_BACKEND"] == "secretsmanager"


@pytest.mark.parametrize("function", VPC_FUNCTIONS)
def test_database_functions_run_in_the_vpc_and_know_the_database(function: str) -> None:
    environment = _environment(function)

    assert _properties(function)["VpcConfig"] == {
        "SubnetIds": {"Ref": "VpcSubnetIds"},
        "SecurityGroupIds": {"Ref": "VpcSecurityGroupIds"},
    }
    assert environment["DB_HOST"] == {"Ref": "DatabaseProxyEndpoint"}
    assert environment["DB_SECRET_ARN"] == {"Ref": "DatabaseSecretArn"}


def test_each_function_gets_a_role_of_its_own() -> None:
    # Without an explicit Role, SAM generates one role per function from its Policies.
    roles = [_properties(function).get("Role", f"{function}Role") for function in FUNCTIONS]

    assert "Role" not in _template()["Globals"]["Function"]
    assert len(set(map(str, roles))) == len(FUNCTIONS)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_inline_policies_name_their_actions(function: str) -> None:
    for statement in _policy_statements(function):
        actions = statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        assert all(action != "*" and not action.endswith(":*") for action in actions), actions
        assert statement["Resource"] != "*"


def test_api_manages_only_secrets_under_the_integration_prefix() -> None:
    (statement,) = _policy_statements("ApiFunction")

    assert "secretsmanager:CreateSecret" in statement["Action"]
    assert "${IntegrationSecretsPrefix}*" in statement["Resource"]["Fn::Sub"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_logs_expire(function: str) -> None:
    log_group_name = _properties(function)["LoggingConfig"]["LogGroup"]["Ref"]
    log_group = _resource(log_group_name)

    assert log_group["Type"] == "AWS::Logs::LogGroup"
    assert log_group["Properties"]["RetentionInDays"] == {"Ref": "LogRetentionInDays"}


def test_every_parameter_is_described() -> None:
    undocumented = [name for name, spec in _template()["Parameters"].items() if not spec.get("Description")]

    assert undocumented == []


def test_outputs_name_the_endpoints_queues_bus_and_functions() -> None:
    expected = {"ApiUrl", "WebhookUrlTemplate", "IngestQueueUrl", "DeadLetterQueueUrl", "ChangeEventsBusName"}
    expected |= {f"{function}Name" for function in FUNCTIONS}

    assert expected <= set(_template()["Outputs"])


def test_migrate_function_ships_the_top_level_sql_directory() -> None:
    assert (REPO_ROOT / "functions" / "migrate" / "sql").resolve() == (REPO_ROOT / "sql").resolve()


@pytest.mark.parametrize(("environment", "stage"), [("default", "dev"), ("staging", "staging"), ("prod", "prod")])
def test_samconfig_environment_deploys_its_own_stage(environment: str, stage: str) -> None:
    config = tomllib.loads(SAMCONFIG_PATH.read_text())
    deploy = config[environment]["deploy"]["parameters"]
    overrides = dict(item.split("=", 1) for item in deploy["parameter_overrides"])

    assert config["version"] == 0.1
    assert config[environment]["global"]["parameters"]["stack_name"] == f"chatwoot-integration-{stage}"
    assert deploy["capabilities"] == "CAPABILITY_IAM"
    assert deploy["resolve_s3"] is True
    assert deploy["confirm_changeset"] is True
    assert config[environment]["build"]["parameters"] == {"cached": True, "parallel": True}
    assert overrides["Stage"] == stage
    assert set(overrides) <= set(_template()["Parameters"])
