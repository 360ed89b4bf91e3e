"""A retraining job's webhook endpoint, in the standard library only.

It verifies each request's Standard Webhooks signature (``webhook-id``, ``webhook-timestamp``,
``webhook-signature: v1,<base64 HMAC-SHA256 of "id.timestamp.body">``) with the endpoint's secret,
refuses stale timestamps, ignores a ``webhook-id`` it has already handled (retries can repeat a
message), and appends every accepted message as one JSON line to a log file. A real job would
start a retraining pipeline where this one logs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Lock

__all__ = ["make_server", "verify"]

TOLERANCE_S = 300  # the Standard Webhooks recommendation against replays


def verify(secret: str, headers: dict[str, str], body: bytes, now: float | None = None) -> bool:
    """Whether ``body`` was signed with ``secret`` (``whsec_<base64>``) and is recent.

    >>> import base64, hashlib, hmac
    >>> key = base64.b64encode(b"0123456789abcdef0123456789").decode()
    >>> mac = hmac.new(base64.b64decode(key), b"msg_1.1700000000.{}", hashlib.sha256).digest()
    >>> signed = {"webhook-id": "msg_1", "webhook-timestamp": "1700000000",
    ...           "webhook-signature": "v1," + base64.b64encode(mac).decode()}
    >>> verify("whsec_" + key, signed, b"{}", now=1700000001)
    True
    >>> verify("whsec_" + key, signed, b"{ }", now=1700000001)
    False
    """
    try:
        stamp = int(headers["webhook-timestamp"])
        content = f"{headers['webhook-id']}.{stamp}.".encode() + body
        signatures = headers["webhook-signature"].split()
    except (KeyError, ValueError):
        return False
    if abs((now or time.time()) - stamp) > TOLERANCE_S:
        return False
    key = base64.b64decode(secret.removeprefix("whsec_"))
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(s.split(",", 1)[-1], expected)
        for s in signatures
        if s.startswith("v1,")
    )


def make_server(host: str, port: int, secret: str, log_path: Path) -> ThreadingHTTPServer:
    seen: set[str] = set()
    lock = Lock()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            headers = {k.lower(): v for k, v in self.headers.items()}
            if not verify(secret, headers, body):
                self.send_response(401)
                self.end_headers()
                return
            with lock:
                if headers["webhook-id"] not in seen:  # retries repeat a message: act once
                    seen.add(headers["webhook-id"])
                    record = {
                        "received_at": time.time(),
                        "webhook_id": headers["webhook-id"],
                        "payload": json.loads(body),
                    }
                    with log_path.open("a") as out:
                        out.write(json.dumps(record) + "\n")
            self.send_response(204)
            self.end_headers()

        def do_GET(self) -> None:
            """``/healthz`` for readiness checks (docker-compose, the demo)."""
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            pass  # the JSON lines file is the log

    return ThreadingHTTPServer((host, port), Handler)
