"""Body limits enforced while streaming, JSON depth, multipart caps; memory stays bounded."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import select
import shutil
import socket
import time
import tracemalloc
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from driftline.api.app import create_app
from driftline.api.limits import json_depth
from driftline.core.settings import DatabaseSettings, Settings
from driftline.core.storage import Database
from tests.helpers import FRAUD_MODEL
from tests.support.keys import TEST_ADMIN_KEY, add_key, bearer
from tests.support.service import start_service

MiB = 1024 * 1024
CHUNK = 64 * 1024


@dataclass
class Outcome:
    status: int
    body: bytes
    chunks_read: int
    peak: int  # bytes allocated at the peak, above the baseline
    kept: int  # bytes still allocated after the request


def _send(
    app: FastAPI, path: str, size: int, *, declare_length: bool, ctype: str = "application/json"
) -> Outcome:
    """POST ``size`` bytes to ``path`` straight through ASGI, in 64 KiB chunks made on demand,
    so nothing but the application can hold on to them."""
    headers = [
        (b"authorization", f"Bearer {TEST_ADMIN_KEY}".encode()),
        (b"content-type", ctype.encode()),
    ]
    if declare_length:
        headers.append((b"content-length", str(size).encode()))
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    read, answer = 0, {"status": 0, "body": b""}

    async def receive() -> dict[str, object]:
        nonlocal read
        if read * CHUNK >= size:
            await asyncio.sleep(3600)  # like a client waiting for the answer
        read += 1
        return {"type": "http.request", "body": b"[" * CHUNK, "more_body": read * CHUNK < size}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")  # type: ignore[operator]

    tracemalloc.start()
    baseline = tracemalloc.get_traced_memory()[0]
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=60))
    gc.collect()  # exception tracebacks form cycles; what they hold is freed by the collector
    current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return Outcome(
        int(answer["status"]),  # type: ignore[call-overload]
        answer["body"],  # type: ignore[arg-type]
        read,
        peak - baseline,
        current - baseline,
    )


# Limits do not depend on the database: these tests run on SQLite only (the fixtures below
# replace conftest's, which run each test on both backends).
@pytest.fixture
def database(sqlite_template: Path, tmp_path: Path) -> Iterator[Database]:
    target = tmp_path / "limits.db"
    shutil.copyfile(sqlite_template, target)
    database = Database(DatabaseSettings(url=f"sqlite:///{target}"))
    yield database
    database.dispose()


@pytest.fixture
def settings(database: Database) -> Settings:
    return Settings(database=DatabaseSettings(url=database.url.render_as_string()))


@pytest.fixture
def client(settings: Settings, database: Database) -> Iterator[TestClient]:
    add_key(database, "admin", plaintext=TEST_ADMIN_KEY)
    with TestClient(create_app(settings, database), headers=bearer(TEST_ADMIN_KEY)) as client:
        yield client


@pytest.fixture
def app(client: TestClient) -> FastAPI:
    """The app of the admin ``client`` fixture, its lifespan already run."""
    application: FastAPI = client.app  # type: ignore[assignment]
    return application


@pytest.mark.parametrize("path", ["/v1/models", "/v1/events"])
def test_11_mb_to_a_10_mb_route_is_413_with_content_length_unread(app: FastAPI, path: str) -> None:
    outcome = _send(app, path, 11 * MiB, declare_length=True)
    assert outcome.status == 413 and b"too large" in outcome.body
    assert outcome.chunks_read == 0  # refused on the header alone
    assert outcome.peak < 1 * MiB


@pytest.mark.parametrize(
    ("path", "ctype"),
    [
        ("/v1/models", "application/json"),
        ("/v1/models", "application/octet-stream"),
        ("/v1/events", "application/json"),
        ("/v1/models/fraud/versions/1/reference", "text/csv"),
    ],
)
def test_a_chunked_body_is_cut_at_the_limit(
    client: TestClient, app: FastAPI, settings: Settings, path: str, ctype: str
) -> None:
    settings.reference.max_bytes = 10 * MiB  # the same cap for the upload route here
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
    sent = 100 * MiB
    outcome = _send(app, path, sent, declare_length=False, ctype=ctype)
    assert outcome.status == 413, outcome.body
    # Reading stops at the first chunk past 10 MiB, and what was read waited on disk beyond
    # the spool's 1 MiB in memory...
    assert outcome.chunks_read == 10 * MiB // CHUNK + 1
    assert outcome.peak < 2 * MiB
    # ...and nothing of it stays once the answer is sent.
    assert outcome.kept < 5 * MiB


def test_11_mb_without_content_length_grows_memory_less_than_5_mb(app: FastAPI) -> None:
    outcome = _send(app, "/v1/models", 11 * MiB, declare_length=False)
    assert outcome.status == 413
    assert outcome.peak < 5 * MiB and outcome.kept < 5 * MiB


def test_json_depth_is_capped_before_parsing(client: TestClient) -> None:
    deep = b'{"name": "m", "task": "regression", "features": ' + b"[" * 100 + b"]" * 100 + b"}"
    answer = client.post("/v1/models", content=deep, headers={"Content-Type": "application/json"})
    assert answer.status_code == 422
    assert (
        answer.json()["problems"][0]["reason"]
        == "nests arrays and objects more than 32 levels deep"
    )
    # Ingest: the decoder's own limit and the contract (scalar values only) answer 422 too.
    very_deep = b"[" * 200_000 + b"]" * 200_000
    for path in ("/v1/events", "/v1/labels"):
        refused = client.post(path, content=very_deep, headers={"Content-Type": "application/json"})
        assert refused.status_code == 422
    # Brackets inside strings are text, not nesting.
    assert json_depth(b'["' + b"[" * 1000 + b'", "\\"[["]') == 1
    model = dict(FRAUD_MODEL, description="[" * 500)
    assert client.post("/v1/models", json=model).status_code == 201


def test_multipart_field_and_file_counts_are_capped(client: TestClient) -> None:
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
    url = "/v1/models/fraud/versions/1/reference"
    csv = b"amount,country,is_new\n1.0,DE,true\n"
    files = [("file", ("a.csv", csv, "text/csv")), ("file", ("b.csv", csv, "text/csv"))]
    two_files = client.post(url, files=files)
    assert two_files.status_code == 422 and "files" in two_files.json()["problems"][0]["reason"]
    fields = {f"f{i}": "x" for i in range(10)}
    many_fields = client.post(url, files=files[:1], data=fields)
    assert many_fields.status_code == 422
    assert "fields" in many_fields.json()["problems"][0]["reason"]
    assert client.post(url, files=files[:1]).status_code == 201


def test_limits_follow_the_settings(settings: Settings, database: Database) -> None:
    settings.auth.max_json_bytes = 2048
    add_key(database, "admin", plaintext=TEST_ADMIN_KEY)
    with TestClient(create_app(settings, database), headers=bearer(TEST_ADMIN_KEY)) as client:
        big = dict(FRAUD_MODEL, description="x" * 4000)
        assert client.post("/v1/models", json=big).status_code == 413
        assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201


def _memory_mib(pid: int, field: str) -> float:
    """VmRSS (now) or VmHWM (peak) of a process, in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1]) / 1024
    raise AssertionError(f"no {field} for process {pid}")


