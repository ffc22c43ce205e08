"""Sending one request to Chatwoot: attempts, backoff, time budget, error classification, logging.

Reads and idempotent writes retry freely (on 500 too). A non-idempotent write is only retried here when Chatwoot
certainly did not process it (429, 503, connect failures); when it may have (read timeout, dropped
connection, 502/504) ``AmbiguousWrite`` is raised so the caller can look before re-sending.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import httpx

from chatwoot_integration.chatwoot.egress import EgressRefused
from chatwoot_integration.chatwoot.errors import (
    ChatwootAuthError,
    ChatwootBudgetExceeded,
    ChatwootClientError,
    ChatwootEgressRefused,
    ChatwootError,
    ChatwootInvalidResponse,
    ChatwootNotFound,
    ChatwootRateLimited,
    ChatwootServerError,
    ChatwootUnavailable,
)
from chatwoot_integration.chatwoot.http import DEFAULT_CONNECT_TIMEOUT, DEFAULT_READ_TIMEOUT
from chatwoot_integration.chatwoot.retry import RetryPolicy, backoff_delay, parse_retry_after
from chatwoot_integration.observability import traced

logger = logging.getLogger(__name__)

_MAX_DETAIL_CHARS = 200

T = TypeVar("T")

# The request never reached Chatwoot: re-sending cannot apply a change twice.
_NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
# The request may have reached Chatwoot and been applied; only the answer was lost.
_MAYBE_APPLIED_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
)
# A gateway answered for Chatwoot, which may have applied the request behind it.
_MAYBE_APPLIED_STATUSES = frozenset({502, 504})


QueryParams = list[tuple[str, str | int | float | bool | None]]


@dataclass(frozen=True)
class ApiRequest:
    method: str
    path: str
    params: QueryParams | None = None
    body: dict[str, Any] | None = None
    # Re-sending is harmless: reads, and PATCHes that set an absolute value.
    idempotent: bool = True


@dataclass(frozen=True)
class Failure:
    error: ChatwootError
    retryable: bool
    maybe_applied: bool = False
    retry_after: float | None = None


@dataclass
class Call:
    """One logical call: the attempts made so far and the clock reading its time budget counts from."""

    started: float
    attempts: int = 0
    last_failure: Failure | None = None


class AmbiguousWrite(Exception):
    """A non-idempotent request failed in a way that may still have applied it."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.error.message)
        self.failure = failure


@dataclass(frozen=True)
class Timing:
    """Time sources and limits, injectable so tests never sleep."""

    policy: RetryPolicy
    sleep: Callable[[float], None]
    clock: Callable[[], float]
    deadline: Callable[[], float | None] | None
    jitter: Callable[[], float]
    wall_clock: Callable[[], datetime]
    connect_timeout: float = DEFAULT_CONNECT_TIMEOUT
    read_timeout: float = DEFAULT_READ_TIMEOUT


