"""Labelled predictions into the performance sums, each pair exactly once per layout.

A label and its prediction may arrive in either order, in different transactions. Whichever
write sees both counts the pair: the prediction's ingest looks for its labels, the label's
ingest for its prediction. ``labels.aggregated_ref`` records the reference whose aggregates
counted it, and is set by an ``UPDATE ... WHERE aggregated_ref IS DISTINCT FROM ref``: two
writers racing for one label serialise on its row lock and the second updates nothing, so it
counts nothing. When both halves commit concurrently neither sees the other; ``sweep`` (run by
the scheduler's maintenance) pairs such recent labels later, through the same update.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Select, Table, and_, or_, select, update
from sqlalchemy.orm import Session

from driftline.aggregates.accumulate import bucket_of
from driftline.aggregates.labelled import classification_sums, regression_sums
from driftline.aggregates.partial import Partial
from driftline.aggregates.states import layout_of
from driftline.core.storage import tables as t
from driftline.core.storage.aggregate_tables import AggregateBucket, AggregateState

__all__ = ["count_pairs", "sweep"]

_CHUNK = 5_000  # ids per statement: far below SQLite's limit on bound parameters
_labels = cast(Table, t.Label.__table__)
_buckets = cast(Table, AggregateBucket.__table__)


def _pairs(session: Session) -> Select[Any]:
    query = select(
        t.Label.event_id,
        t.Label.label,
        t.PredictionEvent.version_id,
        t.PredictionEvent.event_time,
        t.PredictionEvent.prediction,
        t.PredictionEvent.score,
        AggregateState.reference_id,
        t.Model.task,
    ).select_from(t.Label)
    if session.get_bind().dialect.name == "postgresql":
        # Partitioned by day: the event's time from event_ids lets the executor probe only its
        # day's partition. Joined on event_id alone, the planner scanned every partition
        # (103 ms for 200 labels against 350k events in 36 days, 15 ms this way).
        query = query.join(t.EventId, t.EventId.event_id == t.Label.event_id).join(
            t.PredictionEvent,
            and_(
                t.PredictionEvent.event_id == t.EventId.event_id,
                t.PredictionEvent.event_time == t.EventId.event_time,
            ),
        )
    else:
        query = query.join(t.PredictionEvent, t.PredictionEvent.event_id == t.Label.event_id)
    return (
        query.join(AggregateState, AggregateState.version_id == t.PredictionEvent.version_id)
        .join(t.Model, t.Model.id == t.PredictionEvent.model_id)
        .where(AggregateState.reference_id.is_not(None))
    )


def count_pairs(session: Session, event_ids: Sequence[str], now: datetime) -> int:
    """Count the pairs among ``event_ids`` (of new labels or new predictions) not yet counted
    under their version's current layout; returns how many were counted."""
    counted = 0
    for start in range(0, len(event_ids), _CHUNK):
        chunk = list(event_ids[start : start + _CHUNK])
        query = _pairs(session).where(
            t.Label.event_id.in_(chunk),
            or_(
                t.Label.aggregated_ref.is_(None),
                t.Label.aggregated_ref != AggregateState.reference_id,
            ),
        )
        counted += _claim_and_write(session, session.execute(query).all(), now)
    return counted


def sweep(session: Session, since: datetime, now: datetime, limit: int = 50_000) -> int:
    """Pair labels received since ``since`` that no write has counted yet."""
    query = _pairs(session).where(t.Label.aggregated_ref.is_(None), t.Label.received_at >= since)
    return _claim_and_write(session, session.execute(query.limit(limit)).all(), now)


def _claim_and_write(session: Session, rows: Sequence[Any], now: datetime) -> int:
    by_reference: dict[int, list[Any]] = {}
    for row in rows:
        by_reference.setdefault(row.reference_id, []).append(row)
    groups: dict[tuple[int, int, datetime, str], list[tuple[Any, Any, Any]]] = {}
    counted = 0
    for reference_id, members in by_reference.items():
        layout = layout_of(session, reference_id)
        if layout is None:
            continue
        claimed: set[str] = set()
        ids = [m.event_id for m in members]
        for start in range(0, len(ids), _CHUNK):
            claimed.update(
                session.execute(
                    update(_labels)
                    .where(
                        _labels.c.event_id.in_(ids[start : start + _CHUNK]),
                        or_(
                            _labels.c.aggregated_ref.is_(None),
                            _labels.c.aggregated_ref != reference_id,
                        ),
                    )
                    .values(aggregated_ref=reference_id)
                    .returning(_labels.c.event_id)
                ).scalars()
            )
        for m in members:
            if m.event_id in claimed:
                bucket = bucket_of(m.event_time, layout.bucket_seconds)
                key = (m.version_id, reference_id, bucket, m.task)
                groups.setdefault(key, []).append((m.label, m.prediction, m.score))
                counted += 1
    rows_out = []
    for (version_id, reference_id, bucket, task), triples in groups.items():
        layout = layout_of(session, reference_id)
        assert layout is not None
        partial = Partial.empty(layout.total_bins, len(layout.slots), layout.n_numeric)
        partial.performance = (
            regression_sums(triples) if task == "regression" else classification_sums(triples)
        )
        rows_out.append(
            {
                "version_id": version_id,
                "reference_id": reference_id,
                "bucket_start": bucket,
                "n_events": 0,  # the events were counted when their predictions were stored
                "compacted": False,
                "data": partial.encode(),
                "created_at": now,
            }
        )
    if rows_out:
        session.execute(_buckets.insert(), rows_out)
    return counted
