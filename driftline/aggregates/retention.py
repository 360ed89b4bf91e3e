"""Retention: raw events and labels kept for a period, aggregate buckets much longer.

Deletes go per version (or model) and in batches of ids, so each transaction stays short and
uses the ``(version_id, event_time)`` index instead of scanning the whole table. Runs over
windows whose raw events are gone use the aggregates (``detectors.aggregate_path``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import InstrumentedAttribute

from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.core.storage.aggregate_tables import AggregateBucket

__all__ = ["Expired", "expire"]


@dataclass
class Expired:
    events: int = 0
    labels: int = 0
    buckets: int = 0


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
    with database.read() as session:
        versions = list(session.scalars(select(t.ModelVersion.id)))
        models = list(session.scalars(select(t.Model.id)))
    out = Expired()
    for version_id in versions:
        out.events += _delete_in_batches(
            database,
            t.PredictionEvent.id,
            [t.PredictionEvent.version_id == version_id, t.PredictionEvent.event_time < raw_cutoff],
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
