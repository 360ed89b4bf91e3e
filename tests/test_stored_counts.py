"""driftline_events_stored_total only grows: retention and folding never lower it.

On both backends: the counter counts new events once (not replays), keeps its value when
retention removes raw events (a fall reads as a counter reset to Prometheus, a spike in rate()),
and folding the per-batch rows keeps the sum, also while another transaction is writing.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from detectors.maintenance import maintain
from driftline.aggregates import stored_counts
from driftline.aggregates.retention import expire
from driftline.core.aggregate_settings import AggregateSettings
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.core.storage.aggregate_tables import StoredEventCount
from driftline.exporter.snapshot import read_snapshot
from tests.helpers import FRAUD_MODEL, prediction
from tests.test_metrics_exporter import scrape, value


def _events(n: int, when: datetime) -> list[dict[str, Any]]:
    return [prediction(i, event_time=when.isoformat()) for i in range(n)]


def _stored(database: Database) -> int:
    """What /metrics exports (each scrape reuses this snapshot for 5 s)."""
    with database.read() as session:
        return read_snapshot(session).events_stored["fraud"]


def _raw_rows(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.count()).select_from(t.PredictionEvent)) or 0)


def test_the_counter_counts_new_events_and_survives_retention(
    client: TestClient, database: Database
) -> None:
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
    now = datetime.now(UTC)
    old, recent = _events(40, now - timedelta(days=45)), _events(25, now - timedelta(minutes=5))
    assert client.post("/v1/events", json=old + recent).json()["accepted"] == 65
    assert _stored(database) == 65
    client.post("/v1/events", json=recent)  # a replay stores nothing and counts nothing
    assert _stored(database) == 65

    expired = expire(database, now, raw_days=30, aggregate_days=400)
    assert expired.events == 40 and _raw_rows(database) == 25
    assert _stored(database) == 65  # the raw rows went, the count did not

    assert client.post("/v1/events", json=_events(10, now)).json()["accepted"] == 10
    assert _stored(database) == 75
    assert value(scrape(client), "driftline_events_stored_total", model="fraud") == 75


def test_maintenance_folds_the_rows_and_keeps_the_sum(
    client: TestClient, database: Database
) -> None:
    assert client.post("/v1/models", json=FRAUD_MODEL).status_code == 201
    for _ in range(5):
        client.post("/v1/events", json=[prediction(i) for i in range(7)])
    with database.read() as session:
        rows = session.scalar(select(func.count()).select_from(StoredEventCount))
    assert rows == 5 and _stored(database) == 35

    maintain(database, AggregateSettings(enabled=False), "test")
    with database.read() as session:
        rows = session.scalar(select(func.count()).select_from(StoredEventCount))
        assert rows == 1 and stored_counts.stored_per_model(session) == {1: 35}
    assert _stored(database) == 35


def test_a_fold_keeps_what_a_concurrent_writer_commits(database: Database) -> None:
    with database.write() as session:
        session.add(t.Model(**_model_row()))
    with database.write() as session:
        model = session.scalar(select(t.Model.id))
        assert model is not None
        stored_counts.add_stored(session, {model: 3})
    with database.write() as writer:
        stored_counts.add_stored(writer, {model: 4})  # committed after the fold below
        writer.flush()
        if database.dialect == "postgresql":  # SQLite has one writer at a time
            with database.write() as session:
                stored_counts.fold(session)
            with database.read() as session:
                assert stored_counts.stored_per_model(session) == {model: 3}
    with database.write() as session:
        stored_counts.fold(session)
    with database.read() as session:
        assert stored_counts.stored_per_model(session) == {model: 7}
        assert session.scalar(select(func.count()).select_from(StoredEventCount)) == 1


def _model_row() -> dict[str, Any]:
    now = datetime.now(UTC)
    return {
        "name": f"m-{uuid.uuid4().hex[:8]}",
        "task": "binary_classification",
        "features": [{"name": "x", "type": "numeric"}],
        "prediction_type": "categorical",
        "label_type": "categorical",
        "created_at": now,
        "updated_at": now,
    }
