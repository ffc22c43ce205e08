"""Handlers loaded from their files once, and invoked one at a time on a worker thread per function."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.invoke import FunctionInvoker, HandlerLoader, HandlerLoadError
from localdev.template_routes import FunctionSpec, LocalTemplate, read_template

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "localdev"


@pytest.fixture(scope="module")
def template() -> LocalTemplate:
    return read_template(FIXTURE_DIR / "template.yaml")


@pytest.fixture
def invoker(template: LocalTemplate) -> Iterator[FunctionInvoker]:
    invoker = FunctionInvoker(template.functions)
    yield invoker
    invoker.close()


def echoed(result: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(result["body"])
    return body


def test_a_handler_file_is_imported_once_under_a_name_of_its_own(template: LocalTemplate) -> None:
    echo = template.functions["EchoFunction"]
    failing = template.functions["FailingFunction"]

    first = HandlerLoader().load(echo)
    second = HandlerLoader().load(echo)
    other = HandlerLoader().load(failing)

    assert first is second
    assert first is not other
    assert sys.modules[HandlerLoader.module_name(echo)].lambda_handler is first
    assert HandlerLoader.module_name(echo) != HandlerLoader.module_name(failing)
    assert "app" not in {HandlerLoader.module_name(echo), HandlerLoader.module_name(failing)}


def test_a_missing_handler_file_or_function_is_reported(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("value = 1\n")

    with pytest.raises(HandlerLoadError, match="handler file not found"):
        HandlerLoader().load(FunctionSpec("Gone", tmp_path / "missing.py", "lambda_handler"))
    with pytest.raises(HandlerLoadError, match="has no function lambda_handler"):
        HandlerLoader().load(FunctionSpec("NoHandler", tmp_path / "app.py", "lambda_handler"))


def test_a_module_that_fails_to_initialise_is_retried_on_the_next_load(tmp_path: Path) -> None:
    module_path = tmp_path / "app.py"
    module_path.write_text("raise RuntimeError('not yet')\n")
    spec = FunctionSpec("Flaky", module_path, "lambda_handler")

    with pytest.raises(RuntimeError, match="not yet"):
        HandlerLoader().load(spec)
    module_path.write_text("def lambda_handler(event, context):\n    return 'ready'\n")

    assert HandlerLoader().load(spec)({}, None) == "ready"


def test_the_handler_gets_a_context_with_the_functions_limits(invoker: FunctionInvoker) -> None:
    context = echoed(invoker.invoke("EchoFunction", {}))["context"]

    assert context["function_name"] == "EchoFunction"
    assert context["memory_limit_in_mb"] == 256
    assert context["invoked_function_arn"].endswith(":function:EchoFunction")
    assert 0 < context["remaining_ms"] <= 20_000


def test_every_invocation_of_a_function_runs_on_that_functions_one_thread(invoker: FunctionInvoker) -> None:
    first = echoed(invoker.invoke("EchoFunction", {}))["thread"]
    second = echoed(invoker.invoke("EchoFunction", {}))["thread"]
    scheduled = echoed(invoker.invoke("ScheduledFunction", {}))["thread"]

    assert first == second
    assert first.startswith("fn-EchoFunction")
    assert scheduled.startswith("fn-ScheduledFunction")


def test_what_the_handler_raises_reaches_the_caller(invoker: FunctionInvoker) -> None:
    with pytest.raises(RuntimeError, match="hunter2"):
        invoker.invoke("FailingFunction", {"rawPath": "/boom"})


def test_an_unknown_function_is_reported(invoker: FunctionInvoker) -> None:
    with pytest.raises(HandlerLoadError, match="no function Nope"):
        invoker.invoke("Nope", {})


def test_a_closed_invoker_refuses_new_invocations(invoker: FunctionInvoker) -> None:
    invoker.close()

    with pytest.raises(RuntimeError, match="closed"):
        invoker.invoke("EchoFunction", {})
