"""Writing validated events and labels: one transaction, idempotent on ``event_id``.

This is the ingest hot path (the collector stores tens of thousands of events a second through
it): each event is checked here, becomes one row tuple (``ingest.rows``), and the rows go to
:func:`~driftline.core.storage.bulk.insert_new` in bulk.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from driftline.aggregates.ingest import IngestAggregates
from driftline.aggregates.stored_counts import add_stored
from driftline.core.contract import LabelEvent, PredictionEvent
from driftline.core.storage import tables as t
from driftline.core.storage.bulk import insert_new
from driftline.ingest.rows import (
    LABEL_COLUMNS,
    PREDICTION_COLUMNS,
    Accepted,
    json_column,
    output_value,
    prediction_rows,
    registered_models,
)
from driftline.registry.models import ensure_version

__all__ = ["LABEL_COLUMNS", "PREDICTION_COLUMNS", "StoreOutcome", "store_events"]


@dataclass
class StoreOutcome:
    """What happened to each event passed in, by its position in the input.

    ``stored`` lists exactly the events this call inserted (not those already stored), so
    anything derived from new events (counts, aggregates) can start from it.
    """

    stored: list[int] = field(default_factory=list)
    duplicate: list[int] = field(default_factory=list)
    rejected: dict[int, tuple[str, str]] = field(default_factory=dict)  # index -> (field, reason)
    type_violations: int = 0


def store_events(
    session: Session,
    events: Sequence[PredictionEvent | LabelEvent],
    received_at: datetime | None = None,
    encoded_features: Sequence[bytes | None] | None = None,
) -> StoreOutcome:
    """Insert the events in the session's transaction; the caller commits.

    Unknown models are rejected per event. A repeated ``event_id`` (already stored, or twice in
    this batch) is counted as a duplicate and stored once. ``encoded_features``, parallel to
    ``events`` when given, holds ``json_column(event.features)`` already computed by the caller, for
    features whose floats are all finite (else ``None``): it is stored as is when conforming
    keeps the event's features unchanged.
    """
    now = received_at or datetime.now(UTC)
    outcome = StoreOutcome()
    models = registered_models(session, {e.model for e in events})
    versions: dict[tuple[int, str | None], int] = {}
    # Checked predictions, whose rows are built while they are inserted (_prediction_rows).
    accepted: list[Accepted] = []
    labels: list[tuple[Any, ...]] = []
    label_at: list[int] = []
    seen: set[tuple[str, str]] = set()
    aggregates = IngestAggregates(session)  # window aggregates of what gets stored
    # Retention has forgotten the ids of predictions older than this (storage.bulk re-checks it
    # under its lock; a batch racing a retention pass gets duplicates there instead).
    horizon = session.scalar(select(t.RawEventHorizon.forgotten_before))
    for index, event in enumerate(events):
        info = models.get(event.model)
        if info is None:
            outcome.rejected[index] = ("model", f"model {event.model!r} is not registered")
            continue
        key = (event.type, event.event_id)
        if key in seen:
            outcome.duplicate.append(index)
            continue
        if isinstance(event, LabelEvent):
            label, problem = output_value(event.label, info.label_type, "label")
            if problem:
                outcome.rejected[index] = ("label", problem)
                continue
            seen.add(key)
            labels.append(
                (event.event_id, info.id, json_column(label), event.event_time or now, now)
            )
            label_at.append(index)
            continue
        output = event.prediction
        kind = type(output)
        if kind not in info.prediction_as_is or (kind is float and not math.isfinite(output)):
            output, problem = output_value(output, info.prediction_type, "prediction")
            if problem:
                outcome.rejected[index] = ("prediction", problem)
                continue
        when = event.event_time or now
        if horizon is not None and when < horizon:
            outcome.rejected[index] = ("event_time", _past_retention(when, horizon))
            continue
        seen.add(key)
        version_key = (info.id, event.model_version)
        version_id = versions.get(version_key)
        if version_id is None:
            version_id = versions[version_key] = ensure_version(
                session, info.id, event.model_version
            )
        accepted.append((index, event, info, version_id, output, when))
    labelled = {e.model for e in events if isinstance(e, LabelEvent)}
    aggregates.prepare(
        {version_id: model_id for (model_id, _), version_id in versions.items()},
        {info.id for name, info in models.items() if name in labelled},
    )
    predictions: list[tuple[Any, ...]] = []
    prediction_at: list[int] = []  # input position of each row
    if accepted:
        violated: list[int] = []
        rows = prediction_rows(
            accepted, now, encoded_features, aggregates, predictions, prediction_at, violated
        )
        stored = _insert(session, t.PredictionEvent, PREDICTION_COLUMNS, rows)
        _sort_out(stored, predictions, prediction_at, outcome)
        outcome.type_violations += len(violated)
        add_stored(session, Counter(row[1] for row in predictions if row[0] in stored))
    if labels:
        new_labels = _insert(session, t.Label, LABEL_COLUMNS, iter(labels))
        _sort_out(new_labels, labels, label_at, outcome)
    aggregates.record(outcome.stored, events)
    return outcome


def _past_retention(when: datetime, horizon: datetime) -> str:
    return (
        f"event_time {when.isoformat()} is before {horizon.isoformat()}: raw events that old "
        "have been removed by retention (aggregates.raw_retention_days), so this one can no "
        "longer be stored or told apart from a re-delivery"
    )


def _insert(
    session: Session,
    table: Any,
    columns: Sequence[str],
    rows: Iterator[tuple[Any, ...]],
) -> set[str]:
    """Insert all the rows; return the ``event_id``s that were new."""
    new = insert_new(session, table.__table__, columns, rows)
    if next(rows, None) is not None:  # a row never inserted would be counted a duplicate
        raise RuntimeError(f"insert_new left rows of {table.__tablename__} unread")
    return new


def _sort_out(
    new: set[str], rows: list[tuple[Any, ...]], positions: list[int], outcome: StoreOutcome
) -> None:
    if len(new) == len(rows):  # the usual case: nothing was stored before
        outcome.stored.extend(positions)
        return
    for index, row in zip(positions, rows, strict=True):
        (outcome.stored if row[0] in new else outcome.duplicate).append(index)
