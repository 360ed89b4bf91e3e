"""A version's aggregates as the API and the CLI show them: layout, rebuild progress, size."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from driftline.core.storage import tables as t
from driftline.core.storage.aggregate_tables import AggregateBucket, AggregateState

__all__ = ["AggregateStatus", "RebuildProgress", "aggregate_status"]


class RebuildProgress(BaseModel):
    total_events: int
    done_events: int
    progress: float  # 0..1
    started_at: datetime | None
    finished_at: datetime | None


class AggregateStatus(BaseModel):
    model: str
    version: str
    reference_id: int | None  # whose bins the aggregates use (null: none yet)
    current_reference_id: int | None  # the version's current reference
    status: str  # none | rebuilding | ready (pending: the scheduler has not switched yet)
    rebuild: RebuildProgress | None
    buckets: int
    events: int
    oldest_bucket: datetime | None
    newest_bucket: datetime | None


def aggregate_status(
    session: Session, model: str, version: str, version_id: int
) -> AggregateStatus:
    current = session.scalar(
        select(func.max(t.ReferenceDataset.id)).where(t.ReferenceDataset.version_id == version_id)
    )
    state = session.get(AggregateState, version_id)
    reference_id = state.reference_id if state is not None else None
    status = state.status if state is not None else "none"
    if current is not None and reference_id != current:
        status = "pending"
    rebuild = None
    if state is not None and state.started_at is not None:
        total = int(state.total_events)
        rebuild = RebuildProgress(
            total_events=total,
            done_events=int(state.done_events),
            progress=min(state.done_events / total, 1.0) if total else 1.0,
            started_at=state.started_at,
            finished_at=state.finished_at,
        )
    buckets, events, oldest, newest = session.execute(
        select(
            func.count(func.distinct(AggregateBucket.bucket_start)),
            func.coalesce(func.sum(AggregateBucket.n_events), 0),
            func.min(AggregateBucket.bucket_start),
            func.max(AggregateBucket.bucket_start),
        ).where(
            AggregateBucket.version_id == version_id,
            AggregateBucket.reference_id == reference_id,
        )
    ).one()
    return AggregateStatus(
        model=model,
        version=version,
        reference_id=reference_id,
        current_reference_id=current,
        status=status,
        rebuild=rebuild,
        buckets=int(buckets),
        events=int(events),
        oldest_bucket=oldest,  # min/max keep the column's type: aware UTC datetimes
        newest_bucket=newest,
    )
