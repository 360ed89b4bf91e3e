"""Compaction: the rows of a closed bucket merged into one, in one transaction.

Ingest appends a row per write batch, so a busy minute has many; a run over a window should
read one row per bucket. Rows are locked ``FOR UPDATE SKIP LOCKED`` (PostgreSQL), so two
schedulers compacting at once take different rows and never merge a row twice; a late row
added to a compacted bucket is merged into it at the next pass.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from driftline.aggregates.partial import Partial
from driftline.core.storage.aggregate_tables import AggregateBucket

__all__ = ["compact"]


def compact(session: Session, closed_before: datetime, now: datetime, limit: int = 200) -> int:
    """Merge the rows of up to ``limit`` buckets that start before ``closed_before`` and have
    rows not compacted yet; returns how many buckets were compacted."""
    keys = session.execute(
        select(
            AggregateBucket.version_id, AggregateBucket.reference_id, AggregateBucket.bucket_start
        )
        .where(AggregateBucket.compacted.is_(False), AggregateBucket.bucket_start < closed_before)
        .group_by(
            AggregateBucket.version_id, AggregateBucket.reference_id, AggregateBucket.bucket_start
        )
        .limit(limit)
    ).all()
    done = 0
    for version_id, reference_id, bucket in keys:
        rows = session.execute(
            select(AggregateBucket.id, AggregateBucket.data)
            .where(
                AggregateBucket.version_id == version_id,
                AggregateBucket.reference_id == reference_id,
                AggregateBucket.bucket_start == bucket,
            )
            .with_for_update(skip_locked=True)
        ).all()
        if not rows:
            continue
        if len(rows) == 1:
            session.execute(
                update(AggregateBucket)
                .where(AggregateBucket.id == rows[0].id)
                .values(compacted=True)
            )
            done += 1
            continue
        merged = Partial.decode(rows[0].data)
        for row in rows[1:]:
            merged.merge(Partial.decode(row.data))
        session.execute(delete(AggregateBucket).where(AggregateBucket.id.in_([r.id for r in rows])))
        session.execute(
            insert(AggregateBucket).values(
                version_id=version_id,
                reference_id=reference_id,
                bucket_start=bucket,
                n_events=merged.n_events,
                compacted=True,
                data=merged.encode(),
                created_at=now,
            )
        )
        done += 1
    return done
