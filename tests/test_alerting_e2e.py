"""End to end through a real `driftline up`: drifted traffic → detection run → alert fires →
a signed webhook reaches a loopback receiver, and the signature verifies with plain hmac."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from tests.support.receiver import Receiver, running_receiver
from tests.support.service import LiveService, start_service

MODEL = {
    "name": "credit",
    "task": "binary_classification",
    "features": [
        {"name": "income", "type": "numeric", "key": True},
        {"name": "age", "type": "numeric"},
        {"name": "region", "type": "categorical"},
    ],
}


@pytest.fixture
def service(tmp_path: Path) -> Iterator[LiveService]:
    live = start_service(
        tmp_path,
        env={
            "DRIFTLINE_ALERTING__EVALUATE_SECONDS": "0.5",
            "DRIFTLINE_ALERTING__GROUP_WAIT_S": "0",
            "DRIFTLINE_WEBHOOKS__ALLOWED_HOSTS": "127.0.0.1",
        },
    )
    yield live
    live.stop()


def _events(rng: np.random.Generator, n: int, shift: float) -> list[dict[str, object]]:
    income = rng.normal(50_000 * (1 + shift), 10_000, n)
    age = rng.normal(40, 10, n)
    regions = rng.choice(["north", "south", "east"], n)
    return [
        {
            "event_id": str(uuid.uuid4()),
            "model": "credit",
            "features": {"income": float(i), "age": float(a), "region": str(r)},
            "prediction": "1",
        }
        for i, a, r in zip(income, age, regions, strict=True)
    ]


def _verify(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """Standard Webhooks, written here independently of Driftline's code."""
    key = base64.b64decode(secret.removeprefix("whsec_"))
    content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
    expected = base64.b64encode(hmac.new(key, content, hashlib.sha256).digest()).decode()
    return any(
        hmac.compare_digest(sig.split(",", 1)[1], expected)
        for sig in headers["webhook-signature"].split()
    )


def test_drift_fires_an_alert_and_a_signed_webhook_arrives(service: LiveService) -> None:
    http = httpx.Client(base_url=service.url, headers=service.headers, timeout=30)
    assert http.post("/v1/models", json=MODEL).status_code == 201
    rng = np.random.default_rng(7)
    reference = _events(rng, 2000, 0.0)
    csv = io.StringIO()
    csv.write("income,age,region\n")
    for event in reference:
        f = event["features"]
        assert isinstance(f, dict)
        csv.write(f"{f['income']},{f['age']},{f['region']}\n")
    uploaded = http.post(
        "/v1/models/credit/versions/1/reference", files={"file": ("ref.csv", csv.getvalue())}
    )
    assert uploaded.status_code == 201, uploaded.text
    rule = {"name": "dataset_drift", "kind": "drift_share", "for_runs": 1, "of_runs": 1}
    assert http.put("/v1/models/credit/alert-rules/dataset_drift", json=rule).status_code == 200
    receiver: Receiver
    with running_receiver() as receiver:
        created = http.post("/v1/webhooks", json={"url": receiver.url, "name": "retrain"})
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        stored = http.post("/v1/events", json={"events": _events(rng, 1000, 0.5)})
        assert stored.status_code in (200, 201, 207), stored.text
        run = http.post("/v1/models/credit/detect").json()
        assert "income" in run["drifted_features"]
        deadline = time.monotonic() + 30
        while not receiver.received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert receiver.received, f"no webhook arrived:\n{service.output()}"
        message = receiver.received[0]
    assert _verify(secret, message.headers, message.body)
    payload = json.loads(message.body)
    assert payload["status"] == "firing" and payload["model"] == "credit"
    assert payload["run"]["id"] == run["id"]
    assert "income" in [f["feature"] for f in payload["drifted_features"]]
    alerts = http.get("/v1/alerts", params={"model": "credit", "state": "firing"}).json()
    assert "dataset_drift" in [a["rule"] for a in alerts]
