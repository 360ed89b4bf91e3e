"""Rolling reference: each run also compares its window with the window just before it.

On both backends, through the API as users configure and read it. The statistics against the
previous window are checked against scipy on the very events stored.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
from fastapi.testclient import TestClient
from scipy import stats

from detectors.maintenance import maintain
from driftline.core.aggregate_settings import AggregateSettings
from driftline.core.storage import Database
from tests.helpers import FRAUD_MODEL, fraud_reference_csv

HOUR = timedelta(hours=1)


def _events(n: int, seed: int, mean: float, when: datetime) -> list[dict[str, Any]]:
    rng = np.random.default_rng(seed)
    return [
        {
            "event_id": str(uuid.uuid4()),
            "model": "fraud",
            # Spread over the first half of the hour starting at `when`.
            "event_time": (when + timedelta(seconds=float(s))).isoformat(),
            "features": {"amount": float(a), "country": str(c), "is_new": bool(b)},
            "prediction": str(int(a > 120)),
        }
        for a, c, b, s in zip(
            rng.normal(mean, 20, n),
            rng.choice(["DE", "FR", "US"], n),
            rng.random(n) < 0.3,
            rng.uniform(0, 1800, n),
            strict=True,
        )
    ]


def _setup(client: TestClient, rolling: bool = True) -> None:
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
    upload = client.post("/v1/models/fraud/versions/1/reference", content=fraud_reference_csv())
    assert upload.status_code == 201, upload.text
    monitor = client.get("/v1/models/fraud/versions/1/monitor").json()
    assert monitor["rolling_reference"] is False  # off by default
    monitor["rolling_reference"] = rolling
    assert client.put("/v1/models/fraud/versions/1/monitor", json=monitor).status_code == 200


def _store(client: TestClient, events: list[dict[str, Any]]) -> None:
    assert client.post("/v1/events", json=events).json()["accepted"] == len(events)


def _detect(client: TestClient, end: datetime, path: str = "raw") -> dict[str, Any]:
    answer = client.post(
        "/v1/models/fraud/detect",
        json={"window_end": end.isoformat(), "window_minutes": 60, "path": path},
    )
    assert answer.status_code == 201, answer.text
    run: dict[str, Any] = answer.json()
    return run


def test_a_sudden_change_shows_against_the_previous_window(client: TestClient) -> None:
    _setup(client)
    end = datetime(2026, 11, 20, 12, tzinfo=UTC)
    before, now = _events(800, 1, 100, end - 2 * HOUR), _events(700, 2, 130, end - HOUR)
    _store(client, before + now)

    run = _detect(client, end)
    previous = run["previous_window"]
    assert previous["status"] == "ok"
    assert previous["window_start"].startswith("2026-11-20T10:00:00")
    assert previous["window_end"].startswith("2026-11-20T11:00:00")
    assert previous["reference_events"] == 800
    assert previous["drifted_features"] == ["amount"]
    assert previous["dataset_drift"] is True  # amount is a key feature
    by_name = {f["feature"]: f for f in previous["features"]}
    assert set(by_name) == {"amount", "country", "is_new"}

    # 800 rows before: at most small_reference_rows (1000), so KS, exactly scipy's.
    amount = by_name["amount"]
    expected = stats.ks_2samp(
        [e["features"]["amount"] for e in now], [e["features"]["amount"] for e in before]
    )
    assert amount["method"] == "ks"
    assert amount["reference_size"] == 800 and amount["current_size"] == 700
    assert abs(amount["statistic"] - expected.statistic) < 1e-9
    assert abs(amount["p_value"] - expected.pvalue) < 1e-9
    assert previous["prediction"]["feature"] == "prediction"

    # The uploaded-reference results are unchanged by the option and stay the run's own.
    assert run["drifted_features"] == ["amount"] and len(run["features"]) == 4
    assert client.get(f"/v1/runs/{run['id']}").json()["previous_window"] == previous


def test_a_slow_drift_shows_against_the_reference_only(client: TestClient) -> None:
    _setup(client)
    end = datetime(2026, 11, 20, 12, tzinfo=UTC)
    _store(client, _events(800, 3, 140, end - 2 * HOUR) + _events(800, 4, 140, end - HOUR))

    run = _detect(client, end)
    assert "amount" in run["drifted_features"]  # far from training
    assert run["previous_window"]["status"] == "ok"
    assert run["previous_window"]["drifted_features"] == []  # but nothing changed just now
    assert run["previous_window"]["dataset_drift"] is False


def test_too_few_events_before_gives_no_verdict(client: TestClient) -> None:
    _setup(client)
    end = datetime(2026, 11, 20, 12, tzinfo=UTC)
    _store(client, _events(50, 5, 100, end - 2 * HOUR) + _events(500, 6, 100, end - HOUR))

    previous = _detect(client, end)["previous_window"]
    assert previous["status"] == "insufficient_data" and previous["reference_events"] == 50
    assert "features" not in previous


def test_off_by_default_and_skipped_on_the_aggregate_path(
    client: TestClient, database: Database
) -> None:
    _setup(client, rolling=False)
    end = datetime(2026, 11, 20, 12, tzinfo=UTC)
    _store(client, _events(300, 7, 100, end - 2 * HOUR) + _events(300, 8, 100, end - HOUR))
    assert _detect(client, end)["previous_window"] is None

    monitor = client.get("/v1/models/fraud/versions/1/monitor").json()
    turned_on = monitor | {"rolling_reference": True}
    assert client.put("/v1/models/fraud/versions/1/monitor", json=turned_on).status_code == 200
    maintain(database, AggregateSettings(), "test")  # the aggregates are built for the reference
    run = _detect(client, end, path="aggregates")
    assert run["path"] == "aggregates"
    assert run["previous_window"]["status"] == "skipped"
    assert "aggregate" in run["previous_window"]["reason"]
