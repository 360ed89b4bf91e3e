"""One webhook HTTP attempt with the standard library's ``http.client``.

``http.client`` never follows redirects, so a 3xx is returned as it is (a failure for the
dispatcher). The connection goes to the address the SSRF check approved (:class:`Target`),
never through a second DNS lookup; for https the certificate is checked against the URL's host
name, sent as SNI, and the ``Host`` header is the URL's host either way.
"""

from __future__ import annotations

import functools
import http.client
import socket
import ssl
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from alerting.webhooks.ssrf import Target

__all__ = ["SendResult", "Sender", "send"]

_ERROR_BODY_CHARS = 200  # of a failed response, kept with the attempt for debugging
_READ_LIMIT = 64 * 1024  # a receiver's answer is not ours to buffer whole


@dataclass(frozen=True, slots=True)
class SendResult:
    """What one attempt got: an HTTP status (None when no answer came), or an error."""

    status: int | None
    latency_s: float
    retry_after: str | None = None
    error: str | None = None
    # A non-2xx answer that still means done (a preset's duplicate run); error explains it.
    accepted: bool = False

    @property
    def ok(self) -> bool:
        return self.accepted or (self.status is not None and 200 <= self.status < 300)


Sender = Callable[[Target, bytes, Mapping[str, str], float], SendResult]


@functools.cache
def _tls_context() -> ssl.SSLContext:
    # Loading the CA store costs tens of milliseconds: once per process, on first https use.
    return ssl.create_default_context()


class _PinnedConnection(http.client.HTTPConnection):
    """A connection to ``address`` for a request naming ``host``, wrapped in TLS for https."""

    def __init__(self, target: Target, timeout: float) -> None:
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address
        self._tls = target.scheme == "https"

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self._tls:
            sock = _tls_context().wrap_socket(sock, server_hostname=self.host)
        self.sock = sock


def send(target: Target, body: bytes, headers: Mapping[str, str], timeout: float) -> SendResult:
    """POST ``body`` to ``target``; never raises for network trouble (it is the error)."""
    connection = _PinnedConnection(target, timeout)
    started = time.monotonic()
    try:
        connection.putrequest("POST", target.path, skip_host=True, skip_accept_encoding=True)
        connection.putheader("Host", target.host_header)
        for name, value in headers.items():
            connection.putheader(name, value)
        connection.putheader("Content-Length", str(len(body)))
        connection.endheaders(body)
        response = connection.getresponse()
        text = response.read(_READ_LIMIT)
        latency = time.monotonic() - started
        error = None
        if not 200 <= response.status < 300:
            snippet = text[:_ERROR_BODY_CHARS].decode("utf-8", "replace").strip()
            error = f"HTTP {response.status} {response.reason}".strip()
            error += f": {snippet}" if snippet else ""
        return SendResult(response.status, latency, response.getheader("Retry-After"), error)
    except TimeoutError:
        return SendResult(None, time.monotonic() - started, error=f"timed out after {timeout} s")
    except (OSError, http.client.HTTPException) as exc:
        kind = type(exc).__name__
        return SendResult(None, time.monotonic() - started, error=f"{kind}: {exc}")
    finally:
        connection.close()
