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
