"""A small HTTP server for a background process: /metrics, /healthz and /readyz.

The collector and the scheduler have no web framework; this serves their process metrics from
a registry passed in, and their readiness from a callable.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

__all__ = ["ProbeServer", "serve_probes"]


class ProbeServer:
    def __init__(self, server: ThreadingHTTPServer) -> None:
        self._server = server
        self.port = int(server.server_address[1])

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def serve_probes(
    host: str, port: int, registry: CollectorRegistry, ready: Callable[[], bool]
) -> ProbeServer:
    """Serve in a daemon thread; ``port=0`` picks a free port (see ``ProbeServer.port``)."""

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_GET(self) -> None:
            if self.path == "/metrics":
                self._answer(200, generate_latest(registry), CONTENT_TYPE_LATEST)
            elif self.path == "/healthz":
                self._answer(200, b'{"status":"ok"}', "application/json")
            elif self.path == "/readyz":
                ok = ready()
                body = b'{"status":"ready"}' if ok else b'{"status":"not ready"}'
                self._answer(200 if ok else 503, body, "application/json")
            else:
                self._answer(404, b'{"detail":"not found"}', "application/json")

        def _answer(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer((host, port), Handler)
    threading.Thread(target=server.serve_forever, name="probes", daemon=True).start()
    return ProbeServer(server)
