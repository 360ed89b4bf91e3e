"""KServe / Seldon payload logs at ``POST /v1/ingest/cloudevents``, on both backends.

The payloads are the shapes recorded from each project's documentation
(``tests/fixtures/kserve``): if Driftline's reading of them drifts, these tests fail.
"""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.inference_logs.cloudevent import parse_http
from driftline.inference_logs.pairing import prune
from driftline.inference_logs.receive import receive
from tests.support.keys import add_key

FIXTURES = Path(__file__).parent / "fixtures" / "kserve"
IRIS = ["sepal_length", "sepal_width", "petal_length", "petal_width"]
URL = "/v1/ingest/cloudevents"


def recorded(name: str) -> tuple[dict[str, str], bytes]:
    loaded = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded["headers"], json.dumps(loaded["body"]).encode()


def post(client: TestClient, name: str, **kwargs: Any) -> Any:
    headers, body = recorded(name)
    return client.post(URL, content=body, headers=headers | kwargs.pop("headers", {}), **kwargs)


def register(client: TestClient, name: str, features: list[str], task: str) -> None:
    spec = {
        "name": name,
        "task": task,
        "features": [{"name": f, "type": "numeric"} for f in features],
    }
    assert client.post("/v1/models", json=spec).status_code == 201


def events_of(client: TestClient, model: str) -> dict[str, dict[str, Any]]:
    page = client.get(f"/v1/models/{model}/events", params={"limit": 100}).json()
    return {e["event_id"]: e for e in page["events"]}


def test_kserve_v1_logger_pair_becomes_two_events(client: TestClient) -> None:
    register(client, "sklearn-iris", IRIS, "multiclass_classification")
    first = post(client, "v1-request")
    assert first.status_code == 200, first.text
    assert first.json()["results"][0]["status"] == "pending"
    assert events_of(client, "sklearn-iris") == {}
    second = post(client, "v1-response").json()["results"][0]
    assert (second["status"], second["accepted"], second["model"]) == ("stored", 2, "sklearn-iris")
    stored = events_of(client, "sklearn-iris")
    request_id = "0009174a-24a8-4603-b098-09c8799950e9"
    assert set(stored) == {f"{request_id}:0", f"{request_id}:1"}
    event = stored[f"{request_id}:0"]
    assert event["features"] == dict(zip(IRIS, [6.8, 2.8, 4.8, 1.4], strict=True))
    assert event["prediction"] == "1"  # the model's categorical prediction type
    assert event["event_time"].startswith("2021-04-10T00:23:26.078952")  # the request's ce-time
    assert event["tags"] == {"component": "predictor"}
    # The logger re-sends a half: recognised, nothing stored twice.
    again = post(client, "v1-response").json()["results"][0]
    assert again["status"] == "duplicate"
    assert len(events_of(client, "sklearn-iris")) == 2


def test_v2_response_first_with_a_mapping(client: TestClient) -> None:
    register(client, "iris", ["sl", "sw", "pl", "pw"], "multiclass_classification")
    mapping = {
        "service": "sklearn-v2-iris",
        "inputs": {"input-0": ["sl", "sw", "pl", "pw"]},
        "output": "predict",
        "version": "1",
    }
    assert client.put("/v1/models/iris/inference-logging", json=mapping).status_code == 200
    assert post(client, "v2-response").json()["results"][0]["status"] == "pending"
    done = post(client, "v2-request").json()["results"][0]
    assert (done["status"], done["accepted"], done["model"]) == ("stored", 2, "iris")
    stored = events_of(client, "iris")
    assert stored["823248cc-d770-4a51-9606-16803395569c:1"]["features"] == {
        "sl": 6.0,
        "sw": 3.4,
        "pl": 4.5,
        "pw": 1.6,
    }
    assert {e["prediction"] for e in stored.values()} == {"1"}


def test_seldon_halves_pair_by_request_id(client: TestClient) -> None:
    register(client, "seldon-model", ["a", "b"], "regression")
    assert post(client, "seldon-request").json()["results"][0]["status"] == "pending"
    done = post(client, "seldon-response").json()["results"][0]
    assert (done["status"], done["accepted"]) == ("stored", 2)
    stored = events_of(client, "seldon-model")
    rid = "a8ea9850-7102-42c7-80d0-a6c26f1d8159"
    assert stored[f"{rid}:0"]["features"] == {"a": 1, "b": 2}
    assert stored[f"{rid}:1"]["prediction"] == 6
    assert stored[f"{rid}:0"]["tags"] == {"endpoint": "example"}


def _structured(name: str) -> dict[str, Any]:
    headers, body = recorded(name)
    event: dict[str, Any] = {
        k.lower()[3:]: v for k, v in headers.items() if k.lower().startswith("ce-")
    }
    event |= {"datacontenttype": "application/json", "data": json.loads(body)}
    return event


def test_structured_and_batched_modes(client: TestClient) -> None:
    register(client, "sklearn-iris", IRIS, "multiclass_classification")
    one = client.post(
        URL,
        json=_structured("v1-request"),
        headers={"Content-Type": "application/cloudevents+json"},
    )
    assert one.json()["results"][0]["status"] == "pending"
    response = _structured("v1-response")
    response["data_base64"] = base64.b64encode(json.dumps(response.pop("data")).encode()).decode()
    batch = client.post(
        URL,
        content=json.dumps([response]),
        headers={"Content-Type": "application/cloudevents-batch+json"},
    )
    assert [r["status"] for r in batch.json()["results"]] == ["stored"]
    assert len(events_of(client, "sklearn-iris")) == 2


