"""The scheduler's aggregate maintenance: layouts for new references and their rebuilds,
compaction of closed buckets, pairing of labels that raced their predictions, and the
re-evaluation of runs whose windows received late events.

Each step is safe with several schedulers: switches and rebuild chunks use compare-and-set
updates, compaction skips locked rows, re-evaluations are claimed with a lease.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, or_, select, update

from detectors.aggregate_layout import layout_from_profile
from detectors.monitors import monitor_config
from detectors.records import RunRecord
from detectors.runs import profile_for, run_detection
from driftline.aggregates import pairs, stored_counts
from driftline.aggregates.compact import compact
from driftline.aggregates.rebuild import rebuild_step, switch
from driftline.core.aggregate_settings import AggregateSettings
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.core.storage.aggregate_tables import AggregateState, RunReevaluation

__all__ = ["Maintained", "ensure_layouts", "maintain", "rebuild", "reevaluate"]

log = logging.getLogger(__name__)
LEASE = timedelta(minutes=15)
SWEEP_SPAN = timedelta(hours=1)  # labels and predictions racing each other arrive close together


@dataclass
class Maintained:
    switched: list[int] = field(default_factory=list)  # version ids
    rebuilt_events: int = 0
    compacted: int = 0
    paired: int = 0
    reevaluated: list[RunRecord] = field(default_factory=list)


def ensure_layouts(database: Database, settings: AggregateSettings, now: datetime) -> list[int]:
    """Switch every version whose current reference has no aggregates yet; returns them."""
    with database.read() as session:
        current = dict(
            session.execute(
                select(t.ReferenceDataset.version_id, func.max(t.ReferenceDataset.id)).group_by(
                    t.ReferenceDataset.version_id
                )
            )
            .tuples()
            .all()
        )
        states = dict(
            session.execute(select(AggregateState.version_id, AggregateState.reference_id))
            .tuples()
            .all()
        )
    switched = []
    for version_id, reference_id in sorted(current.items()):
        if states.get(version_id) == reference_id:
            continue
        # The layout is built in a transaction of its own: the switch then holds the state
        # row (which ingest of this version waits on) only for a few statements.
        with database.write() as session:
            reference = session.get(t.ReferenceDataset, reference_id)
            version = session.get(t.ModelVersion, version_id)
            assert reference is not None and version is not None
            model = session.get(t.Model, version.model_id)
            assert model is not None
            config = monitor_config(session, version_id)
            profile = profile_for(session, model, reference, config.n_bins)
            layout = layout_from_profile(
                profile, reference_id, settings.bucket_seconds, settings.fine_bins
            )
            model_id = model.id
        with database.write() as session:
            if switch(session, model_id, version_id, reference_id, layout.to_bytes(), now):
                switched.append(version_id)
    return switched


def rebuild(database: Database, settings: AggregateSettings, now: datetime, budget_s: float) -> int:
    """Rebuild chunks of every rebuilding version until done or ``budget_s`` has passed."""
    deadline = time.monotonic() + budget_s
    with database.read() as session:
        versions = list(
            session.scalars(
                select(AggregateState.version_id).where(AggregateState.status == "rebuilding")
            )
        )
    done = 0
    for version_id in versions:
        more = True
        while more and time.monotonic() < deadline:
            try:
                with database.write() as session:
                    before = session.get(AggregateState, version_id)
                    start = before.done_events if before is not None else 0
                    more = rebuild_step(session, version_id, settings.rebuild_chunk_events, now)
                    after = session.get(AggregateState, version_id)
                    done += (after.done_events if after is not None else 0) - start
            except LookupError:  # another scheduler took this chunk, or the reference changed
                more = False
    return done


def reevaluate(
    database: Database, settings: AggregateSettings, owner: str, now: datetime, limit: int = 20
) -> list[RunRecord]:
    """Run again, once, every scheduled window marked by late events."""
    with database.write() as session:
        claimed = session.execute(
            select(RunReevaluation.run_id, RunReevaluation.requested_at)
            .where(
                or_(RunReevaluation.claimed_at.is_(None), RunReevaluation.claimed_at < now - LEASE)
            )
            .order_by(RunReevaluation.requested_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        ids = [run_id for run_id, _ in claimed]
        session.execute(
            update(RunReevaluation)
            .where(RunReevaluation.run_id.in_(ids))
            .values(claimed_by=owner, claimed_at=now)
        )
        runs = session.execute(
            select(t.DetectionRun, t.Model.name, t.ModelVersion.version)
            .join(t.Model, t.Model.id == t.DetectionRun.model_id)
            .join(t.ModelVersion, t.ModelVersion.id == t.DetectionRun.version_id)
            .where(t.DetectionRun.id.in_(ids))
        ).all()
    requested = {run_id: at for run_id, at in claimed}
    out = []
    for run, model, version in runs:
        try:
            out.append(
                run_detection(
                    database,
                    model,
                    version=version,
                    window_end=run.window_end,
                    window=run.window_end - run.window_start,
                    trigger="reevaluation",
                    aggregates=settings,
                )
            )
        except Exception:  # released below: retried at the next pass
            log.exception("re-evaluation of run %s failed", run.id)
            with database.write() as session:
                session.execute(
                    update(RunReevaluation)
                    .where(RunReevaluation.run_id == run.id)
                    .values(claimed_by=None, claimed_at=None)
                )
            continue
        with database.write() as session:
            # Only the request this pass answered: a later late event asks again.
            gone = session.execute(
                delete(RunReevaluation)
                .where(
                    RunReevaluation.run_id == run.id,
                    RunReevaluation.requested_at == requested[run.id],
                )
                .returning(RunReevaluation.run_id)
            ).first()
            if gone is None:
                session.execute(
                    update(RunReevaluation)
                    .where(RunReevaluation.run_id == run.id)
                    .values(claimed_by=None, claimed_at=None)
                )
    return out


def maintain(
    database: Database, settings: AggregateSettings, owner: str, now: datetime | None = None
) -> Maintained:
    """One maintenance pass (the scheduler runs it every ``maintenance_seconds``)."""
    now = now or datetime.now(UTC)
    out = Maintained()
    with database.write() as session:  # first: it feeds /metrics, with or without aggregates
        stored_counts.fold(session)
    if settings.enabled:
        out.switched = ensure_layouts(database, settings, now)
        out.rebuilt_events = rebuild(database, settings, now, settings.maintenance_seconds / 2)
        with database.write() as session:
            out.paired = pairs.sweep(session, now - SWEEP_SPAN, now)
        closed = now - timedelta(seconds=2 * settings.bucket_seconds)
        while True:
            with database.write() as session:
                batch = compact(session, closed, now)
            out.compacted += batch
            if batch < 200:
                break
    out.reevaluated = reevaluate(database, settings, owner, now)
    return out
