"""Storage on both backends: migrations, idempotent inserts, time handling, indexes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, inspect, select

from driftline.core.contract import parse_event
from driftline.core.errors import SchemaNotCurrentError
from driftline.core.modelspec import ModelSpec
from driftline.core.storage import Database, check_at_head, downgrade, upgrade
from driftline.core.storage import tables as t
from driftline.core.storage.migrate import current_revision, head_revision
from driftline.ingest.store import store_events
from driftline.registry.models import create_model
from tests.helpers import FRAUD_MODEL, prediction


def _register(database: Database) -> None:
    with database.write() as session:
        create_model(session, ModelSpec.model_validate(FRAUD_MODEL))


def test_migrations_downgrade_to_base_and_upgrade_again(database: Database) -> None:
    assert current_revision(database) == head_revision()
    downgrade(database, "base")
    assert current_revision(database) is None
    assert set(inspect(database.engine).get_table_names()) <= {"alembic_version"}
    with pytest.raises(SchemaNotCurrentError, match="driftline db upgrade"):
        check_at_head(database)
    upgrade(database)
    check_at_head(database)
    assert {
        tb.name
        for tb in t.Base.metadata.sorted_tables
        if database.dialect in tb.info.get("dialects", (database.dialect,))
    } <= set(inspect(database.engine).get_table_names())


def test_migrated_schema_matches_the_orm_tables(database: Database) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from driftline.core.storage.schema_filter import include_object

    with database.engine.connect() as conn:
        context = MigrationContext.configure(
            conn, opts={"include_object": include_object(database.dialect)}
        )
        diff = compare_metadata(context, t.Base.metadata)
    assert diff == []


def test_time_range_index_exists(database: Database) -> None:
    indexes = inspect(database.engine).get_indexes("prediction_events")
    assert any(ix["column_names"] == ["version_id", "event_time"] for ix in indexes)


def test_insert_is_idempotent_on_event_id(database: Database) -> None:
    _register(database)
    events = [parse_event(prediction(i)) for i in range(50)]
    with database.write() as session:
        first = store_events(session, events)
    with database.write() as session:
        again = store_events(session, events + events[:5])
    assert len(first.stored) == 50
    assert again.stored == [] and len(again.duplicate) == 55
    with database.read() as session:
        assert session.scalar(select(func.count()).select_from(t.PredictionEvent)) == 50


def test_event_times_come_back_aware_in_utc(database: Database) -> None:
    _register(database)
    plus_two = timezone(timedelta(hours=2))
    when = datetime(2026, 3, 1, 12, 30, 15, 123456, tzinfo=plus_two)
    with database.write() as session:
        store_events(session, [parse_event(prediction(event_time=when.isoformat()))])
    with database.read() as session:
        stored = session.scalar(select(t.PredictionEvent.event_time))
    assert stored == when and stored.tzinfo is not None
    assert stored.utcoffset() == timedelta(0)


def test_time_range_query_uses_utc_ordering(database: Database) -> None:
    _register(database)
    base = datetime(2026, 1, 1, tzinfo=UTC)
    events = [
        parse_event(prediction(i, event_time=(base + timedelta(minutes=i)).isoformat()))
        for i in range(60)
    ]
    with database.write() as session:
        store_events(session, events)
    t0, t1 = base + timedelta(minutes=10), base + timedelta(minutes=20)
    with database.read() as session:
        n = session.scalar(
            select(func.count()).where(
                t.PredictionEvent.event_time >= t0, t.PredictionEvent.event_time < t1
            )
        )
    assert n == 10


def test_label_before_prediction_is_kept_and_joins(database: Database) -> None:
    _register(database)
    event = prediction(3)
    label = parse_event(
        {"type": "label", "event_id": event["event_id"], "model": "fraud", "label": "1"}
    )
    with database.write() as session:
        assert len(store_events(session, [label]).stored) == 1
    with database.write() as session:
        store_events(session, [parse_event(event)])
    with database.read() as session:
        joined = session.execute(
            select(t.PredictionEvent.event_id, t.Label.label).join(
                t.Label, t.Label.event_id == t.PredictionEvent.event_id
            )
        ).all()
    assert joined == [(event["event_id"], "1")]


def test_unknown_model_is_rejected_and_neighbours_stored(database: Database) -> None:
    _register(database)
    events = [parse_event(prediction(0)), parse_event(prediction(1, model="nope"))]
    with database.write() as session:
        outcome = store_events(session, events)
    assert outcome.stored == [0]
    assert outcome.rejected == {1: ("model", "model 'nope' is not registered")}


def test_wrong_types_are_stored_missing_and_extras_kept(database: Database) -> None:
    _register(database)
    event = prediction(0, features={"amount": "lots", "country": 44, "is_new": 1, "colour": "red"})
    with database.write() as session:
        outcome = store_events(session, [parse_event(event)])
    assert outcome.type_violations == 1
    with database.read() as session:
        row = session.scalars(select(t.PredictionEvent)).one()
    assert row.features == {"amount": None, "country": "44", "is_new": True}
    assert row.extra_features == {"colour": "red"}
    assert row.type_violations == ["amount"]


def test_unregistered_version_is_created_and_default_is_latest(database: Database) -> None:
    _register(database)
    with database.write() as session:
        store_events(
            session, [parse_event(prediction(0, model_version="7")), parse_event(prediction(1))]
        )
    with database.read() as session:
        versions = session.execute(
            select(t.ModelVersion.version, func.count(t.PredictionEvent.id))
            .join(t.PredictionEvent, t.PredictionEvent.version_id == t.ModelVersion.id)
            .group_by(t.ModelVersion.version)
        ).all()
    # The event without a version went to the latest one, which the first event created.
    assert sorted(versions) == [("7", 2)]
