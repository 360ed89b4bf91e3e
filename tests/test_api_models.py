"""Model registry API on both backends."""

from __future__ import annotations

from fastapi.testclient import TestClient

from tests.helpers import FRAUD_MODEL, prediction


def test_register_list_get(client: TestClient) -> None:
    created = client.post("/v1/models", json=FRAUD_MODEL)
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["prediction_type"] == "categorical" and body["label_type"] == "categorical"
    assert [v["version"] for v in body["versions"]] == ["1"]
    assert [m["name"] for m in client.get("/v1/models").json()] == ["fraud"]
    assert client.get("/v1/models/fraud").json()["features"][0]["key"] is True


def test_register_twice_conflicts(client: TestClient) -> None:
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
    again = client.post("/v1/models", json=FRAUD_MODEL)
    assert again.status_code == 409
    assert "already registered" in again.json()["detail"]


def test_bad_registration_names_the_field(client: TestClient) -> None:
    bad = {
        **FRAUD_MODEL,
        "features": [{"name": "9lives", "type": "numeric"}, {"name": "x", "type": "colour"}],
    }
    response = client.post("/v1/models", json=bad)
    assert response.status_code == 422
    locations = {tuple(e["loc"]) for e in response.json()["detail"]}
    assert ("body", "features", 0, "name") in locations
    assert ("body", "features", 1, "type") in locations


def test_unknown_model_is_404(client: TestClient) -> None:
    response = client.get("/v1/models/nope")
    assert response.status_code == 404
    assert response.json() == {"detail": "model 'nope' is not registered"}


def test_update_adds_features_but_refuses_type_change(client: TestClient) -> None:
    client.post("/v1/models", json=FRAUD_MODEL)
    added = FRAUD_MODEL["features"] + [{"name": "channel", "type": "categorical"}]
    ok = client.patch("/v1/models/fraud", json={"features": added, "description": "v2 schema"})
    assert ok.status_code == 200
    assert ok.json()["description"] == "v2 schema" and len(ok.json()["features"]) == 4
    changed = [{**f, "type": "categorical"} if f["name"] == "amount" else f for f in added]
    refused = client.patch("/v1/models/fraud", json={"features": changed[1:]})
    assert refused.status_code == 422
    problems = {p["field"]: p["reason"] for p in refused.json()["problems"]}
    assert "removed" in problems["features.amount"]


def test_delete_refuses_while_data_exist_unless_forced(client: TestClient) -> None:
    client.post("/v1/models", json=FRAUD_MODEL)
    client.post("/v1/events", json={"events": [prediction(1)]})
    refused = client.delete("/v1/models/fraud")
    assert refused.status_code == 409
    assert "1 events" in refused.json()["detail"]
    assert client.delete("/v1/models/fraud", params={"force": "true"}).status_code == 204
    assert client.get("/v1/models/fraud").status_code == 404
    # Its events went with it: registering again starts empty.
    client.post("/v1/models", json=FRAUD_MODEL)
    assert client.get("/v1/models/fraud/events").json()["events"] == []


def test_versions(client: TestClient) -> None:
    client.post("/v1/models", json=FRAUD_MODEL)
    assert client.post("/v1/models/fraud/versions", json={"version": "2"}).status_code == 201
    assert client.post("/v1/models/fraud/versions", json={"version": "2"}).status_code == 409
    assert [v["version"] for v in client.get("/v1/models/fraud/versions").json()] == ["1", "2"]