class Transport:
    """Sends requests for one account with its token, within the retry policy and the deadline."""

    def __init__(self, base_url: str, api_token: str, http: httpx.Client, timing: Timing) -> None:
        self._base_url = base_url.rstrip("/")
        self._token = api_token
        self._headers = {"api_access_token": api_token, "Accept": "application/json"}
        self._http = http
        self._timing = timing

    def __repr__(self) -> str:
        return f"Transport(base_url={self._base_url!r})"

    @property
    def policy(self) -> RetryPolicy:
        return self._timing.policy

    def now(self) -> float:
        return self._timing.clock()

    def start_call(self) -> Call:
        return Call(started=self._timing.clock())

    def send(self, call: Call, request: ApiRequest) -> httpx.Response:
        """Send until success, a final failure, or the budget runs out; ``call`` keeps counting attempts."""
        while True:
            timeout = self._attempt_timeout(call, request)
            call.attempts += 1
            outcome = self._attempt(call, request, timeout)
            if isinstance(outcome, httpx.Response):
                return outcome
            call.last_failure = outcome
            if not outcome.retryable:
                raise outcome.error
            if outcome.maybe_applied and not request.idempotent:
                raise AmbiguousWrite(outcome)
            if call.attempts >= self.policy.max_attempts:
                raise outcome.error
            self._back_off(call, request, outcome)

    def pause_before_reread(self, call: Call) -> None:
        """Give Chatwoot a moment to finish a request whose answer was lost, if the budget allows it."""
        delay = backoff_delay(self.policy, call.attempts, self._timing.jitter())
        if self._timing.clock() + delay + self.policy.min_attempt_time <= self._end_of(call):
            self._timing.sleep(delay)

    def redact(self, text: str) -> str:
        """Defence in depth: Chatwoot or a proxy could echo request headers back in an error body."""
        return text.replace(self._token, "[redacted]")

    def _attempt(self, call: Call, request: ApiRequest, timeout: httpx.Timeout) -> httpx.Response | Failure:
        started = self._timing.clock()
        try:
            with traced(f"chatwoot {request.method}"):
                response = self._http.request(
                    request.method,
                    self._base_url + request.path,
                    params=request.params,
                    json=request.body,
                    headers=self._headers,
                    timeout=timeout,
                )
        except httpx.TransportError as exc:
            failure = self._transport_failure(request, exc)
            self._log_attempt(request, call, started, None, failure)
            return failure
        except EgressRefused as refused:
            error = ChatwootEgressRefused(
                f"{request.method} {request.path}: not sent: {refused}", method=request.method, path=request.path
            )
            failure = Failure(error, retryable=False)
            self._log_attempt(request, call, started, None, failure)
            return failure
        if response.is_success:
            self._log_attempt(request, call, started, response.status_code, None)
            return response
        failure = self._status_failure(request, response)
        self._log_attempt(request, call, started, response.status_code, failure)
        return failure

    def _end_of(self, call: Call) -> float:
        end = call.started + self.policy.total_budget
        deadline = self._timing.deadline() if self._timing.deadline is not None else None
        return end if deadline is None else min(end, deadline)

    def _attempt_timeout(self, call: Call, request: ApiRequest) -> httpx.Timeout:
        """Timeouts for the next attempt, shrunk so it cannot outlive the budget or the deadline."""
        remaining = self._end_of(call) - self._timing.clock()
        if remaining <= 0 or remaining < self.policy.min_attempt_time:
            raise self._budget_exceeded(call, request) from _last_error(call)
        connect = min(self._timing.connect_timeout, remaining)
        read = min(self._timing.read_timeout, remaining)
        return httpx.Timeout(connect=connect, read=read, write=read, pool=connect)

    def _back_off(self, call: Call, request: ApiRequest, failure: Failure) -> None:
        if failure.retry_after is not None:
            delay = failure.retry_after
        else:
            delay = backoff_delay(self.policy, call.attempts, self._timing.jitter())
        if self._timing.clock() + delay + self.policy.min_attempt_time > self._end_of(call):
            raise self._budget_exceeded(call, request) from _last_error(call)
        self._timing.sleep(delay)

    def _budget_exceeded(self, call: Call, request: ApiRequest) -> ChatwootBudgetExceeded:
        last = _last_error(call)
        suffix = f"; last error: {last.message}" if last is not None else ""
        return ChatwootBudgetExceeded(
            f"{request.method} {request.path}: time budget or deadline reached after "
            f"{call.attempts} attempt(s){suffix}",
            status_code=last.status_code if last is not None else None,
            method=request.method,
            path=request.path,
        )

    def _transport_failure(self, request: ApiRequest, exc: httpx.TransportError) -> Failure:
        # A protocol error's text quotes bytes the server sent (a status line of its choosing): only its kind.
        said = "" if isinstance(exc, httpx.ProtocolError | httpx.ProxyError) else f": {exc}"
        message = self.redact(f"{request.method} {request.path}: {type(exc).__name__}{said}")
        error = ChatwootUnavailable(message, method=request.method, path=request.path)
        if isinstance(exc, _NOT_SENT_ERRORS):
            return Failure(error, retryable=True)
        if isinstance(exc, _MAYBE_APPLIED_ERRORS):
            return Failure(error, retryable=True, maybe_applied=True)
        return Failure(error, retryable=False)

    def _status_failure(self, request: ApiRequest, response: httpx.Response) -> Failure:
        status = response.status_code
        # A 500 is often a passing fault of one Chatwoot worker: reads (and absolute writes) try again; a write
        # that may have half-happened is not re-sent blindly.
        retryable = status in self.policy.retry_statuses or (status == 500 and request.idempotent)
        retry_after = parse_retry_after(response.headers.get("Retry-After"), self._timing.wall_clock())
        detail = error_detail(response, self.redact)
        error = _status_error(
            self.redact(f"{request.method} {request.path}: HTTP {status}" + (f": {detail}" if detail else "")),
            status,
            request,
            retry_after,
        )
        if isinstance(error, ChatwootInvalidResponse):
            retryable = False
        return Failure(
            error,
            retryable=retryable,
            maybe_applied=status in _MAYBE_APPLIED_STATUSES,
            retry_after=retry_after if retryable else None,
        )

    def _log_attempt(
        self, request: ApiRequest, call: Call, started: float, status: int | None, failure: Failure | None
    ) -> None:
        elapsed_ms = (self._timing.clock() - started) * 1000
        if failure is None:
            level = logging.DEBUG
        elif failure.retryable:
            level = logging.WARNING
        else:
            level = logging.INFO
        outcome: int | str = status if status is not None else _failure_name(failure)
        logger.log(
            level,
            "chatwoot %s %s -> %s (attempt %d, %.0f ms)",
            request.method,
            request.path,
            outcome,
            call.attempts,
            elapsed_ms,
            extra=log_fields(request, status=status, attempt=call.attempts, elapsed_ms=elapsed_ms),
        )


