"""The ingest side: what one ``store_events`` call stored, added to the aggregates in its
transaction.

``store_events`` calls :meth:`~IngestAggregates.prepare` with the batch's versions before
inserting (this share-locks the versions' states, see ``driftline.aggregates.states``),
:meth:`IngestAggregates.add` for every prediction as its row is built, and
:meth:`~IngestAggregates.record` with the positions that
were actually new. Only those are aggregated, so a re-delivered event changes nothing. Each
(version, time bucket) of the batch becomes one appended ``aggregate_buckets`` row: concurrent
writers never update a shared row. A bucket that is already closed (its end has passed) may
belong to a window that a scheduled run evaluated; such runs are marked for re-evaluation.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from driftline.aggregates.accumulate import Fresh, accumulate, group
from driftline.aggregates.pairs import count_pairs
from driftline.aggregates.states import layout_of, lock_model_states, lock_states
from driftline.core.contract import LabelEvent
from driftline.core.storage import tables as t
from driftline.core.storage.aggregate_tables import AggregateBucket, RunReevaluation
from driftline.core.storage.upsert import upsert

__all__ = ["IngestAggregates", "mark_late_runs", "write_partials"]


class IngestAggregates:
    """Collects one ``store_events`` call's predictions; writes their aggregates."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._events: dict[int, tuple[int, datetime, dict[str, Any], list[str] | None, Any]] = {}
        self._models: dict[int, int] = {}  # version id -> model id
        self._states: dict[int, int | None] = {}

    def add(
        self,
        index: int,
        version_id: int,
        event_time: datetime,
        features: dict[str, Any],
        violations: list[str] | None,
        prediction: Any,
    ) -> None:
        # A plain tuple: most events go to versions without aggregates, and never need a Fresh.
        self._events[index] = (version_id, event_time, features, violations, prediction)

    def prepare(self, versions: dict[int, int], label_models: set[int]) -> None:
        """Share-lock the states of the batch's versions (version id -> model id) and of
        labelled models: call before inserting, so a reference switch either waits for this
        transaction or precedes it."""
        self._models = versions
        self._states = lock_states(self.session, self._models)
        lock_model_states(self.session, label_models - set(self._models.values()))

    def record(self, stored: Sequence[int], events: Sequence[Any]) -> None:
        """Aggregate the events at ``stored`` positions (those this call inserted)."""
        fresh: list[Fresh] = []
        predicted: list[str] = []
        labelled: list[str] = []
        for index in stored:
            found = self._events.get(index)
            if found is not None:
                if self._states.get(found[0]) is not None:
                    fresh.append(Fresh(*found))
                    predicted.append(events[index].event_id)
            elif isinstance(events[index], LabelEvent):
                labelled.append(events[index].event_id)
        if fresh:
            write_partials(self.session, fresh, self._states)
        # A new prediction can only pair with a label waiting for it (not counted yet); most
        # models have none, which one look at the index of waiting labels tells.
        if predicted and not labelled and not self._labels_waiting():
            predicted = []
        if predicted or labelled:
            count_pairs(self.session, predicted + labelled, datetime.now(UTC))

    def _labels_waiting(self) -> bool:
        models = sorted(set(self._models.values()))
        found = self.session.scalar(
            select(t.Label.id)
            .where(t.Label.aggregated_ref.is_(None), t.Label.model_id.in_(models))
            .limit(1)
        )
        return found is not None


def write_partials(
    session: Session,
    events: Sequence[Fresh],
    states: dict[int, int | None],
    *,
    mark_late: bool = True,
) -> None:
    """Append one partial per (version, bucket) of ``events`` under each version's layout;
    with ``mark_late``, runs of closed windows holding a bucket are marked for re-evaluation."""
    now = datetime.now(UTC)
    rows = []
    closed: list[tuple[int, datetime]] = []
    by_version: dict[int, list[Fresh]] = {}
    for event in events:
        by_version.setdefault(event.version_id, []).append(event)
    for version_id, chosen in by_version.items():
        reference_id = states.get(version_id)
        layout = layout_of(session, reference_id) if reference_id is not None else None
        if layout is None or reference_id is None:
            continue
        step = timedelta(seconds=layout.bucket_seconds)
        for (_, bucket), members in group(chosen, layout.bucket_seconds).items():
            partial = accumulate(layout, members)
            rows.append(
                {
                    "version_id": version_id,
                    "reference_id": reference_id,
                    "bucket_start": bucket,
                    "n_events": partial.n_events,
                    "compacted": False,
                    "data": partial.encode(),
                    "created_at": now,
                }
            )
            if mark_late and bucket + step <= now:
                closed.append((version_id, bucket))
    if rows:
        session.execute(insert(AggregateBucket), rows)
    if closed:
        mark_late_runs(session, closed, now)


def mark_late_runs(session: Session, buckets: Sequence[tuple[int, datetime]], now: datetime) -> int:
    """Mark the scheduled runs whose window holds one of the (version, bucket start) pairs."""
    run_ids: set[int] = set()
    for version_id, bucket in set(buckets):
        run_ids.update(
            session.scalars(
                select(t.DetectionRun.id).where(
                    t.DetectionRun.version_id == version_id,
                    t.DetectionRun.schedule_key.is_not(None),
                    t.DetectionRun.window_end > bucket,
                    t.DetectionRun.window_start <= bucket,
                )
            )
        )
    if run_ids:
        session.execute(
            upsert(session, RunReevaluation, ["run_id"], ["requested_at"]),
            [{"run_id": r, "requested_at": now} for r in sorted(run_ids)],
        )
    return len(run_ids)
