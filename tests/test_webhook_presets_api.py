"""Presets through ``/v1/webhooks`` and the alerting flow, on both backends: 422 naming the
field for bad options, credentials write-only and encrypted (never in answers, the outbox or
the clear columns), firing-only by default, the retraining guardrail per endpoint, and the
test message going through the preset."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting.evaluate import evaluate_runs
from alerting.notify import flush_due
from alerting.webhooks.dispatcher import dispatch_due
from driftline.core.settings import Settings
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from tests.alerting_support import T0, add_model, add_run, deliveries
from tests.support.receiver import running_receiver
from tests.webhook_support import hmac_ok, make_endpoint, webhook_settings

GITLAB = {"system": "gitlab_ci", "project": "42", "ref": "main", "token": "glptt-s3cr3t"}
GITHUB = {"system": "github_actions", "owner": "o", "repo": "r", "token": "ghp_x"}


@pytest.fixture
def settings(database_url: str) -> Settings:
    # Overrides conftest's: loopback receivers allowed, a fixed key (no key file written).
    return webhook_settings(database_url)


def _post(client: TestClient, **fields: Any) -> Any:
    return client.post("/v1/webhooks", json={"url": "http://127.0.0.1:9", **fields})


def _fields(response: Any) -> list[str]:
    """The fields a 422 names: ours (problems) or every part of FastAPI's locations."""
    assert response.status_code == 422, response.text
    body = response.json()
    if "problems" in body:
        return [p["field"] for p in body["problems"]]
    return [str(part) for error in body["detail"] for part in error["loc"]]


BAD = [
    ({"system": "github_actions", "repo": "r", "token": "x"}, "owner"),
    ({"system": "github_actions", "owner": "o", "repo": "..", "token": "x"}, "repo"),
    ({"system": "github_actions", "owner": "o", "repo": "r", "token": "a\nb"}, "token"),
    ({"system": "gitlab_ci", "project": "1", "ref": "main"}, "token"),
    ({**GITLAB, "parameters": ["model", "password"]}, "parameters"),
    ({"system": "jenkins", "job": "retrain"}, "jenkins"),
    ({"system": "jenkins", "job": "a/../b", "job_token": "t"}, "job"),
    ({"system": "airflow", "dag_id": "d", "username": "u"}, "airflow"),
    ({"system": "kubeflow"}, "pipeline_id"),
    ({"system": "argo_workflows", "namespace": "ML_team", "template": "t"}, "namespace"),
    ({"system": "circleci"}, "preset"),
]


@pytest.mark.parametrize(("preset", "field"), BAD, ids=[f for _, f in BAD])
def test_bad_preset_options_are_422_naming_the_field(
    client: TestClient, preset: dict[str, Any], field: str
) -> None:
    assert field in _fields(_post(client, preset=preset))
    assert client.get("/v1/webhooks").json() == []


@pytest.mark.parametrize(
    ("url", "preset"),
    [
        ("https://github.com", GITHUB),
        ("http://127.0.0.1:9/repos/o/r/dispatches", GITHUB),
        ("http://127.0.0.1:9/api/v4/projects/42/trigger/pipeline", GITLAB),
        ("http://127.0.0.1:9/?private_token=x", GITLAB),
    ],
)
def test_a_url_that_does_not_fit_the_preset_is_422_naming_url(
    client: TestClient, url: str, preset: dict[str, Any]
) -> None:
    assert _fields(_post(client, url=url, preset=preset)) == ["url"]


def test_a_preset_needs_the_driftline_format(client: TestClient) -> None:
    refused = _post(client, preset=GITLAB, payload_format="alertmanager")
    assert _fields(refused) == ["payload_format"]
    created = _post(client, preset=GITLAB).json()
    patched = client.patch(f"/v1/webhooks/{created['id']}", json={"payload_format": "alertmanager"})
    assert _fields(patched) == ["payload_format"]


