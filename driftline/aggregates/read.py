"""Reading a window's aggregate: the sum of its buckets' rows under one layout."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from driftline.aggregates.layout import Layout
from driftline.aggregates.partial import Partial
from driftline.core.storage.aggregate_tables import AggregateBucket

__all__ = ["count_events", "load_total"]


def _in_window(
    version_id: int, reference_id: int, start: datetime, end: datetime
) -> list[ColumnElement[bool]]:
    return [
        AggregateBucket.version_id == version_id,
        AggregateBucket.reference_id == reference_id,
        AggregateBucket.bucket_start >= start,
        AggregateBucket.bucket_start < end,
    ]


def count_events(
    session: Session, version_id: int, reference_id: int, start: datetime, end: datetime
) -> int:
    """Events aggregated in buckets starting in [start, end), without decoding any row."""
    total = session.scalar(
        select(func.coalesce(func.sum(AggregateBucket.n_events), 0)).where(
            *_in_window(version_id, reference_id, start, end)
        )
    )
    return int(total or 0)


def load_total(
    session: Session, layout: Layout, version_id: int, start: datetime, end: datetime
) -> Partial:
    """The sum of every row of the buckets starting in [start, end) (bucket-aligned bounds)."""
    total = Partial.empty(layout.total_bins, len(layout.slots), layout.n_numeric)
    rows = session.execute(
        select(AggregateBucket.data).where(*_in_window(version_id, layout.reference_id, start, end))
    ).scalars()
    for data in rows:
        total.merge(Partial.decode(data))
    return total
