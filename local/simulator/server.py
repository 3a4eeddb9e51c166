"""Running the simulator: in a background thread (tests, benchmarks, the local stack) or in the foreground."""

from __future__ import annotations

import logging
import threading
from typing import Any

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import SimulatorApp
from .core import Simulator


class _Handler(WSGIRequestHandler):
    # Keep-alive: a benchmark's thousands of calls should not each pay for a new connection.
    protocol_version = "HTTP/1.1"


class _QuietHandler(_Handler):
    """No access log line per request: a 100k-SKU benchmark would drown in them."""

    def log_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class SimulatorServer:
    """`SimulatorServer(port=0).start()` serves a fresh simulated Amazon on a free port until `.stop()`.

    Requests are handled on their own threads; `.simulator` is the state behind it, for tests that
    want to look inside without HTTP.
    """

    def __init__(
        self, host: str = "127.0.0.1", port: int = 0, *, simulator: Simulator | None = None, quiet: bool = True
    ) -> None:
        self.simulator = simulator or Simulator()
        self.app = SimulatorApp(self.simulator)
        handler = _QuietHandler if quiet else _Handler
        self._server: BaseWSGIServer = make_server(host, port, self.app, threaded=True, request_handler=handler)
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> SimulatorServer:
        if self._thread is None:
            self._thread = threading.Thread(target=self._server.serve_forever, name="sp-api-simulator", daemon=True)
            self._thread.start()
        return self

    def serve_forever(self) -> None:
        logging.getLogger("werkzeug").setLevel(logging.WARNING)
        self._server.serve_forever()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> SimulatorServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
