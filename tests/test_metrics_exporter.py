"""The API's /metrics: monitoring results read from the database, on both backends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.exporter import ResultsCollector
from driftline.telemetry import RESULTS, catalogue
from tests.support.drifting import FEATURES, MODEL, events, register, send_labels

Samples = dict[str, list[tuple[dict[str, str], float]]]


def scrape(client: TestClient) -> Samples:
    response = client.get("/metrics")
    assert response.status_code == 200, response.text
    out: Samples = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            out.setdefault(sample.name, []).append((dict(sample.labels), sample.value))
    return out


def value(samples: Samples, name: str, **labels: str) -> float:
    found = [v for ls, v in samples.get(name, []) if all(ls.get(k) == x for k, x in labels.items())]
    assert len(found) == 1, f"{name}{labels}: {found} in {samples.get(name)}"
    return found[0]


def _drifting_run(client: TestClient, n: int = 400) -> dict[str, Any]:
    register(client)
    batch = events(n)
    assert client.post("/v1/events", json={"events": batch}).json()["accepted"] == n
    send_labels(client, batch)
    run = client.post(f"/v1/models/{MODEL}/detect", json={}).json()
    assert run["status"] == "ok" and run["dataset_drift"] is True
    result: dict[str, Any] = run
    return result


def test_latest_run_results_are_exported(client: TestClient) -> None:
    run = _drifting_run(client)
    s = scrape(client)
    mv = {"model": MODEL, "version": "1"}
    assert value(s, RESULTS.DRIFT_SHARE.name, **mv) == run["drift_share"]
    assert value(s, RESULTS.DATASET_DRIFTED.name, **mv) == 1
    assert value(s, RESULTS.LAST_RUN_ID.name, **mv) == run["id"]
    assert value(s, RESULTS.LAST_RUN_EVENTS.name, **mv) == 400
    assert value(s, RESULTS.LAST_RUN_STATUS.name, status="ok", **mv) == 1
    assert value(s, RESULTS.LAST_RUN_STATUS.name, status="failed", **mv) == 0
    whole: list[dict[str, Any]] = [
        f for f in run["features"] if not f["is_prediction"] and f["segment"] is None
    ]
    income = next(f for f in whole if f["feature"] == "income")
    assert income["method"] == "ks" and income["drifted"]
    assert value(s, RESULTS.FEATURE_DRIFTED.name, feature="income", key="true") == 1
    assert value(s, RESULTS.FEATURE_DRIFTED.name, feature="region", key="false") == 0
    assert value(s, RESULTS.FEATURE_STATISTIC.name, feature="income") == income["statistic"]
    assert value(s, RESULTS.FEATURE_P_VALUE.name, feature="income", method="ks") == pytest.approx(
        income["p_value"]
    )
    # A distance method has no p-value: absent, not 0.
    assert value(s, RESULTS.FEATURE_STATISTIC.name, feature="age", method="wasserstein") >= 0
    assert not [ls for ls, _ in s[RESULTS.FEATURE_P_VALUE.name] if ls["feature"] == "age"]
    assert value(s, RESULTS.FEATURE_SAMPLE_SIZE.name, feature="income", sample="current") == 400
    assert value(s, RESULTS.DATA_QUALITY.name, feature="region", check="missing") == 0
    assert value(s, RESULTS.LABEL_COVERAGE.name, **mv) == 0.5
    assert 0 <= value(s, RESULTS.PERFORMANCE.name, metric="accuracy", **mv) <= 1
    assert value(s, RESULTS.PREDICTION_DRIFTED.name, **mv) in (0, 1)
    assert {ls["segment"] for ls, _ in s[RESULTS.SEGMENT_DRIFT_SHARE.name]} == {
        "channel=web",
        "channel=app",
    }
    assert value(s, RESULTS.EVENTS_STORED.name, model=MODEL) == 400
    for severity in ("info", "warning", "critical"):
        assert value(s, RESULTS.ALERTS_FIRING.name, model=MODEL, severity=severity) == 0
    assert value(s, RESULTS.DATABASE_UP.name) == 1


def test_series_do_not_grow_with_random_ids_extras_and_tags(client: TestClient) -> None:
    _drifting_run(client)
    before = scrape(client)
    batch = events(10_000, seed=9, extra=True)
    response = client.post("/v1/events", json={"events": batch})
    assert response.json()["accepted"] == 10_000
    assert client.post(f"/v1/models/{MODEL}/detect", json={}).json()["status"] == "ok"
    after = scrape(client)
    count = {name: len(samples) for name, samples in after.items()}
    assert count == {name: len(samples) for name, samples in before.items()}
    features = {ls["feature"] for ss in after.values() for ls, _ in ss if "feature" in ls}
    assert features == set(FEATURES)
    # Per feature: statistic, effect size, threshold, drifted, PSI, 2 sample sizes; p-values
    # for the three p-value features; 3-4 quality checks each.
    per_feature = sum(
        count[s.name] for s in catalogue() if s.labels[:3] == ("model", "version", "feature")
    )
    assert per_feature <= len(FEATURES) * 12
    assert count[RESULTS.SEGMENT_DRIFT_SHARE.name] == 2  # max_segment_values, not the 1,000 tags


def test_alerts_and_webhook_outcomes_are_counted(client: TestClient, database: Database) -> None:
    register(client)
    now = datetime.now(UTC)
    with database.write() as session:
        model_id = session.query(t.Model.id).filter(t.Model.name == MODEL).scalar()
        rule = t.AlertRule(
            model_id=model_id,
            version=None,
            name="r",
            kind="dataset_drift",
            severity="critical",
            params={},
            for_runs=1,
            of_runs=1,
            clear_runs=1,
            labels={},
            enabled=True,
            created_at=now,
            updated_at=now,
        )
        session.add(rule)
        session.flush()
        for i, state in enumerate(["firing", "firing", "resolved"]):
            session.add(
                t.Alert(
                    fingerprint=f"f{i}",
                    rule_id=rule.id,
                    model_id=model_id,
                    version="1",
                    subject=None,
                    state=state,
                    severity="critical",
                    labels={},
                    value=None,
                    summary="",
                    details={},
                    recent=[],
                    clear_streak=0,
                    updated_at=now,
                )
            )
        endpoint = t.WebhookEndpoint(
            name="retrain",
            url="http://127.0.0.1:9/",
            models=None,
            severities=None,
            events=["firing"],
            payload_format="driftline",
            secret_encrypted=b"x",
            headers_encrypted=None,
            enabled=True,
            disabled_reason=None,
            min_retrain_interval_s=0,
            consecutive_failures=0,
            created_at=now,
            updated_at=now,
        )
        session.add(endpoint)
        session.flush()
        for i, status in enumerate(["delivered", "delivered", "failed", "pending", "suppressed"]):
            session.add(
                t.WebhookDelivery(
                    endpoint_id=endpoint.id,
                    message_id=f"m{i}",
                    event="firing",
                    status=status,
                    body=b"{}",
                    attempts=1,
                    next_attempt_at=now + timedelta(minutes=1),
                    created_at=now,
                )
            )
    s = scrape(client)
    assert value(s, RESULTS.ALERTS_FIRING.name, model=MODEL, severity="critical") == 2
    assert value(s, RESULTS.ALERTS_FIRING.name, model=MODEL, severity="warning") == 0
    deliveries = RESULTS.WEBHOOK_DELIVERIES.name
    assert value(s, deliveries, endpoint="retrain", outcome="delivered") == 2
    assert value(s, deliveries, endpoint="retrain", outcome="failed") == 1
    assert value(s, deliveries, endpoint="retrain", outcome="suppressed") == 1
    assert value(s, RESULTS.WEBHOOK_PENDING.name, endpoint="retrain") == 1


def test_an_unreachable_database_reports_database_up_0() -> None:
    def broken() -> Database:
        raise ConnectionError("database is down")

    registry = CollectorRegistry()
    registry.register(ResultsCollector(broken))
    text = generate_latest(registry).decode()
    assert "driftline_database_up 0.0" in text
    assert "driftline_dataset_drift_share{" not in text
