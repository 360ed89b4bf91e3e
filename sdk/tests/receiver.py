"""A scriptable HTTP receiver standing in for the service in the SDK's own tests."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Tuple


class Receiver:
    """Answers POST /v1/events like Driftline; ``script`` holds (status, headers) to answer
    first, then 200s. Records every request's events and headers."""

    def __init__(self) -> None:
        self.script: List[Tuple[int, Dict[str, str]]] = []
        self.requests: List[Dict[str, Any]] = []
        self.reject_ids: set = set()
        self.delay = 0.0
        self.ids: List[str] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with receiver._lock:
                    receiver.requests.append(
                        {"headers": dict(self.headers), "body": body, "path": self.path}
                    )
                    status, headers = receiver.script.pop(0) if receiver.script else (200, {})
                if receiver.delay:
                    threading.Event().wait(receiver.delay)
                if status == 200:
                    events = body["events"]
                    errors = [
                        {
                            "index": i,
                            "event_id": e["event_id"],
                            "field": "x",
                            "reason": "bad " + e["event_id"],
                        }
                        for i, e in enumerate(events)
                        if e["event_id"] in receiver.reject_ids
                    ]
                    with receiver._lock:
                        receiver.ids += [
                            e["event_id"]
                            for e in events
                            if e["event_id"] not in receiver.reject_ids
                        ]
                    payload = json.dumps(
                        {
                            "accepted": len(events) - len(errors),
                            "duplicate": 0,
                            "rejected": len(errors),
                            "type_violations": 0,
                            "errors": errors,
                        }
                    ).encode()
                else:
                    payload = b'{"detail": "scripted"}'
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
