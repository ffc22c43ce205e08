"""The run's time budget, and the deadlines the Lambda handler and the API route give it."""

from __future__ import annotations

import pytest

from chatwoot_integration.sync.budget import Budget, DeadlineReached
from chatwoot_integration.sync.deadlines import api_deadline, lambda_deadline
from tests.fake_time import FakeTime


class Context:
    """A Lambda context whose remaining time the test sets."""

    def __init__(self, remaining_ms: int) -> None:
        self.remaining_ms = remaining_ms

    def get_remaining_time_in_millis(self) -> int:
        return self.remaining_ms


def test_without_a_deadline_the_budget_never_runs_out() -> None:
    budget = Budget(lambda: None, FakeTime().monotonic, reserve_seconds=3)

    budget.check()

    assert (budget.remaining(), budget.exhausted()) == (None, False)


def test_another_unit_starts_only_while_more_than_the_reserve_is_left() -> None:
    time = FakeTime(start=100)
    budget = Budget(lambda: 110.0, time.monotonic, reserve_seconds=3)

    budget.check()
    time.advance(6.5)
    assert (budget.remaining(), budget.exhausted()) == (3.5, False)
    time.advance(1)
    with pytest.raises(DeadlineReached):
        budget.check()
    assert budget.remaining() == 2.5


def test_the_deadline_is_read_again_at_every_check() -> None:
    time = FakeTime(start=0)
    deadline = {"at": 100.0}
    budget = Budget(lambda: deadline["at"], time.monotonic, reserve_seconds=3)
    assert not budget.exhausted()

    deadline["at"] = 0.0  # the local runner expires the Lambda context on Ctrl-C

    assert budget.exhausted()


def test_the_lambda_deadline_follows_the_context_remaining_time_minus_a_safety_margin() -> None:
    time = FakeTime(start=50)
    context = Context(remaining_ms=300_000)
    deadline = lambda_deadline(context, safety_seconds=10, clock=time.monotonic)

    assert deadline() == 50 + 300 - 10
    context.remaining_ms = 0
    assert deadline() == 50 - 10


def test_the_api_deadline_stays_under_api_gateway_and_under_the_function_timeout() -> None:
    time = FakeTime(start=0)
    long_function = api_deadline(Context(remaining_ms=120_000), safety_seconds=4, clock=time.monotonic)
    short_function = api_deadline(Context(remaining_ms=25_000), safety_seconds=4, clock=time.monotonic)
    no_context = api_deadline(None, safety_seconds=4, clock=time.monotonic)

    assert (long_function(), short_function(), no_context()) == (26, 21, 26)
