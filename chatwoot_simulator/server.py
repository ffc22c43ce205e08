"""The HTTP front of the simulator: a standard-library threading server on 127.0.0.1."""

from __future__ import annotations

import logging
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from chatwoot_simulator.rest import RestApi
from chatwoot_simulator.rest_responses import RestResponse, error_response
from chatwoot_simulator.simulator import Simulator

logger = logging.getLogger("chatwoot_simulator.server")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], api: RestApi, simulator: Simulator, verbose: bool) -> None:
        super().__init__(address, _Handler)
        self.api = api
        self.simulator = simulator
        self.verbose = verbose


class _Handler(BaseHTTPRequestHandler):
    server: _Server
    protocol_version = "HTTP/1.1"
    # One buffered write per response and no Nagle delay: keep-alive clients would otherwise wait for
    # delayed ACKs between the header and body segments.
    wbufsize = -1
    disable_nagle_algorithm = True

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PATCH(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def _handle(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        webhooks = self.server.simulator.webhooks
        # Chatwoot answers the request first and sends the resulting webhooks from background jobs.
        try:
            with webhooks.deferred():
                response = self.server.api.handle(self.command, self.path, dict(self.headers.items()), body)
        except Exception:  # a simulator bug must read as one, not as a dropped connection
            logger.exception("simulator failed on %s %s", self.command, self.path.split("?", 1)[0])
            response = error_response(500, "simulator error (see its log)")
        self._write(response)
        webhooks.after_change()

    def _write(self, response: RestResponse) -> None:
        self.send_response(response.status)
        if response.content_type:
            self.send_header("Content-Type", response.content_type)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format: str, *args: object) -> None:
        if self.server.verbose:
            super().log_message(format, *args)


class SimulatorServer:
    """A running simulator: ``url`` for clients, ``simulator`` to drive it, ``shutdown()`` to stop."""

    def __init__(
        self,
        simulator: Simulator,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        verbose: bool = False,
        owns_simulator: bool = False,
    ) -> None:
        self.simulator = simulator
        self.api = RestApi(simulator)
        self._owns_simulator = owns_simulator
        self._server = _Server((host, port), self.api, simulator, verbose)
        self._thread = threading.Thread(
            # A short poll keeps shutdown() quick; it only matters when stopping.
            target=lambda: self._server.serve_forever(poll_interval=0.05),
            name="chatwoot-sim-http",
            daemon=True,
        )
        self._thread.start()

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
        if self._owns_simulator:
            self.simulator.close()

    def __enter__(self) -> SimulatorServer:
        return self

    def __exit__(self, *_: object) -> None:
        self.shutdown()


def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    simulator: Simulator | None = None,
    verbose: bool = False,
) -> SimulatorServer:
    """Start serving ``simulator`` (by default a new one delivering webhooks from a background thread).

    ``port=0`` picks a free port; read it back from ``.url``. A simulator created here is closed by
    ``shutdown()``; one passed in is left to its owner.
    """
    owns = simulator is None
    return SimulatorServer(
        simulator if simulator is not None else Simulator(delivery="async"),
        host=host,
        port=port,
        verbose=verbose,
        owns_simulator=owns,
    )
