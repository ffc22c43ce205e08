"""One place for logging, metrics and tracing (Powertools). Secrets and message content are never logged."""

from __future__ import annotations

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.metrics import MetricUnit

SERVICE = "chatwoot-integration"

logger = Logger(service=SERVICE)
metrics = Metrics(service=SERVICE)

__all__ = ["SERVICE", "MetricUnit", "logger", "metrics"]