def log_fields(
    request: ApiRequest, *, status: int | None = None, attempt: int | None = None, elapsed_ms: float | None = None
) -> dict[str, Any]:
    """Structured keys for a log record about ``request``: never headers, bodies or query values."""
    return {
        "http_method": request.method,
        "http_path": request.path,
        "http_status": status,
        "attempt": attempt,
        "elapsed_ms": None if elapsed_ms is None else round(elapsed_ms, 1),
    }


def _status_error(message: str, status: int, request: ApiRequest, retry_after: float | None) -> ChatwootError:
    where: dict[str, Any] = {"status_code": status, "method": request.method, "path": request.path}
    if status in (401, 403):
        return ChatwootAuthError(message, **where)
    if status == 404:
        return ChatwootNotFound(message, **where)
    if status == 429:
        return ChatwootRateLimited(message, retry_after=retry_after, **where)
    if 400 <= status < 500:
        return ChatwootClientError(message, **where)
    if status >= 500:
        return ChatwootServerError(message, **where)
    # httpx does not follow redirects here, and a 1xx/3xx answer is not the API we know.
    return ChatwootInvalidResponse(message, **where)


def _last_error(call: Call) -> ChatwootError | None:
    return call.last_failure.error if call.last_failure is not None else None


def _failure_name(failure: Failure | None) -> str:
    return type(failure.error).__name__ if failure is not None else "-"


def error_detail(response: httpx.Response, redact: Callable[[str], str] = str) -> str:
    """Chatwoot's own explanation of a failure, and nothing else the server sent.

    Whatever answers at a firm's base URL chooses the body, so only a string ``error`` or ``message`` of a JSON
    object, or the strings of its ``errors`` list (Rails validation messages, plain or as ``{"message": …}``),
    are kept, control characters removed, at most 200 characters.
    Any other body (an HTML error page, plain text, a JSON list) gives nothing: the status says enough.
    """
    try:
        body = response.json()
    except ValueError:
        return ""
    if not isinstance(body, dict):
        return ""
    errors = body.get("errors")
    listed = []
    if isinstance(errors, list):
        for item in errors:
            message = item.get("message") if isinstance(item, dict) else item
            if isinstance(message, str) and message.strip():
                listed.append(message)
    candidates = [body.get("error"), body.get("message"), "; ".join(listed)]
    text = next((c for c in candidates if isinstance(c, str) and c.strip()), "")
    # Redacted before the cut, so that no part of a token echoed back survives at the end.
    cleaned = " ".join("".join(ch if ch.isprintable() else " " for ch in redact(text)).split())
    return cleaned if len(cleaned) <= _MAX_DETAIL_CHARS else cleaned[: _MAX_DETAIL_CHARS - 1] + "…"