def test_credentials_are_write_only_and_encrypted(
    client: TestClient, database: Database, settings: Settings
) -> None:
    created = _post(client, preset=GITLAB)
    assert created.status_code == 201, created.text
    record = created.json()
    assert record["preset"] == {
        "system": "gitlab_ci",
        "project": "42",
        "ref": "main",
        "parameters": None,
    }
    assert record["preset_secret_names"] == ["token"]
    assert record["events"] == ["firing"]  # retraining starts on drift, not on its end
    answers = [created.text, client.get("/v1/webhooks").text]
    answers.append(client.get(f"/v1/webhooks/{record['id']}").text)
    with running_receiver() as receiver:
        url = {"url": receiver.base_url}
        client.patch(f"/v1/webhooks/{record['id']}", json=url).raise_for_status()
        test = client.post(f"/v1/webhooks/{record['id']}/test")
        assert dispatch_due(database, settings) == 1
        answers.append(client.get(f"/v1/webhooks/{record['id']}/deliveries").text)
    assert json.loads(receiver.received[0].body)["token"] == "glptt-s3cr3t"  # sent, but...
    assert not any("glptt-s3cr3t" in text for text in [test.text, *answers])
    with database.read() as session:
        row = session.get(t.WebhookEndpoint, record["id"])
        assert row is not None and row.preset_secrets_encrypted is not None
        stored = [json.dumps(row.preset).encode(), row.preset_secrets_encrypted]
        stored += list(session.scalars(select(t.WebhookDelivery.body)))
    assert not any(b"glptt-s3cr3t" in blob for blob in stored)


def test_patch_replaces_or_removes_the_preset(client: TestClient) -> None:
    record = _post(client, preset=GITLAB).json()
    path = f"/v1/webhooks/{record['id']}"
    moved = client.patch(path, json={"url": "http://127.0.0.1:9/api/v4/x"})
    assert _fields(moved) == ["url"]
    jenkins = {"system": "jenkins", "job": "retrain", "job_token": "t"}
    changed = client.patch(path, json={"preset": jenkins}).json()
    assert changed["preset"]["system"] == "jenkins"
    assert changed["preset_secret_names"] == ["job_token"]
    removed = client.patch(path, json={"preset": None}).json()
    assert (removed["preset"], removed["preset_secret_names"]) == (None, [])


def test_the_test_message_goes_through_the_preset(
    client: TestClient, database: Database, settings: Settings
) -> None:
    preset = {"system": "github_actions", "owner": "acme", "repo": "model", "token": "ghp_x"}
    with running_receiver() as receiver:
        created = client.post("/v1/webhooks", json={"url": receiver.base_url, "preset": preset})
        endpoint = created.json()
        client.post(f"/v1/webhooks/{endpoint['id']}/test").raise_for_status()
        assert dispatch_due(database, settings) == 1
    [request] = receiver.received
    assert request.path == "/repos/acme/model/dispatches"
    assert hmac_ok(endpoint["secret"], request.headers, request.body)
    payload = json.loads(request.body)["client_payload"]
    assert (payload["status"], payload["model"], payload["run"]) == ("test", None, None)


def test_drift_alerts_trigger_once_within_the_guardrail_and_never_on_resolve(
    database: Database, settings: Settings
) -> None:
    model_id = add_model(database, key=True)  # two rules fire: dataset and key feature drift
    preset = {"system": "github_actions", "owner": "acme", "repo": "churn", "token": "ghp_x"}
    with running_receiver() as receiver:
        _, secret = make_endpoint(database, settings, receiver.base_url, preset=preset)
        now = T0
        for drifted in [True] * 4 + [False] * 3:
            add_run(database, model_id, drifted, now)
            evaluate_runs(database, settings.alerting, now)
            flush_due(database, settings, now)
            now += timedelta(minutes=5)
        flush_due(database, settings, now + timedelta(hours=1))  # the resolved notifications
        assert dispatch_due(database, settings, now=now) == 1
    events = sorted((event, status) for _, event, status in deliveries(database))
    # One firing group is sent, the other suppressed by the 6 h guardrail; no resolved ones.
    assert events == [("firing", "delivered"), ("firing", "suppressed")]
    [request] = receiver.received
    assert request.path == "/repos/acme/churn/dispatches"
    assert hmac_ok(secret, request.headers, request.body)
    payload = json.loads(request.body)["client_payload"]
    assert (payload["status"], payload["model"], payload["version"]) == ("firing", "churn", "v1")
    assert [f["feature"] for f in payload["drifted_features"]] == ["a"]
    assert payload["run"]["reference_hash"] == "sha256:" + "0" * 64
    assert payload["links"]["report"].endswith(f"/v1/runs/{payload['run']['id']}/report")
