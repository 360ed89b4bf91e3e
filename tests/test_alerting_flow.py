"""Alert lifecycle on stored runs, grouping into notifications, silences, inhibition and the
retraining guardrail, on SQLite and PostgreSQL, with a controllable clock."""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from alerting.evaluate import evaluate_no_data, evaluate_runs
from alerting.notify import flush_due
from driftline.core.settings import Settings
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from tests.alerting_support import T0, add_endpoint, add_model, add_run, deliveries

STEP = timedelta(minutes=5)


def cycle(
    database: Database, settings: Settings, model_id: int, drifted: bool, now: datetime
) -> None:
    add_run(database, model_id, drifted, now)
    evaluate_runs(database, settings.alerting, now)
    flush_due(database, settings, now)


def states(database: Database) -> dict[str, str]:
    with database.read() as session:
        rows = session.execute(
            select(t.AlertRule.name, t.Alert.subject, t.Alert.state).join(
                t.AlertRule, t.AlertRule.id == t.Alert.rule_id
            )
        ).all()
    return {f"{rule}:{subject or ''}": state for rule, subject, state in rows}


def test_thirty_drifting_runs_then_clear_notify_once_each_way(
    database: Database, settings: Settings
) -> None:
    model_id = add_model(database, key=True)
    add_endpoint(database)
    now = T0
    for _ in range(30):
        cycle(database, settings, model_id, True, now)
        now += STEP
    assert states(database) == {"dataset_drift:": "firing", "key_feature_drift:a": "firing"}
    for _ in range(3):
        cycle(database, settings, model_id, False, now)
        now += STEP
    now += timedelta(seconds=settings.alerting.group_interval_s)
    flush_due(database, settings, now)
    assert states(database) == {"dataset_drift:": "resolved", "key_feature_drift:a": "resolved"}
    sent = Counter((group, event) for group, event, status in deliveries(database))
    assert sent == {
        ("churn/dataset_drift", "firing"): 1,
        ("churn/dataset_drift", "resolved"): 1,
        ("churn/key_feature_drift", "firing"): 1,
        ("churn/key_feature_drift", "resolved"): 1,
    }


def test_one_noisy_run_pages_nobody(database: Database, settings: Settings) -> None:
    model_id = add_model(database)
    add_endpoint(database)
    now = T0
    for drifted in (True, False, False, True, False, False, False):
        cycle(database, settings, model_id, drifted, now)
        now += STEP
    assert deliveries(database) == []
    assert set(states(database).values()) <= {"pending", "inactive"}


def test_a_silence_mutes_the_notification_not_the_alert(
    database: Database, settings: Settings, client: TestClient
) -> None:
    model_id = add_model(database)
    add_endpoint(database)
    response = client.post(
        "/v1/silences",
        json={"matchers": {"model": "churn"}, "comment": "retraining", "duration_minutes": 600},
    )
    assert response.status_code == 201, response.text
    # The API's clock is real time: silence from T0's point of view too.
    with database.write() as session:
        silence = session.get(t.Silence, response.json()["id"])
        assert silence is not None
        silence.starts_at, silence.ends_at = T0, T0 + timedelta(hours=10)
    now = T0
    for _ in range(5):
        cycle(database, settings, model_id, True, now)
        now += STEP
    assert states(database)["dataset_drift:"] == "firing"
    assert deliveries(database) == []
    # The silence expires: the still-firing group is notified at its next repeat.
    now = (
        T0 + timedelta(hours=10, minutes=1) + timedelta(seconds=settings.alerting.repeat_interval_s)
    )
    flush_due(database, settings, now)
    cycle(database, settings, model_id, True, now)
    flush_due(database, settings, now + timedelta(seconds=settings.alerting.group_interval_s))
    assert ("churn/dataset_drift", "firing", "pending") in deliveries(database)


def test_no_data_inhibits_the_models_drift_alerts(database: Database, settings: Settings) -> None:
    model_id = add_model(database)
    add_endpoint(database)
    with database.write() as session:
        version_id = session.scalar(select(t.ModelVersion.id))
        session.add(
            t.PredictionEvent(
                event_id="e1",
                model_id=model_id,
                version_id=version_id,
                event_time=T0,
                received_at=T0,
                features={"a": 1.0, "b": 2.0},
                extra_features=None,
                type_violations=None,
                prediction="1",
                score=None,
                tags=None,
            )
        )
    now = T0 + timedelta(hours=2)  # two hours without events
    assert evaluate_no_data(database, settings.alerting, now) == 1
    for _ in range(4):
        cycle(database, settings, model_id, True, now)
        now += STEP
    sent = Counter((group, event) for group, event, _ in deliveries(database))
    assert sent == {("churn/no_data", "firing"): 1}
    assert states(database)["dataset_drift:"] == "firing"


