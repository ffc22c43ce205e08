"""The local HTTP front: routes a request as API Gateway would, authorizes it, invokes the handler in-process.

:class:`LocalGateway` is the API Gateway part (no sockets); :class:`LocalApiServer` serves it over HTTP on
127.0.0.1 with a ``ThreadingHTTPServer`` running in a background thread.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from .apigw import LocalRequest, LocalResponse, MalformedResponse, build_http_event, error_response, http_response
from .authorizer import AuthorizationError, JwtVerifier, render_claims, token_scopes
from .invoke import FunctionInvoker
from .template_routes import LocalTemplate, RouteTable

log = logging.getLogger(__name__)

# HTTP API's payload limit; larger requests never reach a function in AWS either.
MAX_BODY_BYTES = 10 * 1024 * 1024


class LocalGateway:
    """Request in, response out, the way the HTTP API and its JWT authorizer treat it."""

    def __init__(self, template: LocalTemplate, invoker: FunctionInvoker, verifier: JwtVerifier) -> None:
        self._routes = RouteTable(template.routes)
        self._invoker = invoker
        self._verifier = verifier

    def handle(self, request: LocalRequest) -> tuple[LocalResponse, str | None]:
        """The response, and the route key that served it (None when no route matched) for the access log."""
        request_id = str(uuid.uuid4())
        match = self._routes.match(request.method, request.raw_path)
        if match is None:
            message = f"no route for {request.method.upper()} {request.raw_path}"
            return error_response(404, "not_found", message, request_id=request_id), None
        route = match.route
        claims: dict[str, Any] | None = None
        if route.authorized:
            try:
                claims = self._verifier.verify(request.header("authorization"))
            except AuthorizationError as exc:
                return error_response(401, "unauthorized", str(exc), request_id=request_id), route.route_key
        event = build_http_event(
            request,
            route_key=route.route_key,
            path_parameters=match.path_parameters,
            claims=render_claims(claims) if claims is not None else None,
            scopes=token_scopes(claims) if claims is not None else None,
            request_id=request_id,
        )
        try:
            result = self._invoker.invoke(route.function_id, event)
            return http_response(result, request_id=request_id), route.route_key
        except MalformedResponse as exc:
            log.error("%s returned a malformed response: %s", route.function_id, exc)
        except Exception:
            # The stack trace stays in the server log; the client gets the generic answer API Gateway gives.
            log.exception("%s raised while serving %s", route.function_id, route.route_key)
        return error_response(500, "internal_error", "internal error", request_id=request_id), route.route_key


class _PayloadTooLarge(Exception):
    pass


class _RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "chatwoot-integration-local"
    timeout = 60  # idle keep-alive connections give their thread back
    server: LocalHttpServer

    def _serve(self) -> None:
        started = time.monotonic()
        raw_path, _, raw_query = self.path.partition("?")
        try:
            body = self._read_body()
        except _PayloadTooLarge:
            response = error_response(413, "payload_too_large", "request body exceeds 10 MiB")
            self.close_connection = True
            self._write(response, None, raw_path, started)
            return
        except ValueError:
            self.close_connection = True
            self._write(error_response(400, "bad_request", "malformed request body"), None, raw_path, started)
            return
        request = LocalRequest(
            method=self.command,
            raw_path=raw_path,
            raw_query=raw_query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
            protocol=self.request_version,
            server_port=self.server.server_address[1],
        )
        response, route_key = self.server.gateway.handle(request)
        self._write(response, route_key, raw_path, started)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_OPTIONS = do_HEAD = _serve

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("transfer-encoding", "").lower():
            return self._read_chunked()
        length = int(self.headers.get("content-length") or 0)
        if length < 0:
            raise ValueError("negative content-length")
        if length > MAX_BODY_BYTES:
            raise _PayloadTooLarge
        return self.rfile.read(length)

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size = int(self.rfile.readline().split(b";", 1)[0].strip(), 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers carry nothing a function would see
                return b"".join(chunks)
            total += size
            if total > MAX_BODY_BYTES:
                raise _PayloadTooLarge
            chunks.append(self.rfile.read(size))
            self.rfile.readline()

    def _write(self, response: LocalResponse, route_key: str | None, raw_path: str, started: float) -> None:
        # Short and free of bodies, query strings and headers: tokens and message content never reach the log.
        # Matched requests are logged by route key, so a secret in a path parameter stays out too. Logged
        # before the response leaves, so the line exists by the time the client has its answer.
        log.info(
            "%s -> %d (%.0f ms)",
            route_key or f"{self.command} {raw_path} (no route)",
            response.status,
            (time.monotonic() - started) * 1000,
        )
        self.send_response(response.status)
        for name, value in response.headers:
            if name.lower() not in ("content-length", "transfer-encoding", "connection"):
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the default access log (it would print full URLs); :meth:`_write` logs instead."""


class LocalHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], gateway: LocalGateway) -> None:
        super().__init__(address, _RequestHandler)
        self.gateway = gateway


class LocalApiServer:
    """The HTTP front in a background thread. Port 0 picks a free port; :attr:`url` tells which."""

    def __init__(self, gateway: LocalGateway, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self._httpd = LocalHttpServer((host, port), gateway)
        self._thread: threading.Thread | None = None

    @property
    def port(self) -> int:
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self._httpd.server_address[0]!s}:{self.port}"

    def start(self) -> None:
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.1}, name="local-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join()
            self._thread = None
        self._httpd.server_close()
