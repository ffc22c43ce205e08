"""The scheduled sync: invoked at start and then on its interval, with the scheduler's event; stops cleanly."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from localdev.apigw import LocalLambdaContext
from localdev.invoke import FunctionInvoker
from localdev.run import SyncScheduler
from localdev.template_routes import read_template

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "localdev"
WAIT = 10  # generous bound for a background thread to get going; never a performance assertion


class RecordingInvoker(FunctionInvoker):
    """The real invoker, noting what it was asked to run."""

    def __init__(self, calls_wanted: int = 1) -> None:
        super().__init__(read_template(FIXTURE_DIR / "template.yaml").functions)
        self.calls: list[tuple[str, Any, LocalLambdaContext | None]] = []
        self.results: list[Any] = []
        self._calls_wanted = calls_wanted
        self.enough = threading.Event()

    def invoke(self, function_id: str, event: Any, context: LocalLambdaContext | None = None) -> Any:
        self.calls.append((function_id, event, context))
        try:
            result = super().invoke(function_id, event, context)
            self.results.append(result)
            return result
        finally:
            if len(self.calls) >= self._calls_wanted:
                self.enough.set()


@pytest.fixture
def invoker() -> Iterator[RecordingInvoker]:
    invoker = RecordingInvoker(calls_wanted=2)
    yield invoker
    invoker.close()


def test_the_sync_runs_at_start_and_again_every_interval_with_the_incremental_event(
    invoker: RecordingInvoker,
) -> None:
    scheduler = SyncScheduler(invoker, 0.01, function_id="ScheduledFunction")

    scheduler.start()
    ran_twice = invoker.enough.wait(WAIT)
    scheduler.stop()

    assert ran_twice
    assert not scheduler.is_running
    function_id, event, context = invoker.calls[0]
    assert (function_id, event) == ("ScheduledFunction", {"mode": "incremental"})
    assert context is not None
    assert context.function_name == "ScheduledFunction"
    assert invoker.results[0]["statusCode"] == 201


def test_a_long_interval_runs_once_and_stop_does_not_wait_for_the_next_run() -> None:
    invoker = RecordingInvoker(calls_wanted=1)
    scheduler = SyncScheduler(invoker, 3600, function_id="ScheduledFunction")

    scheduler.start()
    ran = invoker.enough.wait(WAIT)
    scheduler.stop(timeout=WAIT)
    invoker.close()

    assert ran
    assert not scheduler.is_running
    assert len(invoker.calls) == 1


class BlockingInvoker(FunctionInvoker):
    """A sync that runs until its remaining time is gone, as the real one winds down near its timeout."""

    def __init__(self) -> None:
        super().__init__(read_template(FIXTURE_DIR / "template.yaml").functions)
        self.started = threading.Event()
        self.remaining_at_end: int | None = None

    def invoke(self, function_id: str, event: Any, context: LocalLambdaContext | None = None) -> Any:
        assert context is not None
        self.started.set()
        while context.get_remaining_time_in_millis() > 0:
            threading.Event().wait(0.01)
        self.remaining_at_end = context.get_remaining_time_in_millis()
        return None


def test_stopping_expires_the_running_syncs_remaining_time() -> None:
    invoker = BlockingInvoker()
    scheduler = SyncScheduler(invoker, 3600, function_id="ScheduledFunction")

    scheduler.start()
    assert invoker.started.wait(WAIT)
    scheduler.stop(timeout=WAIT)
    invoker.close()

    assert invoker.remaining_at_end == 0


def test_a_failing_sync_is_logged_and_the_schedule_goes_on(caplog: pytest.LogCaptureFixture) -> None:
    invoker = RecordingInvoker(calls_wanted=2)
    scheduler = SyncScheduler(invoker, 0.01, function_id="FailingFunction", event={"rawPath": "/boom"})

    scheduler.start()
    ran_twice = invoker.enough.wait(WAIT)
    scheduler.stop()
    invoker.close()

    assert ran_twice
    assert "scheduled sync failed" in caplog.text
