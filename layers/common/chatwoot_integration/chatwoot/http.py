"""The process-wide HTTP connection pools the Chatwoot clients share (warm containers reuse connections).

One pool per egress policy: every connection it opens goes through :class:`~.egress.GuardedBackend`, so a
Chatwoot client can only reach the addresses the operator's policy allows, and redirects are never followed.
"""

from __future__ import annotations

import threading

import httpcore
import httpx

from .egress import EgressPolicy, GuardedBackend, Resolver

DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_READ_TIMEOUT = 10.0
_LIMITS = httpx.Limits(max_connections=20, max_keepalive_connections=10)
STRICT = EgressPolicy()


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport over an httpcore pool whose network backend is the egress guard.

    httpx does not take a network backend, so the pool it built is replaced by one that does (same TLS context,
    same limits); proxies from the environment are never used, since a proxy would connect on our behalf.
    """

    def __init__(self, policy: EgressPolicy, *, resolve: Resolver | None = None, limits: httpx.Limits = _LIMITS):
        super().__init__(limits=limits, trust_env=False)
        self._pool.close()
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy, resolve),
        )


def guarded_client(policy: EgressPolicy, *, resolve: Resolver | None = None) -> httpx.Client:
    """An httpx client that reaches only what ``policy`` allows and never follows a redirect."""
    return httpx.Client(
        transport=GuardedTransport(policy, resolve=resolve),
        timeout=httpx.Timeout(DEFAULT_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT),
        follow_redirects=False,
    )


class _SharedHttpClients:
    """The process-wide clients, one per policy: created on first use, never at import, recreated if closed."""

    def __init__(self) -> None:
        self._clients: dict[tuple[EgressPolicy, Resolver | None], httpx.Client] = {}
        self._lock = threading.Lock()

    @property
    def _client(self) -> httpx.Client | None:
        """The strict policy's client, if one was made (what a cold start has not made yet)."""
        return self._clients.get((STRICT, None))

    def get(self, policy: EgressPolicy, resolve: Resolver | None) -> httpx.Client:
        with self._lock:
            client = self._clients.get((policy, resolve))
            if client is None or client.is_closed:
                client = self._clients[policy, resolve] = guarded_client(policy, resolve=resolve)
            return client


_shared_http = _SharedHttpClients()


def get_http_client(policy: EgressPolicy = STRICT, resolve: Resolver | None = None) -> httpx.Client:
    """One httpx.Client per process and policy, so warm Lambda containers reuse connections across invocations.

    ``resolve`` replaces the system's resolver (tests give names of their own); None is the system's."""
    return _shared_http.get(policy, resolve)
