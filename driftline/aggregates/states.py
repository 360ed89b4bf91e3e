"""Which layout each version aggregates with, read under a share lock; layouts by reference.

Every write that adds to aggregates (ingest, label pairing, rebuild) first reads the versions'
``aggregate_states`` rows ``FOR SHARE`` (PostgreSQL; SQLite has one writer at a time anyway).
Switching a version to a new reference updates its row, so the switch waits for those writes
to commit and every later write sees the new layout: see ``driftline.aggregates.rebuild``.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterable, Mapping
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import Session

from driftline.aggregates.layout import Layout
from driftline.core.storage.aggregate_tables import AggregateLayout, AggregateState
from driftline.core.storage.upsert import insert_ignore

__all__ = ["layout_of", "lock_model_states", "lock_states"]

# Layouts never change once stored (a new reference gets a new one), so a process may keep them.
_CACHE: OrderedDict[int, Layout] = OrderedDict()
_CACHE_SIZE = 64
_CACHE_LOCK = Lock()


def layout_of(session: Session, reference_id: int) -> Layout | None:
    """The stored layout of a reference (cached per process), or None if none was built."""
    with _CACHE_LOCK:
        found = _CACHE.get(reference_id)
        if found is not None:
            _CACHE.move_to_end(reference_id)
            return found
    data = session.scalar(
        select(AggregateLayout.layout).where(AggregateLayout.reference_id == reference_id)
    )
    if data is None:
        return None
    layout = Layout.from_bytes(data)
    with _CACHE_LOCK:
        _CACHE[reference_id] = layout
        while len(_CACHE) > _CACHE_SIZE:
            _CACHE.popitem(last=False)
    return layout


def lock_states(session: Session, versions: Mapping[int, int]) -> dict[int, int | None]:
    """Share-lock the state rows of ``versions`` (version id -> model id), creating missing
    ones; return each version's current reference id (None: not aggregated)."""
    if not versions:
        return {}
    query = (
        select(AggregateState.version_id, AggregateState.reference_id)
        .where(AggregateState.version_id.in_(list(versions)))
        .with_for_update(read=True)
    )
    found: dict[int, int | None] = dict(session.execute(query).tuples().all())
    missing = [v for v in versions if v not in found]
    if missing:
        # A row must exist before a version's events are inserted, so that a later switch to
        # a reference has a row to update (and wait on); see the module docstring.
        session.execute(
            insert_ignore(session, AggregateState, ["version_id"]),
            [
                {
                    "version_id": v,
                    "model_id": versions[v],
                    "reference_id": None,
                    "status": "none",
                    "cursor_id": 0,
                    "total_events": 0,
                    "done_events": 0,
                }
                for v in missing
            ],
        )
        found.update(session.execute(query).tuples().all())
    return found


def lock_model_states(session: Session, model_ids: Iterable[int]) -> None:
    """Share-lock every state row of the models (labels name a model, not a version)."""
    ids = sorted(set(model_ids))
    if ids:
        session.execute(
            select(AggregateState.version_id)
            .where(AggregateState.model_id.in_(ids))
            .with_for_update(read=True)
        ).all()
