"""The SDK's framework helpers with the real frameworks, against a local receiver: the FastAPI
and Flask examples of sdk/README.md and the Django and TorchServe examples of
docs/integrations.md run as written (only their transport points at the receiver)."""

from __future__ import annotations

import json
import sys
import threading
import types
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

import driftline_sdk
from tests.support.docs import claimed_blocks

THIS = "tests/test_sdk_integrations.py"


class _Model:
    """Stands in for the examples' ``model``: fraud above an amount of 100."""

    def predict(self, features: dict[str, Any]) -> str:
        return "1" if features["amount"] > 100 else "0"


def _example(document: str, index: int, count: int, url: str) -> dict[str, Any]:
    """Run block ``index`` of the ``count`` python blocks ``document`` marks for this module,
    with its transport pointed at ``url``; the names it defined."""
    blocks = claimed_blocks(document, THIS, "python")
    assert len(blocks) == count, f"{document}'s examples moved; update {THIS}"
    namespace: dict[str, Any] = {"__name__": "example", "model": _Model()}
    exec(blocks[index].replace("http://driftline:8000", url), namespace)
    return namespace


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    received: list[dict[str, Any]] = []

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.extend(body["events"])
            payload = json.dumps(
                {
                    "accepted": len(body["events"]),
                    "duplicate": 0,
                    "rejected": 0,
                    "type_violations": 0,
                    "errors": [],
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", received
    server.shutdown()


def test_fastapi_example(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = receiver
    example = _example("sdk/README.md", 0, 2, url)
    answer = TestClient(example["app"]).post("/predict", json={"amount": 150.0, "country": "DE"})
    assert driftline_sdk.flush(5) == 0
    assert received[0]["event_id"] == answer.json()["event_id"]
    assert received[0]["features"] == {"amount": 150.0, "country": "DE"}
    assert (received[0]["prediction"], received[0]["model_version"]) == ("1", "3")
    driftline_sdk.close()


def test_flask_example(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    from driftline_sdk.integrations.flask import client

    url, received = receiver
    app = _example("sdk/README.md", 1, 2, url)["app"]
    answer = app.test_client().post("/predict", json={"amount": 50.0}).get_json()
    with app.app_context():
        assert client().flush(5) == 0
        client().close()
    assert [e["event_id"] for e in received] == [answer["event_id"]]
    assert (received[0]["prediction"], received[0]["model"]) == ("0", "fraud")


# --- Django: the middleware from driftline_sdk.integrations.django, with the real framework ---

urlpatterns: list[Any] = []  # this module is the test's ROOT_URLCONF


def test_django_middleware_logs_prediction_views(
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    import django
    from django.conf import settings
    from django.http import HttpRequest, JsonResponse
    from django.test import Client as DjangoClient
    from django.urls import path

    from driftline_sdk.integrations import django as integration

    url, received = receiver
    # The settings of docs/integrations.md, as written, plus what a bare project needs.
    documented = _example("docs/integrations.md", 0, 2, url)
    settings.configure(
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["testserver"],
        SECRET_KEY="test-only",
        MIDDLEWARE=documented["MIDDLEWARE"],
        DRIFTLINE=documented["DRIFTLINE"],
    )
    django.setup()

    def predict(request: HttpRequest) -> JsonResponse:
        features = json.loads(request.body)  # the view still reads the body the middleware read
        return JsonResponse({"label": "1" if features["amount"] > 100 else "0"})

    def health(request: HttpRequest) -> JsonResponse:
        return JsonResponse({"label": "ok"})

    urlpatterns[:] = [path("predict", predict), path("health", health)]
    browser = DjangoClient()
    answer = browser.post("/predict", {"amount": 150.0, "country": "DE"}, "application/json")
    assert answer.status_code == 200 and answer.json() == {"label": "1"}
    assert browser.post("/health", {"amount": 1}, "application/json").status_code == 200
    client = integration.client()
    assert client.flush(5) == 0
    assert [e["event_id"] for e in received] == [answer["X-Driftline-Event-Id"]]
    assert received[0]["features"] == {"amount": 150.0, "country": "DE"}
    assert (received[0]["model"], received[0]["model_version"]) == ("fraud", "3")
    assert received[0]["prediction"] == "1"
    client.close()


# --- TorchServe: the handler mixin against a stand-in of ts.torch_handler.BaseHandler ---------
# The `ts` package needs PyTorch (gigabytes), so these classes reproduce the part of TorchServe's
# interface the mixin uses: initialize(context), handle() calling preprocess, inference and
# postprocess, and Context's manifest, request_ids and per-request response headers.


class _RequestProcessor:
    def __init__(self) -> None:
        self.response_headers: dict[str, str] = {}

    def add_response_property(self, key: str, value: str) -> None:
        self.response_headers[key] = value


class _Context:
    def __init__(self, request_ids: dict[int, str]) -> None:
        self.model_name = "fraud"
        self.manifest = {"model": {"modelName": "fraud", "modelVersion": "2.0", "handler": "h"}}
        self.request_ids = request_ids
        self.request_processor = [_RequestProcessor() for _ in request_ids]

    def get_request_id(self, idx: int = 0) -> str | None:
        return self.request_ids.get(idx)

    def set_response_header(self, idx: int, key: str, value: str) -> None:
        self.request_processor[idx].add_response_property(key, value)


class _BaseHandler:
    def initialize(self, context: Any) -> None:
        self.manifest = context.manifest
        self.initialized = True

    def preprocess(self, data: list[Any]) -> list[float]:
        rows = [r.get("data") or r.get("body") for r in data]
        return [
            float(json.loads(r)["amount"] if isinstance(r, bytes) else r["amount"]) for r in rows
        ]

    def inference(self, data: list[float]) -> list[float]:
        return [1.0 if amount > 100 else 0.0 for amount in data]

    def postprocess(self, data: list[float]) -> list[dict[str, str]]:
        return [{"prediction": str(int(value))} for value in data]

    def handle(self, data: list[Any], context: Any) -> list[Any]:
        self.context = context
        return self.postprocess(self.inference(self.preprocess(data)))


def test_torchserve_mixin_logs_in_postprocess(
    receiver: tuple[str, list[dict[str, Any]]],
) -> None:
    from driftline_sdk.integrations.torchserve import EVENT_ID_HEADER, DriftlineHandlerMixin

    url, received = receiver

    class Handler(DriftlineHandlerMixin, _BaseHandler):
        driftline_options = {"transport": url}

    context = _Context({0: "0b7a4c1e-1111-4d7e-9c55-2f1e4e7a0001", 1: "req-2"})
    handler = Handler()
    handler.initialize(context)
    batch = [{"body": b'{"amount": 150, "country": "DE"}'}, {"data": {"amount": 5}}]
    assert handler.handle(batch, context) == [{"prediction": "1"}, {"prediction": "0"}]
    assert handler.driftline_client is not None and handler.driftline_client.flush(5) == 0
    by_id = {e["event_id"]: e for e in received}
    assert set(by_id) == {"0b7a4c1e-1111-4d7e-9c55-2f1e4e7a0001", "req-2"}
    assert by_id["req-2"]["features"] == {"amount": 5}
    assert by_id["0b7a4c1e-1111-4d7e-9c55-2f1e4e7a0001"]["prediction"] == "1"
    assert (by_id["req-2"]["model"], by_id["req-2"]["model_version"]) == ("fraud", "2.0")
    assert context.request_processor[1].response_headers == {EVENT_ID_HEADER: "req-2"}
    handler.driftline_client.close()


class _LabelledHandler(_BaseHandler):
    """A handler whose outputs are objects, as in the example of docs/integrations.md."""

    def postprocess(self, data: list[float]) -> list[dict[str, Any]]:
        return [{"label": str(int(value)), "probability": 0.9} for value in data]


def test_torchserve_example(
    receiver: tuple[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The example imports TorchServe's BaseHandler; the stand-in takes its module's place.
    base_handler = types.ModuleType("ts.torch_handler.base_handler")
    base_handler.BaseHandler = _LabelledHandler  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ts", types.ModuleType("ts"))
    monkeypatch.setitem(sys.modules, "ts.torch_handler", types.ModuleType("ts.torch_handler"))
    monkeypatch.setitem(sys.modules, "ts.torch_handler.base_handler", base_handler)
    url, received = receiver
    handler = _example("docs/integrations.md", 1, 2, url)["FraudHandler"]()
    context = _Context({0: "req-1"})
    handler.initialize(context)
    outputs = handler.handle([{"body": b'{"amount": 150}'}], context)
    assert outputs == [{"label": "1", "probability": 0.9}]
    assert handler.driftline_client.flush(5) == 0
    (event,) = received
    assert (event["event_id"], event["prediction"], event["features"]) == (
        "req-1",
        "1",
        {"amount": 150},
    )
    handler.driftline_client.close()