def test_retraining_guardrail_suppresses_a_second_trigger(
    database: Database, settings: Settings
) -> None:
    model_id = add_model(database)
    add_endpoint(database, min_retrain_interval_s=6 * 3600)
    now = T0
    for drifted in [True] * 3 + [False] * 3 + [True] * 3:  # fires, resolves, fires again
        cycle(database, settings, model_id, drifted, now)
        now += timedelta(minutes=10)
    flush_due(database, settings, now + timedelta(hours=1))
    firing = [(event, status) for _, event, status in deliveries(database) if event == "firing"]
    assert firing == [("firing", "pending"), ("firing", "suppressed")]
    with database.read() as session:
        reason = session.scalar(
            select(t.WebhookDelivery.last_error).where(t.WebhookDelivery.status == "suppressed")
        )
    assert reason is not None and "guardrail" in reason


def test_evaluation_resumes_after_its_cursor(database: Database, settings: Settings) -> None:
    model_id = add_model(database)
    add_run(database, model_id, True, T0)
    add_run(database, model_id, True, T0 + STEP)
    first = evaluate_runs(database, settings.alerting, T0 + STEP)
    again = evaluate_runs(database, settings.alerting, T0 + STEP)
    assert (first.runs, again.runs) == (2, 0)
    with database.read() as session:
        history = session.scalars(select(t.AlertTransition.to_state).order_by(t.AlertTransition.id))
        assert list(history) == ["pending", "firing"]


def test_payloads_carry_what_a_retraining_job_needs(database: Database, settings: Settings) -> None:
    model_id = add_model(database)
    add_endpoint(database)
    add_endpoint(database, fmt="alertmanager")
    now = T0
    for _ in range(3):
        cycle(database, settings, model_id, True, now)
        now += STEP
    with database.read() as session:
        bodies = [json.loads(b) for b in session.scalars(select(t.WebhookDelivery.body))]
    ours = next(b for b in bodies if "type" in b)
    assert ours["status"] == "firing" and ours["model"] == "churn" and ours["version"] == "v1"
    assert ours["rule"] == "dataset_drift" and ours["severity"] == "warning"
    assert ours["run"]["reference_hash"].startswith("sha256:")
    assert [f["feature"] for f in ours["drifted_features"]] == ["a"]
    assert ours["links"]["report"].endswith(f"/v1/runs/{ours['run']['id']}/report")
    documented = _documented_payload()
    assert set(ours) == set(documented)
    assert set(ours["alerts"][0]) == set(documented["alerts"][0])
    assert set(ours["run"]) == set(documented["run"]) and set(ours["links"]) == set(
        documented["links"]
    )
    am = next(b for b in bodies if b.get("version") == "4")
    assert am["status"] == "firing" and am["groupKey"] and am["receiver"] == "retrain"
    (alert,) = am["alerts"]
    assert len(alert["fingerprint"]) == 16 and alert["labels"]["alertname"] == "dataset_drift"
    assert alert["endsAt"] == "0001-01-01T00:00:00Z"


def _documented_payload() -> dict[str, Any]:
    """The example of docs/webhooks.md, which must show the fields a payload really has."""
    text = (Path(__file__).parents[1] / "docs" / "webhooks.md").read_text()
    block = text.split("## Payloads", 1)[1].split("```json\n", 1)[1].split("```", 1)[0]
    example: dict[str, Any] = json.loads(block)
    return example


def test_alerts_api(database: Database, settings: Settings, client: TestClient) -> None:
    created = client.post(
        "/v1/models",
        json={
            "name": "fresh",
            "task": "regression",
            "features": [{"name": "x", "type": "numeric"}],
        },
    )
    assert created.status_code == 201, created.text
    rules = client.get("/v1/models/fresh/alert-rules").json()
    assert {r["name"] for r in rules} >= {"dataset_drift", "no_data", "performance_drop"}
    assert next(r for r in rules if r["name"] == "performance_drop")["params"]["metric"] == "rmse"
    model_id = add_model(database)
    now = T0
    for _ in range(2):
        cycle(database, settings, model_id, True, now)
        now += STEP
    firing = client.get("/v1/alerts", params={"state": "firing", "model": "churn"}).json()
    assert [a["rule"] for a in firing] == ["dataset_drift"]
    assert client.get("/v1/alerts", params={"severity": "critical"}).json() == []
    alert_id = firing[0]["id"]
    acked = client.post(f"/v1/alerts/{alert_id}/ack", json={"by": "oncall"}).json()
    assert acked["acked_by"] == "oncall"
    detail = client.get(f"/v1/alerts/{alert_id}").json()
    assert [h["to_state"] for h in detail["history"]] == ["firing", "pending"]
    assert client.get("/v1/alerts/999999").status_code == 404
    bad = client.post("/v1/silences", json={"matchers": {}, "comment": "x", "duration_minutes": 5})
    assert bad.status_code == 422
    both = client.post("/v1/silences", json={"matchers": {"model": "churn"}, "comment": "x"})
    assert both.status_code == 422
    rule = {"name": "other", "kind": "drift_share", "for_runs": 1, "of_runs": 1}
    assert client.put("/v1/models/churn/alert-rules/dataset_drift", json=rule).status_code == 422
    rule["name"] = "dataset_drift"
    changed = client.put("/v1/models/churn/alert-rules/dataset_drift", json=rule)
    assert changed.status_code == 200 and changed.json()["for_runs"] == 1
    assert client.delete("/v1/models/churn/alert-rules/nope").status_code == 404
