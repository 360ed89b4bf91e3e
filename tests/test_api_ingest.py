"""Ingest API on both backends: batches, bad input, duplicates, read-back."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from tests.helpers import FRAUD_MODEL, prediction


def _setup(client: TestClient) -> None:
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201


def test_ten_thousand_events_in_one_request_and_read_back(client: TestClient) -> None:
    _setup(client)
    events = [prediction(i) for i in range(10_000)]
    report = client.post("/v1/events", json={"events": events}).json()
    assert report["accepted"] == 10_000 and report["rejected"] == 0
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 1000} | ({"before": cursor} if cursor else {})
        page = client.get("/v1/models/fraud/events", params=params).json()
        seen += [e["event_id"] for e in page["events"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(e["event_id"] for e in events)


def test_three_malformed_among_a_thousand(client: TestClient) -> None:
    _setup(client)
    events: list[object] = [prediction(i) for i in range(997)]
    events.insert(10, {"model": "fraud", "features": {}, "prediction": "1"})  # no event_id
    events.insert(500, "not an object")
    events.insert(
        900, prediction(0, event_time=(datetime.now(UTC) + timedelta(days=8)).isoformat())
    )
    report = client.post("/v1/events", json={"events": events}).json()
    assert (report["accepted"], report["rejected"], report["duplicate"]) == (997, 3, 0)
    reasons = {e["index"]: (e["field"], e["reason"]) for e in report["errors"]}
    assert reasons[10][0] == "event_id" and "required" in reasons[10][1]
    assert reasons[500] == ("$", "$: an event must be a JSON object")
    assert reasons[900][0] == "event_time" and "7 days in the future" in reasons[900][1]
    # Re-sending the batch stores nothing new.
    again = client.post("/v1/events", json={"events": events}).json()
    assert (again["accepted"], again["duplicate"], again["rejected"]) == (0, 997, 3)
    total = client.get("/v1/models/fraud/events", params={"limit": 1000}).json()["events"]
    assert len(total) == 997


def test_limits_reject_the_event_not_the_batch(client: TestClient) -> None:
    _setup(client)
    too_many = {f"f{i}": 1.0 for i in range(1001)}
    events = [
        prediction(0, features={"amount": "x" * 2000}),
        prediction(1, features=too_many),
        prediction(2, features={"bad name!": 1}),
        prediction(3, features={"blob": "y" * 1000, **{f"f{i}": "z" * 900 for i in range(80)}}),
        prediction(4, features={"amount": "\u0000"}),
        prediction(5),
    ]
    report = client.post("/v1/events", json=events).json()
    assert report["accepted"] == 1
    reasons = [e["reason"] for e in report["errors"]]
    assert "longer than 1024 bytes" in reasons[0]
    assert "at most 1000" in reasons[1]
    assert "does not match" in reasons[2]
    assert "at most 65536" in reasons[3]
    assert "NUL" in reasons[4]


def test_bad_values_stored_as_violations(client: TestClient) -> None:
    _setup(client)
    event = prediction(0, features={"amount": "n/a", "country": "DE", "surprise": [1, 2]})
    body = json.dumps({"events": [event]}).replace('"n/a"', "NaN")
    report = client.post("/v1/events", content=body).json()
    assert report["accepted"] == 1 and report["type_violations"] == 0  # NaN is just missing
    stored = client.get("/v1/models/fraud/events").json()["events"][0]
    assert stored["features"] == {"amount": None, "country": "DE"}
    assert stored["extra_features"] == {"surprise": None}


def test_labels_join_and_resend_once(client: TestClient) -> None:
    _setup(client)
    events = [prediction(i) for i in range(3)]
    client.post("/v1/events", json={"events": events})
    labels = [{"event_id": e["event_id"], "model": "fraud", "label": "1"} for e in events]
    labels.append({"event_id": "x1", "model": "fraud", "label": 3.5})
    report = client.post("/v1/labels", json={"labels": labels}).json()
    assert (report["accepted"], report["rejected"]) == (3, 1)
    assert "label type is categorical" in report["errors"][0]["reason"] or report["errors"]
    again = client.post("/v1/labels", json={"labels": labels[:3]}).json()
    assert again["duplicate"] == 3
    stored = client.get("/v1/models/fraud/events").json()["events"]
    assert {e["label"] for e in stored} == {"1"}


def test_unknown_model_and_bad_body(client: TestClient) -> None:
    _setup(client)
    report = client.post("/v1/events", json={"events": [prediction(0, model="ghost")]}).json()
    assert report["errors"][0]["reason"] == "model 'ghost' is not registered"
    not_json = client.post("/v1/events", content=b"{nope")
    assert not_json.status_code == 422 and not_json.json()["problems"][0]["field"] == "$"
    wrong_shape = client.post("/v1/events", json={"event": []})
    assert wrong_shape.status_code == 422
    deep = client.post("/v1/events", content=b"[" * 100_000 + b"]" * 100_000)
    assert deep.status_code == 422


def test_batch_and_body_limits(client: TestClient) -> None:
    _setup(client)
    client.app.state.settings.ingest.max_batch_events = 5  # type: ignore[attr-defined]
    response = client.post("/v1/events", json=[prediction(i) for i in range(6)])
    assert response.status_code == 413
    assert "at most 5 per request" in response.json()["problems"][0]["reason"]
    client.app.state.settings.ingest.max_batch_events = 100  # type: ignore[attr-defined]
    client.app.state.settings.ingest.max_request_bytes = 2048  # type: ignore[attr-defined]
    big = json.dumps([prediction(i) for i in range(50)]).encode()
    assert client.post("/v1/events", content=big).status_code == 413

    def chunks():  # no Content-Length: the cap must hold while streaming
        for i in range(0, len(big), 512):
            yield big[i : i + 512]

    assert client.post("/v1/events", content=chunks()).status_code == 413


def test_event_schema_endpoint_matches_committed_file(client: TestClient) -> None:
    from pathlib import Path

    committed = json.loads((Path(__file__).parents[1] / "docs/event-schema.v1.json").read_text())
    assert client.get("/v1/schema/events").json() == committed
