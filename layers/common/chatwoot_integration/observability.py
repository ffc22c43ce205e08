"""One place for logging, metrics and tracing (Powertools). Secrets and message content are never logged.

Every function's handler is wrapped by ``logger.inject_lambda_context``, ``tracer.capture_lambda_handler`` and,
where it counts something, ``metrics.log_metrics``. The template turns on active tracing for every function
(``Tracing: Active``); inside an invocation :func:`traced` adds a subsegment around each call to Chatwoot and
each database unit of work, so a trace shows where an invocation's time went. Outside Lambda (tests, ``make
run``) Powertools disables the tracer and the subsegments cost next to nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from aws_lambda_powertools import Logger, Metrics, Tracer
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "chatwoot-integration"

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE)
# No automatic patching: the subsegments that matter (Chatwoot, the database) are opened explicitly, and patching
# every library Powertools knows would load them all at cold start.
tracer = Tracer(service=SERVICE, auto_patch=False)


@contextmanager
def traced(name: str) -> Iterator[None]:
    """A subsegment named ``name`` for the duration of the block (nothing when tracing is off)."""
    if tracer.disabled:
        yield
        return
    with tracer.provider.in_subsegment(f"## {name}"):
        yield


__all__ = ["SERVICE", "MetricUnit", "logger", "metrics", "traced", "tracer"]
