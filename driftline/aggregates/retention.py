"""Retention: raw events and labels kept for a period, aggregate buckets much longer.

First the horizon (``raw_event_horizon``) moves to the cutoff, so ingest stops storing (and
counting in the aggregates) predictions older than it: their ids are about to be forgotten, and
a re-delivery could not be told from a first delivery any more.

PostgreSQL: the raw events are partitioned by day (``core.storage.partitions``); the cutoff is
rounded down to a day, the days before it are dropped whole (events are kept up to a day past
``raw_days``), the default partition's rows before it are deleted, and so are the ids in
``event_ids``. SQLite: rows are deleted per version and in batches of ids, so each transaction
stays short and uses the ``(version_id, event_time)`` index.

Labels and buckets are deleted per model or version in batches on both. Runs over windows whose
raw events are gone use the aggregates (``detectors.aggregate_path``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import InstrumentedAttribute

from driftline.core.storage import Database, partitions
from driftline.core.storage import tables as t
from driftline.core.storage.aggregate_tables import AggregateBucket

__all__ = ["Expired", "expire"]


@dataclass
class Expired:
    events: int = 0
    labels: int = 0
    buckets: int = 0
    # PostgreSQL: the day partitions this pass created and dropped.
    created_days: list[date] = field(default_factory=list)
    dropped_days: list[date] = field(default_factory=list)


def _move_horizon(database: Database, cutoff: datetime) -> None:
    """Never backwards: the ids before the furthest horizon are gone already."""
    with database.write() as session:
        row = session.get(t.RawEventHorizon, 1)
        if row is None:
            session.add(t.RawEventHorizon(id=1, forgotten_before=cutoff))
        elif row.forgotten_before < cutoff:
            row.forgotten_before = cutoff
    if database.dialect == "postgresql":
        # A barrier: an insert that read the old horizon holds its lock on event_ids until it
        # commits; waiting for those here means the deletes below see all their rows.
        with database.write() as session:
            session.execute(text("SET LOCAL lock_timeout = '60s'"))
            session.execute(text("LOCK TABLE event_ids IN SHARE MODE"))


def _expire_partitioned(database: Database, now: datetime, cutoff: datetime, out: Expired) -> None:
    keep_from = cutoff.astimezone(UTC).date()
    done = partitions.upkeep(database.engine.begin, now.astimezone(UTC).date(), keep_from)
    out.created_days, out.dropped_days = done.created, done.dropped
    # One id per stored event: the ids deleted count the events removed with them.
    out.events += done.forgotten
    with database.engine.begin() as connection:
        out.events += partitions.delete_default_before(connection, cutoff)


def _delete_in_batches(
    database: Database, id_column: InstrumentedAttribute[int], where: list[Any], batch: int
) -> int:
    removed = 0
    query = select(id_column).where(*where).limit(batch)
    while True:
        with database.write() as session:
            ids = list(session.scalars(query))
            if not ids:
                return removed
            session.execute(delete(id_column.class_).where(id_column.in_(ids)))
            removed += len(ids)


def expire(
    database: Database, now: datetime, raw_days: float, aggregate_days: float, batch: int = 20_000
) -> Expired:
    """Delete raw events and labels older than ``raw_days`` and buckets older than
    ``aggregate_days`` (by event time)."""
    raw_cutoff = now - timedelta(days=raw_days)
    aggregate_cutoff = now - timedelta(days=aggregate_days)
    partitioned = database.dialect == "postgresql"
    if partitioned:  # what the partitions can drop: whole days
        raw_cutoff = datetime.combine(raw_cutoff.astimezone(UTC).date(), time(), UTC)
    _move_horizon(database, raw_cutoff)
    with database.read() as session:
        versions = list(session.scalars(select(t.ModelVersion.id)))
        models = list(session.scalars(select(t.Model.id)))
    out = Expired()
    if partitioned:
        _expire_partitioned(database, now, raw_cutoff, out)
    for version_id in versions:
        if not partitioned:
            out.events += _delete_in_batches(
                database,
                t.PredictionEvent.id,
                [
                    t.PredictionEvent.version_id == version_id,
                    t.PredictionEvent.event_time < raw_cutoff,
                ],
                batch,
            )
        out.buckets += _delete_in_batches(
            database,
            AggregateBucket.id,
            [
                AggregateBucket.version_id == version_id,
                AggregateBucket.bucket_start < aggregate_cutoff,
            ],
            batch,
        )
    for model_id in models:
        out.labels += _delete_in_batches(
            database,
            t.Label.id,
            [t.Label.model_id == model_id, t.Label.event_time < raw_cutoff],
            batch,
        )
    return out