def _post_raw(port: int, size: int, *, declare_length: bool) -> bytes:
    """POST ``size`` bytes over a real socket, stopping as soon as the server answers; the
    status line of the answer."""
    head = (
        f"POST /v1/models HTTP/1.1\r\nHost: test\r\nAuthorization: Bearer {TEST_ADMIN_KEY}\r\n"
        "Content-Type: application/json\r\n"
        + (f"Content-Length: {size}\r\n" if declare_length else "Transfer-Encoding: chunked\r\n")
        + "\r\n"
    )
    chunk = b"[" * CHUNK
    framed = chunk if declare_length else b"%x\r\n%s\r\n" % (len(chunk), chunk)
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(head.encode())
        with contextlib.suppress(BrokenPipeError, ConnectionResetError):
            for _ in range(size // CHUNK):
                if select.select([connection], [], [], 0)[0]:
                    break  # the answer is there: the server stopped reading
                connection.sendall(framed)
            if not declare_length:
                connection.sendall(b"0\r\n\r\n")
        return connection.recv(4096).split(b"\r\n")[0]


def test_11_mb_over_http_is_413_and_memory_grows_less_than_5_mb(tmp_path: Path) -> None:
    """Against `driftline up` (uvicorn) over real sockets, with and without Content-Length."""
    service = start_service(tmp_path)
    try:
        pid = service.process.pid
        _post_raw(service.port, CHUNK, declare_length=True)  # warm up: first request's imports
        rss, peak = _memory_mib(pid, "VmRSS"), _memory_mib(pid, "VmHWM")
        declared = _post_raw(service.port, 11 * MiB, declare_length=True)
        assert declared == b"HTTP/1.1 413 Request Entity Too Large"
        assert _memory_mib(pid, "VmHWM") - peak < 5  # refused on the header: nothing read
        chunked = _post_raw(service.port, 11 * MiB, declare_length=False)
        assert chunked == b"HTTP/1.1 413 Request Entity Too Large"
        # The answer goes out before the request's task ends and drops the body: allow it 3 s.
        deadline = time.monotonic() + 3
        while _memory_mib(pid, "VmRSS") - rss >= 5 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert _memory_mib(pid, "VmRSS") - rss < 5
        # Without a length the body is spooled (on disk past 1 MiB) up to the 10 MiB limit:
        # the peak grows by less than 5 MiB too.
        assert _memory_mib(pid, "VmHWM") - peak < 5
    finally:
        service.stop()


def test_a_chunked_body_within_the_limit_reaches_the_route_whole(app: FastAPI) -> None:
    """Spooled bodies (no Content-Length) are handed on intact, also past the 1 MiB in memory."""
    model = json.dumps({**FRAUD_MODEL, "description": "x" * (3 * MiB)}).encode()
    pieces = [model[i : i + 10_000] for i in range(0, len(model), 10_000)]
    answer: dict[str, object] = {"status": 0, "body": b""}

    async def receive() -> dict[str, object]:
        if not pieces:
            await asyncio.sleep(3600)
        body = pieces.pop(0)
        return {"type": "http.request", "body": body, "more_body": bool(pieces)}

    async def send(message: dict[str, object]) -> None:
        if message["type"] == "http.response.start":
            answer["status"] = message["status"]
        elif message["type"] == "http.response.body":
            answer["body"] += message.get("body", b"")  # type: ignore[operator]

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/v1/models",
        "raw_path": b"/v1/models",
        "query_string": b"",
        "root_path": "",
        "headers": [
            (b"authorization", f"Bearer {TEST_ADMIN_KEY}".encode()),
            (b"content-type", b"application/json"),
        ],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "state": {},
    }
    asyncio.run(asyncio.wait_for(app(scope, receive, send), timeout=60))
    assert answer["status"] in (201, 422), answer["body"]
    # The route saw the whole document: a truncated one would be a JSON decode error.
    assert b"JSON decode" not in answer["body"]  # type: ignore[operator]
