"""The error of a body that is not a Chatwoot webhook (no pydantic here: the webhook function imports it)."""

from __future__ import annotations


class InvalidPayload(ValueError):
    """The body is not a webhook Chatwoot could have sent.

    The message names the problem (which check, which fields, which pydantic error types) and never
    includes values from the body, so it is safe to log. ``reason`` is a stable code for metrics:
    ``not_json``, ``not_an_object``, ``missing_event``, ``invalid_event`` or ``invalid_fields``.
    """

    def __init__(self, reason: str, message: str, *, event: str | None = None, problems: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.reason = reason
        self.event = event
        self.problems = problems
