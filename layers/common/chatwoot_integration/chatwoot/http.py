"""The process-wide HTTP connection pool every Chatwoot client shares (warm containers reuse connections)."""

from __future__ import annotations

import threading

import httpx

DEFAULT_CONNECT_TIMEOUT = 3.0
DEFAULT_READ_TIMEOUT = 10.0


class _SharedHttpClient:
    """The process-wide httpx.Client: created on first use, never at import, recreated if closed."""

    def __init__(self) -> None:
        self._client: httpx.Client | None = None
        self._lock = threading.Lock()

    def get(self) -> httpx.Client:
        with self._lock:
            if self._client is None or self._client.is_closed:
                self._client = httpx.Client(
                    timeout=httpx.Timeout(DEFAULT_READ_TIMEOUT, connect=DEFAULT_CONNECT_TIMEOUT),
                    limits=httpx.Limits(max_connections=20, max_keepalive_connections=10),
                    follow_redirects=False,
                )
            return self._client


_shared_http = _SharedHttpClient()


def get_http_client() -> httpx.Client:
    """One httpx.Client per process, so warm Lambda containers reuse connections across invocations."""
    return _shared_http.get()
