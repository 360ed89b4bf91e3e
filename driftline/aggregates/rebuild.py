"""Switching a version's aggregates to a new reference, and rebuilding them from raw events.

The bins come from the reference, so a new reference needs new aggregates. ``switch`` stores
the new layout and updates the version's ``aggregate_states`` row. Ingest transactions hold a
share lock on that row from before they insert until they commit, so the update waits for
every one of them in flight; once it holds the row, the largest stored event id of the version
is the **boundary**: every event up to it was stored under the old layout (it is rebuilt from
raw data here), every later one is aggregated with the new layout by its own ingest (it could
only take the lock after the switch committed). ``rebuild_step`` then re-aggregates the events
up to the boundary in id order, one chunk per transaction, moving a cursor with a
compare-and-set, so a crash resumes where it stopped and two schedulers never do a chunk
twice. Progress (events done of total) is the state row, shown by the API and the CLI.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from driftline.aggregates.accumulate import Fresh
from driftline.aggregates.ingest import write_partials
from driftline.aggregates.pairs import count_pairs
from driftline.core.storage import tables as t
from driftline.core.storage.aggregate_tables import AggregateLayout, AggregateState
from driftline.core.storage.upsert import insert_ignore

__all__ = ["rebuild_step", "switch"]


def switch(
    session: Session,
    model_id: int,
    version_id: int,
    reference_id: int,
    layout: bytes,
    now: datetime,
) -> bool:
    """Make ``reference_id`` the version's layout and start its rebuild (commit right after);
    False when it already was."""
    session.execute(
        insert_ignore(session, AggregateLayout, ["reference_id"]),
        {
            "reference_id": reference_id,
            "version_id": version_id,
            "layout": layout,
            "created_at": now,
        },
    )
    session.execute(
        insert_ignore(session, AggregateState, ["version_id"]),
        {
            "version_id": version_id,
            "model_id": model_id,
            "reference_id": None,
            "status": "none",
            "cursor_id": 0,
            "total_events": 0,
            "done_events": 0,
        },
    )
    # Taking the row lock waits for in-flight ingest; the statements after it see their events.
    # Conditional, so that of two schedulers switching at once only the first resets the state.
    moved = session.execute(
        update(AggregateState)
        .where(
            AggregateState.version_id == version_id,
            or_(
                AggregateState.reference_id.is_(None),
                AggregateState.reference_id != reference_id,
            ),
        )
        .values(reference_id=reference_id, status="rebuilding", started_at=now, finished_at=None)
        .returning(AggregateState.version_id)
    ).first()
    if moved is None:
        return False
    boundary, total = session.execute(
        select(func.max(t.PredictionEvent.id), func.count()).where(
            t.PredictionEvent.version_id == version_id
        )
    ).one()
    ready = boundary is None
    session.execute(
        update(AggregateState)
        .where(AggregateState.version_id == version_id)
        .values(
            boundary_id=boundary,
            cursor_id=0,
            total_events=total,
            done_events=0,
            status="ready" if ready else "rebuilding",
            finished_at=now if ready else None,
        )
    )
    return True


def rebuild_step(session: Session, version_id: int, chunk: int, now: datetime) -> bool:
    """Re-aggregate the next ``chunk`` events of a rebuilding version; True when more remain.

    Raises ``LookupError`` when another worker moved the cursor or the reference changed
    meanwhile (the caller's transaction must then roll back).
    """
    state = session.get(AggregateState, version_id)
    if state is None or state.status != "rebuilding" or state.reference_id is None:
        return False
    reference_id, cursor, boundary = state.reference_id, state.cursor_id, state.boundary_id or 0
    rows = session.execute(
        select(
            t.PredictionEvent.id,
            t.PredictionEvent.event_id,
            t.PredictionEvent.event_time,
            t.PredictionEvent.features,
            t.PredictionEvent.type_violations,
            t.PredictionEvent.prediction,
        )
        .where(
            t.PredictionEvent.version_id == version_id,
            t.PredictionEvent.id > cursor,
            t.PredictionEvent.id <= boundary,
        )
        .order_by(t.PredictionEvent.id)
        .limit(chunk)
    ).all()
    fresh = [
        Fresh(version_id, r.event_time, r.features, r.type_violations, r.prediction) for r in rows
    ]
    # Old windows are not re-evaluated for a new reference: these are not late events.
    write_partials(session, fresh, {version_id: reference_id}, mark_late=False)
    count_pairs(session, [r.event_id for r in rows], now)
    finished = len(rows) < chunk
    moved = session.execute(
        update(AggregateState)
        .where(
            AggregateState.version_id == version_id,
            AggregateState.reference_id == reference_id,
            AggregateState.cursor_id == cursor,
        )
        .values(
            cursor_id=boundary if finished else rows[-1].id,
            done_events=AggregateState.done_events + len(rows),
            status="ready" if finished else "rebuilding",
            finished_at=now if finished else None,
        )
        .returning(AggregateState.version_id)
    ).first()
    if moved is None:
        raise LookupError(f"version {version_id}: the rebuild moved on without this chunk")
    return not finished
