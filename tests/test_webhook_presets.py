"""Each retraining preset against a loopback receiver, on SQLite and PostgreSQL: method, path,
query, headers and body exactly as the system documents them (URLs in the presets' modules),
with the alert's evidence in the system's parameters and a valid Standard Webhooks signature.
The expectations are written out by hand here, not computed by the code under test."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import pytest

from alerting.webhooks.dispatcher import dispatch_due
from driftline.core.storage import Database
from tests.support.receiver import Answer, Received, running_receiver
from tests.webhook_support import (
    attempts,
    delivery,
    hmac_ok,
    make_endpoint,
    queue,
    webhook_settings,
)

T0 = datetime(2026, 11, 21, 20, 30, 31, tzinfo=UTC)
REF = "sha256:" + "9f2c4e7a" * 8
FEATURES = [
    {"feature": "income", "method": "wasserstein", "statistic": 0.607, "p_value": None,
     "effect_size": None, "threshold": 0.1, "psi": 0.55},
    {"feature": "debt_ratio", "method": "wasserstein", "statistic": 0.212, "p_value": None,
     "effect_size": None, "threshold": 0.1, "psi": 0.31},
    {"feature": "employment", "method": "chi_square", "statistic": 48.2, "p_value": 0.0001,
     "effect_size": 0.18, "threshold": 0.05, "psi": 0.27},
]  # fmt: skip
LINKS: dict[str, str | None] = {
    "run": "https://driftline.example.com/v1/runs/128",
    "report": "https://driftline.example.com/v1/runs/128/report",
    "alerts": "https://driftline.example.com/v1/alerts?model=credit-scoring",
    "dashboard": None,
}
RUN = {
    "id": 128, "window_start": "2026-11-21T19:30:00Z", "window_end": "2026-11-21T20:30:00Z",
    "reference_hash": REF, "n_events": 1500, "drift_share": 0.43,
}  # fmt: skip
# A stored "driftline" message as alerting.notify renders it (docs/webhooks.md).
STORED = {
    "type": "alert.firing", "status": "firing", "group_key": "credit-scoring/dataset_drift",
    "model": "credit-scoring", "version": "3", "rule": "dataset_drift",
    "rule_kind": "drift_share", "severity": "warning", "run": RUN,
    "drifted_features": FEATURES, "alerts": [], "links": LINKS,
}  # fmt: skip


def flat(message_id: str) -> dict[str, str]:
    """The documented string parameters of STORED, upper-case spelling."""
    return {
        "DRIFTLINE_STATUS": "firing",
        "DRIFTLINE_MODEL": "credit-scoring",
        "DRIFTLINE_MODEL_VERSION": "3",
        "DRIFTLINE_RULE": "dataset_drift",
        "DRIFTLINE_SEVERITY": "warning",
        "DRIFTLINE_RUN_ID": "128",
        "DRIFTLINE_WINDOW_START": "2026-11-21T19:30:00Z",
        "DRIFTLINE_WINDOW_END": "2026-11-21T20:30:00Z",
        "DRIFTLINE_REFERENCE_HASH": REF,
        "DRIFTLINE_DRIFT_SHARE": "0.43",
        "DRIFTLINE_DRIFTED_COUNT": "3",
        "DRIFTLINE_DRIFTED_FEATURES": "income,debt_ratio,employment",
        "DRIFTLINE_FEATURES_JSON": json.dumps(FEATURES, separators=(",", ":")),
        "DRIFTLINE_RUN_URL": str(LINKS["run"]),
        "DRIFTLINE_REPORT_URL": str(LINKS["report"]),
        "DRIFTLINE_DASHBOARD_URL": "",
        "DRIFTLINE_WEBHOOK_ID": message_id,
    }


def nested(message_id: str) -> dict[str, Any]:
    """The documented JSON evidence (GitHub client_payload, Airflow conf)."""
    return {
        "status": "firing", "model": "credit-scoring", "version": "3",
        "rule": "dataset_drift", "severity": "warning", "run": RUN,
        "drifted_features": FEATURES, "drifted_count": 3, "links": LINKS,
        "webhook_id": message_id,
    }  # fmt: skip


def lower(parameters: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in parameters.items()}


def send_one(
    database: Database, database_url: str, preset: dict[str, Any], answer: Answer = Answer(200)
) -> tuple[Received, str, str]:
    """Create the preset endpoint, queue STORED, dispatch once: (request, webhook-id, secret)."""
    settings = webhook_settings(database_url)
    with running_receiver([answer]) as receiver:
        endpoint_id, secret = make_endpoint(database, settings, receiver.base_url, preset=preset)
        message_id = queue(database, endpoint_id, T0, json.dumps(STORED).encode())
        assert dispatch_due(database, settings, now=T0) == 1
    [request] = receiver.received
    assert request.method == "POST"
    assert request.headers["webhook-id"] == message_id
    assert request.headers["webhook-timestamp"] == str(int(T0.timestamp()))
    assert hmac_ok(secret, request.headers, request.body)  # signs the body actually sent
    return request, message_id, secret


def test_github_actions_repository_dispatch(database: Database, database_url: str) -> None:
    preset = {"system": "github_actions", "owner": "acme", "repo": "credit-model",
              "event_type": "retrain", "token": "ghp_secret"}  # fmt: skip
    request, message_id, _ = send_one(database, database_url, preset, Answer(204, body=b""))
    assert request.path == "/repos/acme/credit-model/dispatches"
    assert request.headers["accept"] == "application/vnd.github+json"
    assert request.headers["authorization"] == "Bearer ghp_secret"
    assert request.headers["x-github-api-version"] == "2022-11-28"
    assert request.headers["content-type"] == "application/json"
    body = json.loads(request.body)
    assert body == {"event_type": "retrain", "client_payload": nested(message_id)}
    assert len(body["client_payload"]) <= 10  # GitHub's limit on top-level properties
    assert delivery(database, message_id).status == "delivered"


def test_gitlab_pipeline_trigger(database: Database, database_url: str) -> None:
    preset = {"system": "gitlab_ci", "project": "ml/credit-model", "ref": "main",
              "token": "glptt-secret"}  # fmt: skip
    request, message_id, _ = send_one(database, database_url, preset, Answer(201))
    # The project's path is URL-encoded into one segment, as GitLab's :id wants.
    assert request.path == "/api/v4/projects/ml%2Fcredit-model/trigger/pipeline"
    assert request.headers["content-type"] == "application/json"
    assert "authorization" not in request.headers  # the trigger token is in the body
    body = json.loads(request.body)
    assert body == {"token": "glptt-secret", "ref": "main", "variables": flat(message_id)}
    assert all(isinstance(value, str) for value in body["variables"].values())


def test_jenkins_build_with_parameters(database: Database, database_url: str) -> None:
    preset = {"system": "jenkins", "job": "ml/retrain credit", "user": "driftline",
              "api_token": "11aa22bb", "job_token": "job-secret"}  # fmt: skip
    request, message_id, _ = send_one(database, database_url, preset, Answer(201))
    url = urlsplit(request.path)
    assert url.path == "/job/ml/job/retrain%20credit/buildWithParameters"
    assert parse_qsl(url.query) == [("token", "job-secret")]
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    pair = base64.b64decode(request.headers["authorization"].removeprefix("Basic "))
    assert pair == b"driftline:11aa22bb"
    assert dict(
        parse_qsl(request.body.decode(), keep_blank_values=True, strict_parsing=True)
    ) == flat(message_id)


def test_jenkins_with_the_job_token_only_sends_no_authorization(
    database: Database, database_url: str
) -> None:
    preset = {"system": "jenkins", "job": "retrain", "job_token": "t0k",
              "parameters": ["model", "run_id"]}  # fmt: skip
    request, _, _ = send_one(database, database_url, preset, Answer(201))
    assert request.path == "/job/retrain/buildWithParameters?token=t0k"
    assert "authorization" not in request.headers
    body = dict(parse_qsl(request.body.decode()))
    assert body == {"DRIFTLINE_MODEL": "credit-scoring", "DRIFTLINE_RUN_ID": "128"}


def test_airflow_dag_run(database: Database, database_url: str) -> None:
    preset = {"system": "airflow", "dag_id": "retrain_credit_scoring", "username": "driftline",
              "password": "pw"}  # fmt: skip
    request, message_id, _ = send_one(database, database_url, preset)
    assert request.path == "/api/v1/dags/retrain_credit_scoring/dagRuns"
    assert request.headers["authorization"] == "Basic " + base64.b64encode(b"driftline:pw").decode()
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.body) == {
        "dag_run_id": f"driftline_{message_id}",
        "conf": nested(message_id),
    }


def test_kubeflow_pipelines_create_run(database: Database, database_url: str) -> None:
    preset = {"system": "kubeflow", "pipeline_id": "5e1a6b2c-0d4f-4c1e-9a7b-3f2d1c0b9a88",
              "pipeline_version_id": "0b7c8d9e-1f20-4a3b-8c5d-6e7f8a9b0c1d",
              "experiment_id": "7d3e2f1a-aaaa-4bbb-8ccc-123456789abc",
              "token": "kfp-token"}  # fmt: skip
    request, message_id, _ = send_one(database, database_url, preset)
    assert request.path == "/apis/v2beta1/runs"
    assert request.headers["authorization"] == "Bearer kfp-token"
    assert json.loads(request.body) == {
        "display_name": "Driftline dataset_drift: credit-scoring version 3",
        "description": f"Started by Driftline, webhook-id {message_id}",
        "pipeline_version_reference": {
            "pipeline_id": "5e1a6b2c-0d4f-4c1e-9a7b-3f2d1c0b9a88",
            "pipeline_version_id": "0b7c8d9e-1f20-4a3b-8c5d-6e7f8a9b0c1d",
        },
        "runtime_config": {"parameters": lower(flat(message_id))},
        "experiment_id": "7d3e2f1a-aaaa-4bbb-8ccc-123456789abc",
    }


def test_argo_submit_from_workflow_template(database: Database, database_url: str) -> None:
    preset = {"system": "argo_workflows", "namespace": "ml", "template": "retrain",
              "token": "argo-token",
              "parameters": ["model", "window_end", "webhook_id"]}  # fmt: skip
    request, message_id, _ = send_one(database, database_url, preset)
    assert request.path == "/api/v1/workflows/ml/submit"
    assert request.headers["authorization"] == "Bearer argo-token"
    assert json.loads(request.body) == {
        "namespace": "ml",
        "resourceKind": "WorkflowTemplate",
        "resourceName": "retrain",
        "submitOptions": {
            "name": "retrain-" + message_id.removeprefix("msg_")[:16],
            "labels": f"driftline/webhook-id={message_id}",
            "parameters": [
                "driftline_model=credit-scoring",
                "driftline_window_end=2026-11-21T20:30:00Z",
                f"driftline_webhook_id={message_id}",
            ],
        },
    }


@pytest.mark.parametrize(
    "preset",
    [
        {"system": "airflow", "dag_id": "retrain", "token": "t"},
        {"system": "argo_workflows", "namespace": "ml", "template": "retrain"},
    ],
    ids=["airflow", "argo"],
)
def test_409_for_a_run_id_derived_from_the_webhook_id_counts_as_delivered(
    database: Database, database_url: str, preset: dict[str, Any]
) -> None:
    # An earlier attempt created the run but its answer was lost: the retry's 409 means done.
    answer = Answer(409, body=b'{"title": "DAGRun already exists"}')
    _, message_id, _ = send_one(database, database_url, preset, answer)
    assert delivery(database, message_id).status == "delivered"
    [attempt] = attempts(database, message_id)
    assert attempt.status_code == 409 and "exists already" in (attempt.error or "")


def test_409_is_a_failure_where_the_run_id_is_not_ours(
    database: Database, database_url: str
) -> None:
    preset = {"system": "kubeflow", "pipeline_id": "p1"}
    _, message_id, _ = send_one(database, database_url, preset, Answer(409))
    assert delivery(database, message_id).status == "pending"  # retried later
