"""A real HTTP webhook receiver on loopback, answering from a script, for the webhook tests."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["Answer", "Received", "Receiver", "running_receiver"]


@dataclass(frozen=True)
class Answer:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay_s: float = 0.0


@dataclass(frozen=True)
class Received:
    path: str  # with the query
    headers: dict[str, str]  # lower-case names
    body: bytes
    method: str = "POST"


class Receiver:
    """Answers each POST with the next scripted :class:`Answer` (then ``default``).

    ``hold_at``: the request with that number (1-based) waits until :meth:`release` before
    answering, so a test can act while a delivery is in flight.
    """

    def __init__(
        self, answers: Iterable[Answer] = (), default: Answer = Answer(), hold_at: int = 0
    ) -> None:
        self.script = deque(answers)
        self.default = default
        self.received: list[Received] = []
        self.lock = threading.Lock()
        self.hold_at = hold_at
        self.holding = threading.Event()
        self._released = threading.Event()
        self.stopping = threading.Event()  # ends scripted delays at shutdown
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True

    @property
    def url(self) -> str:
        return f"{self.base_url}/hook"

    @property
    def base_url(self) -> str:
        """Scheme, host and port: what a webhook preset is given (it appends the path)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def ids(self) -> list[str]:
        with self.lock:
            return [r.headers["webhook-id"] for r in self.received]

    def release(self) -> None:
        self._released.set()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", "0"))
                body = self.rfile.read(length)
                headers = {k.lower(): v for k, v in self.headers.items()}
                with receiver.lock:
                    receiver.received.append(Received(self.path, headers, body, self.command))
                    number = len(receiver.received)
                    answer = receiver.script.popleft() if receiver.script else receiver.default
                if number == receiver.hold_at:
                    receiver.holding.set()
                    receiver._released.wait(30)
                if answer.delay_s:
                    receiver.stopping.wait(answer.delay_s)
                try:
                    self.send_response(answer.status)
                    for name, value in answer.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(answer.body)))
                    self.end_headers()
                    self.wfile.write(answer.body)
                except OSError:
                    pass  # the sender gave up (timeout) or was killed

            # Recorded too, so a test can see a request sent with the wrong method.
            do_PUT = do_PATCH = do_DELETE = do_POST

            def log_message(self, format: str, *args: object) -> None:
                pass

        return Handler


@contextmanager
def running_receiver(
    answers: Iterable[Answer] = (), default: Answer = Answer(), hold_at: int = 0
) -> Iterator[Receiver]:
    receiver = Receiver(answers, default, hold_at)
    thread = threading.Thread(target=receiver.server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        receiver.release()
        receiver.stopping.set()
        receiver.server.shutdown()
        receiver.server.server_close()
