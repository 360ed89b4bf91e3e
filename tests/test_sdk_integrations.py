"""The FastAPI and Flask examples from the SDK's README, run against a local receiver."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

import driftline_sdk
from driftline_sdk.integrations.fastapi import Driftline


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


def test_fastapi_dependency(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    url, received = receiver
    client = driftline_sdk.init(model="fraud", model_version="3", transport=url)
    app = FastAPI()

    @app.post("/predict")
    def predict(features: dict[str, Any], driftline: Driftline) -> dict[str, Any]:
        label = "1" if features["amount"] > 100 else "0"
        event_id = driftline.log_prediction(features, label)
        return {"label": label, "event_id": event_id}

    answer = TestClient(app).post("/predict", json={"amount": 150.0, "country": "DE"}).json()
    assert driftline_sdk.flush(5) == 0
    assert received[0]["event_id"] == answer["event_id"]
    assert received[0]["features"] == {"amount": 150.0, "country": "DE"}
    assert received[0]["prediction"] == "1"
    client.close()


def test_flask_helper(receiver: tuple[str, list[dict[str, Any]]]) -> None:
    from flask import Flask, request

    from driftline_sdk.integrations.flask import init_app, log_prediction

    url, received = receiver
    app = Flask(__name__)
    client = init_app(app, model="fraud", model_version="3", transport=url)

    @app.post("/predict")
    def predict() -> dict[str, Any]:
        features = request.get_json()
        label = "1" if features["amount"] > 100 else "0"
        return {"label": label, "event_id": log_prediction(features, label)}

    answer = app.test_client().post("/predict", json={"amount": 50.0}).get_json()
    assert client.flush(5) == 0
    assert [e["event_id"] for e in received] == [answer["event_id"]]
    assert received[0]["prediction"] == "0"
    client.close()


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
    settings.configure(
        ROOT_URLCONF=__name__,
        ALLOWED_HOSTS=["testserver"],
        SECRET_KEY="test-only",
        MIDDLEWARE=["driftline_sdk.integrations.django.DriftlineMiddleware"],
        DRIFTLINE={
            "model": "fraud",
            "model_version": "3",
            "transport": url,
            "paths": ["/predict"],
            "prediction_key": "label",
        },
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