def test_events_that_are_not_payload_logs_are_refused(client: TestClient) -> None:
    register(client, "sklearn-iris", IRIS, "multiclass_classification")
    wrong_type = post(client, "v1-request", headers={"Ce-Type": "io.seldon.serving.feedback"})
    assert wrong_type.status_code == 422 and wrong_type.json()["problems"][0]["field"] == "type"
    headers, body = recorded("v1-request")
    del headers["Ce-Specversion"]
    missing = client.post(URL, content=body, headers=headers)
    assert missing.status_code == 422
    assert missing.json()["problems"][0]["field"] == "specversion"
    unknown = post(client, "v1-request", headers={"Ce-Inferenceservicename": "nobody"})
    assert unknown.status_code == 404 and "inference-logging" in unknown.json()["detail"]


def test_unreadable_pair_goes_to_dead_letters(client: TestClient, database: Database) -> None:
    register(client, "sklearn-iris", IRIS, "multiclass_classification")
    headers, _ = recorded("v1-response")
    assert post(client, "v1-request").json()["results"][0]["status"] == "pending"
    three = json.dumps({"predictions": [1, 1, 2]}).encode()
    failed = client.post(URL, content=three, headers=headers).json()["results"][0]
    assert failed["status"] == "failed" and "2 instances" in failed["reason"]
    with database.read() as session:
        letter = session.scalars(select(t.DeadLetter)).one()
    assert (letter.source, letter.model) == ("cloudevents", "sklearn-iris")
    assert b"6.8" in letter.payload and "2 instances" in letter.reason


def test_keys_basic_auth_and_model_restriction(client: TestClient, database: Database) -> None:
    register(client, "sklearn-iris", IRIS, "multiclass_classification")
    register(client, "other", ["x"], "regression")
    headers, body = recorded("v1-request")
    bare = {k: v for k, v in client.headers.items() if k.lower() != "authorization"}
    key = add_key(database, "ingest", models=["sklearn-iris"])
    # KServe's logger takes only a URL: http://driftline:KEY@host/... sends HTTP Basic.
    basic = "Basic " + base64.b64encode(f"driftline:{key}".encode()).decode()
    ok = client.post(URL, content=body, headers=bare | headers | {"Authorization": basic})
    assert ok.status_code == 200, ok.text
    assert (
        client.post(URL, content=body, headers=headers | {"Authorization": ""}).status_code == 401
    )
    foreign = add_key(database, "ingest", models=["other"])
    refused = client.post(
        URL, content=body, headers=headers | {"Authorization": f"Bearer {foreign}"}
    )
    assert refused.status_code == 403


def test_halves_arriving_at_once_always_pair(client: TestClient, database: Database) -> None:
    register(client, "sklearn-iris", IRIS, "multiclass_classification")
    halves = [recorded("v1-request"), recorded("v1-response")]
    statuses: list[str] = []
    for n in range(15):
        barrier = threading.Barrier(2)

        def send(
            headers: dict[str, str], body: bytes, n: int = n, barrier: threading.Barrier = barrier
        ) -> None:
            event = parse_http(
                {k.lower(): v for k, v in headers.items()} | {"ce-id": f"r{n}"}, body
            )
            barrier.wait()
            statuses.append(receive(database, event[0], lambda _: True).status)

        threads = [threading.Thread(target=send, args=half) for half in halves]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert sorted(statuses) == ["pending"] * 15 + ["stored"] * 15
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(t.PredictionEvent)) == 30
        waiting = select(func.count()).select_from(t.InferenceLogPending)
        assert session.scalar(waiting.where(t.InferenceLogPending.completed_at.is_(None))) == 0


def test_prune_drops_expired_rows_and_counts_lost_halves(
    client: TestClient, database: Database
) -> None:
    register(client, "sklearn-iris", IRIS, "multiclass_classification")
    post(client, "v1-request")
    later = datetime.now(UTC) + timedelta(days=2)
    with database.write() as session:
        assert prune(session, datetime.now(UTC), 86_400) == (0, 0)
        assert prune(session, later, 86_400) == (1, 1)


def test_mapping_api(client: TestClient) -> None:
    register(client, "iris", IRIS, "multiclass_classification")
    register(client, "iris2", IRIS, "multiclass_classification")
    assert client.get("/v1/models/iris/inference-logging").status_code == 404
    put = client.put(
        "/v1/models/iris/inference-logging",
        json={"service": "svc", "namespace": "prod", "classes": ["a", "b", "c"]},
    )
    assert put.status_code == 200 and put.json()["model"] == "iris"
    taken = client.put(
        "/v1/models/iris2/inference-logging", json={"service": "svc", "namespace": "prod"}
    )
    assert taken.status_code == 409
    bad = client.put("/v1/models/iris/inference-logging", json={"service": "svc", "colour": 1})
    assert bad.status_code == 422
    assert client.get("/v1/models/iris/inference-logging").json()["classes"] == ["a", "b", "c"]
    assert client.delete("/v1/models/iris/inference-logging").status_code == 204
    assert client.get("/v1/models/iris/inference-logging").status_code == 404
