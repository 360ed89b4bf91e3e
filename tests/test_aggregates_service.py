"""Aggregates through the processes: the collector's replay test with aggregates on, the API's
status route and ``path`` choice, the CLI."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from detectors.maintenance import maintain
from driftline.cli import app
from driftline.core.aggregate_settings import AggregateSettings
from driftline.core.storage import Database
from driftline.core.storage.aggregate_tables import AggregateBucket
from driftline.registry.references import store_reference
from tests import test_collector_kafka as kafka_tests
from tests.helpers import prediction
from tests.support.kafka import Broker
from tests.test_aggregates_storage import KINDS, _reference
from tests.test_collector_kafka import Collectors, _count, _metric, _produce, _terminate, _wait_for

# The collector tests' fixtures: a broker per module, the session PostgreSQL emptied, collectors.
broker = kafka_tests.broker
pg = kafka_tests.pg
collectors = kafka_tests.collectors

NOW = datetime.now(UTC)


def _with_reference(database: Database) -> None:
    from detectors.profile import build_profile

    frame = _reference()
    profile = build_profile(frame, KINDS, "categorical").to_bytes()
    with database.write() as session:
        store_reference(session, "fraud", "1", frame, "csv", profile)
    maintain(database, AggregateSettings(), "test")


def _aggregated(database: Database) -> int:
    with database.read() as session:
        return int(session.scalar(select(func.sum(AggregateBucket.n_events))) or 0)


def test_replay_three_times_aggregates_once(
    broker: Broker, pg: Database, collectors: Callable[..., Collectors], postgres_url: str
) -> None:
    """The collector's replay test, with aggregates on: each event is counted once."""
    from driftline.core.storage import tables as t

    _with_reference(pg)
    topic = broker.create_topic(partitions=4)
    at = (NOW - timedelta(minutes=10)).isoformat()
    values = [json.dumps(prediction(i, event_time=at)).encode() for i in range(1000)]
    _produce(broker, topic, values * 3)
    process, port = collectors(topic, postgres_url).start()
    _wait_for(
        lambda: (
            _metric(port, "driftline_collector_events_total", 'model="fraud",outcome="duplicate"')
            == 2000
        ),
        90,
        "2000 duplicates",
    )
    assert _count(pg, t.PredictionEvent) == 1000
    assert _aggregated(pg) == 1000
    _terminate(process)


def test_status_route_and_path_choice(client: TestClient, database: Database) -> None:
    assert client.post("/v1/models", json={**_model(), "name": "fraud"}).status_code == 201
    status = client.get("/v1/models/fraud/versions/1/aggregates").json()
    assert status["status"] == "none" and status["reference_id"] is None
    forced = client.post("/v1/models/fraud/detect", json={"version": "1", "path": "aggregates"})
    assert forced.status_code in (404, 409)  # no reference yet, then aggregates not ready
    from detectors.profile import build_profile

    frame = _reference()
    with database.write() as session:
        store_reference(
            session,
            "fraud",
            "1",
            frame,
            "csv",
            build_profile(frame, KINDS, "categorical").to_bytes(),
        )
    assert client.get("/v1/models/fraud/versions/1/aggregates").json()["status"] == "pending"
    forced = client.post("/v1/models/fraud/detect", json={"version": "1", "path": "aggregates"})
    assert forced.status_code == 409
    maintain(database, AggregateSettings(), "test")
    at = (NOW - timedelta(minutes=5)).isoformat()
    events = [prediction(i, event_time=at, event_id=str(uuid.uuid4())) for i in range(300)]
    assert client.post("/v1/events", json={"events": events}).json()["accepted"] == 300
    status = client.get("/v1/models/fraud/versions/1/aggregates").json()
    assert status["status"] == "ready" and status["events"] == 300
    assert status["rebuild"]["progress"] == 1.0
    auto = client.post("/v1/models/fraud/detect", json={"version": "1"}).json()
    assert auto["path"] == "raw"  # a small recent window: exact, from raw events
    binned = client.post("/v1/models/fraud/detect", json={"version": "1", "path": "aggregates"})
    assert binned.status_code == 201
    run = binned.json()
    assert run["path"] == "aggregates" and run["n_events"] == 300
    amount = next(f for f in run["features"] if f["feature"] == "amount")
    assert amount["statistic_bound"] is not None
    assert client.get(f"/v1/runs/{run['id']}").json()["path"] == "aggregates"


def _model() -> dict[str, object]:
    from tests.helpers import FRAUD_MODEL

    return dict(FRAUD_MODEL)


def test_cli_shows_progress_and_runs_a_pass(database: Database, database_url: str) -> None:
    from driftline.core.modelspec import ModelSpec
    from driftline.registry.models import create_model
    from tests.helpers import FRAUD_MODEL

    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))
    frame = _reference()
    from detectors.profile import build_profile

    with database.write() as session:
        store_reference(
            session,
            "fraud",
            "1",
            frame,
            "csv",
            build_profile(frame, KINDS, "categorical").to_bytes(),
        )
    runner = CliRunner()
    env = {"DRIFTLINE_DATABASE__URL": database_url}
    shown = runner.invoke(app, ["aggregates", "status", "fraud"], env=env)
    assert shown.exit_code == 0, shown.output
    assert "fraud 1: pending, reference None (current 1)" in shown.output
    passed = runner.invoke(app, ["aggregates", "maintain"], env=env)
    assert passed.exit_code == 0, passed.output
    assert "switched 1 version(s)" in passed.output
    shown = runner.invoke(app, ["aggregates", "status", "fraud", "--version", "1"], env=env)
    assert "fraud 1: ready, reference 1 (current 1), rebuild 0/0 (100%)" in shown.output
    expired = runner.invoke(app, ["aggregates", "expire"], env=env)
    assert expired.exit_code == 0 and "deleted 0 events" in expired.output
