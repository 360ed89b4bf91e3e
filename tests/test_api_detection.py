"""Detection through the API on both backends: run now, history, one run, monitor config."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import numpy as np
from fastapi.testclient import TestClient

from tests.helpers import FRAUD_MODEL, fraud_reference_csv


def _events(n: int, seed: int, shift: bool, when: datetime) -> list[dict[str, object]]:
    rng = np.random.default_rng(seed)
    countries = rng.choice(["DE", "FR", "US"], n, p=[0.1, 0.1, 0.8] if shift else None)
    return [
        {
            "event_id": str(uuid.uuid4()),
            "model": "fraud",
            "event_time": when.isoformat(),
            "features": {"amount": float(a), "country": str(c), "is_new": bool(b)},
            "prediction": str(int(a > 120)),
        }
        for a, c, b in zip(
            rng.normal(100 + (60 if shift else 0), 20, n),
            countries,
            rng.random(n) < 0.3,
            strict=True,
        )
    ]


def _setup(client: TestClient) -> None:
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
    upload = client.post("/v1/models/fraud/versions/1/reference", content=fraud_reference_csv())
    assert upload.status_code == 201, upload.text


def test_detect_flags_the_shifted_features(client: TestClient) -> None:
    _setup(client)
    now = datetime.now(UTC)
    assert (
        client.post("/v1/events", json=_events(600, 1, False, now - timedelta(hours=3))).json()[
            "accepted"
        ]
        == 600
    )
    client.post("/v1/events", json=_events(600, 2, True, now - timedelta(minutes=10)))
    run = client.post("/v1/models/fraud/detect", json={}).json()
    assert run["status"] == "ok" and run["n_events"] == 600 and run["path"] == "raw"
    assert set(run["drifted_features"]) == {"amount", "country"}
    assert run["dataset_drift"] is True  # amount is a key feature
    by_name = {f["feature"]: f for f in run["features"] if not f["is_prediction"]}
    assert by_name["amount"]["method"] == "wasserstein"  # 2000 reference rows
    assert by_name["is_new"]["drifted"] is False and by_name["amount"]["psi_level"] == "alert"
    assert any(f["is_prediction"] for f in run["features"])
    assert run["reference_hash"].startswith("sha256:")

    # A window over the older, normal traffic shows no drift.
    older = client.post(
        "/v1/models/fraud/detect",
        json={"window_end": (now - timedelta(hours=2)).isoformat(), "window_minutes": 120},
    ).json()
    assert older["n_events"] == 600 and older["drifted_features"] == []

    history = client.get("/v1/models/fraud/drift").json()
    assert history["latest"]["id"] == older["id"]
    assert [r["id"] for r in history["history"]] == [older["id"], run["id"]]
    drifted = client.get("/v1/models/fraud/drift", params={"drifted_only": "true"}).json()
    assert [r["id"] for r in drifted["history"]] == [run["id"]]
    assert client.get(f"/v1/runs/{run['id']}").json() == run


def test_insufficient_data_and_missing_reference(client: TestClient) -> None:
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
    missing = client.post("/v1/models/fraud/detect")
    assert missing.status_code == 404 and "upload one first" in missing.json()["detail"]
    client.post("/v1/models/fraud/versions/1/reference", content=fraud_reference_csv())
    client.post("/v1/events", json=_events(20, 3, True, datetime.now(UTC)))
    run = client.post("/v1/models/fraud/detect").json()
    assert run["status"] == "insufficient_data" and run["dataset_drift"] is None
    assert run["features"] == []
    assert client.get("/v1/runs/999999").status_code == 404


def test_monitor_config_changes_the_verdict(client: TestClient) -> None:
    _setup(client)
    default = client.get("/v1/models/fraud/versions/1/monitor").json()
    assert default["p_value"] == 0.05 and default["window"] == "PT1H"
    config = default | {
        "min_events": 10,
        "features": {"amount": {"method": "psi", "threshold": 1000}},
    }
    assert client.put("/v1/models/fraud/versions/1/monitor", json=config).status_code == 200
    client.post("/v1/events", json=_events(50, 4, True, datetime.now(UTC)))
    run = client.post("/v1/models/fraud/detect").json()
    amount = next(f for f in run["features"] if f["feature"] == "amount")
    assert run["status"] == "ok" and amount["method"] == "psi" and not amount["drifted"]
    bad = client.put("/v1/models/fraud/versions/1/monitor", json={"p_value": 2})
    assert bad.status_code == 422


def test_performance_on_labelled_events(client: TestClient) -> None:
    _setup(client)
    now = datetime.now(UTC)
    events = _events(400, 5, False, now - timedelta(minutes=5))
    for i, event in enumerate(events):
        event["score"] = 0.9 if event["prediction"] == "1" else 0.2
        event["prediction"] = "1" if i % 4 else "0"  # 3 of 4 predicted positive
    client.post("/v1/events", json=events)
    labels = [
        {"event_id": e["event_id"], "model": "fraud", "label": "1" if i % 2 else "0"}
        for i, e in enumerate(events[:200])
    ]  # half the events get a label
    assert client.post("/v1/labels", json=labels).json()["accepted"] == 200
    run = client.post("/v1/models/fraud/detect").json()
    perf = run["performance"]
    assert perf["label_coverage"] == 0.5 and perf["labelled_events"] == 200
    truth = [lab["label"] for lab in labels]
    predicted = [e["prediction"] for e in events[:200]]
    hits = sum(t == p for t, p in zip(truth, predicted, strict=True))
    assert perf["accuracy"] == hits / 200
    true_positive = sum(t == p == "1" for t, p in zip(truth, predicted, strict=True))
    assert perf["recall"] == true_positive / truth.count("1")
    assert perf["precision"] == true_positive / predicted.count("1")
    assert perf["roc_auc"] is not None and 0.0 <= perf["roc_auc"] <= 1.0


def test_segments_locate_the_drift(client: TestClient) -> None:
    _setup(client)
    config = client.get("/v1/models/fraud/versions/1/monitor").json()
    config |= {"segment_tags": ["region"], "max_segment_values": 2}
    assert client.put("/v1/models/fraud/versions/1/monitor", json=config).status_code == 200
    when = datetime.now(UTC) - timedelta(minutes=5)
    eu = _events(500, 6, True, when)
    us = _events(500, 7, False, when)
    other = _events(20, 8, False, when)
    for batch, region in ((eu, "eu"), (us, "us"), (other, "apac")):
        for event in batch:
            event["tags"] = {"region": region}
    client.post("/v1/events", json=eu + us + other)
    run = client.post("/v1/models/fraud/detect").json()
    assert set(run["segments"]) == {"region=eu", "region=us"}  # capped at the 2 largest
    assert run["segments"]["region=eu"]["dataset_drift"] is True
    assert set(run["segments"]["region=eu"]["drifted_features"]) == {"amount", "country"}
    assert run["segments"]["region=us"]["drifted_features"] == []
    assert run["segments"]["region=us"]["n_events"] == 500
    segment_rows = [f for f in run["features"] if f["segment"] == "region=eu"]
    assert {f["feature"] for f in segment_rows} == {"amount", "country", "is_new"}


def test_detect_takes_an_explicit_window_start(client: TestClient) -> None:
    _setup(client)
    start = datetime.now(UTC) - timedelta(minutes=3)
    client.post("/v1/events", json=_events(400, 2, True, start + timedelta(seconds=30)))
    end = datetime.now(UTC)
    run = client.post(
        "/v1/models/fraud/detect",
        json={"window_start": start.isoformat(), "window_end": end.isoformat()},
    )
    assert run.status_code == 201, run.text
    body = run.json()
    assert body["n_events"] == 400
    assert datetime.fromisoformat(body["window_start"]) == start
    naive = start.replace(tzinfo=None).isoformat()  # taken as UTC
    assert client.post("/v1/models/fraud/detect", json={"window_start": naive}).status_code == 201
    both = {"window_start": start.isoformat(), "window_minutes": 5}
    assert client.post("/v1/models/fraud/detect", json=both).status_code == 422
    late = {"window_start": (end + timedelta(hours=1)).isoformat(), "window_end": end.isoformat()}
    assert client.post("/v1/models/fraud/detect", json=late).status_code == 422
