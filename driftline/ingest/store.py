"""Writing validated events and labels: one transaction, idempotent on ``event_id``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import JSON, select
from sqlalchemy.orm import Session

from driftline.core.contract import LabelEvent, PredictionEvent
from driftline.core.modelspec import FeatureType
from driftline.core.storage import tables as t
from driftline.core.storage.bulk import insert_new
from driftline.ingest.conform import conform_features, conform_value
from driftline.registry.models import ensure_version

__all__ = ["StoreOutcome", "store_events"]


@dataclass
class StoreOutcome:
    """What happened to each event passed in, by its position in the input."""

    stored: list[int] = field(default_factory=list)
    duplicate: list[int] = field(default_factory=list)
    rejected: dict[int, tuple[str, str]] = field(default_factory=dict)  # index -> (field, reason)
    type_violations: int = 0


@dataclass(frozen=True, slots=True)
class _ModelInfo:
    id: int
    schema: dict[str, FeatureType]
    prediction_type: FeatureType
    label_type: FeatureType


def _models(session: Session, names: set[str]) -> dict[str, _ModelInfo]:
    rows = session.execute(
        select(
            t.Model.name, t.Model.id, t.Model.features, t.Model.prediction_type, t.Model.label_type
        ).where(t.Model.name.in_(names))
    )
    return {
        name: _ModelInfo(
            mid,
            {f["name"]: FeatureType(f["type"]) for f in feats},
            FeatureType(pt),
            FeatureType(lt),
        )
        for name, mid, feats, pt, lt in rows
    }


def _output(value: object, kind: FeatureType, what: str) -> tuple[object, str | None]:
    """A prediction or label as the model's declared type, or why it cannot be one."""
    try:
        return conform_value(value, kind), None
    except ValueError as exc:
        return None, f"{exc} (the model's {what} type is {kind})"


def store_events(
    session: Session,
    events: Sequence[PredictionEvent | LabelEvent],
    received_at: datetime | None = None,
) -> StoreOutcome:
    """Insert the events in the session's transaction; the caller commits.

    Unknown models are rejected per event. A repeated ``event_id`` (already stored, or twice in
    this batch) is counted as a duplicate and stored once.
    """
    now = received_at or datetime.now(UTC)
    outcome = StoreOutcome()
    models = _models(session, {e.model for e in events})
    versions: dict[tuple[int, str | None], int] = {}
    predictions: list[tuple[int, dict[str, Any]]] = []
    labels: list[tuple[int, dict[str, Any]]] = []
    seen: set[tuple[str, str]] = set()
    for index, event in enumerate(events):
        info = models.get(event.model)
        if info is None:
            outcome.rejected[index] = ("model", f"model {event.model!r} is not registered")
            continue
        if (event.type, event.event_id) in seen:
            outcome.duplicate.append(index)
            continue
        if isinstance(event, LabelEvent):
            label, problem = _output(event.label, info.label_type, "label")
            if problem:
                outcome.rejected[index] = ("label", problem)
                continue
            seen.add((event.type, event.event_id))
            labels.append(
                (
                    index,
                    {
                        "event_id": event.event_id,
                        "model_id": info.id,
                        "label": label,
                        "event_time": event.event_time or now,
                        "received_at": now,
                    },
                )
            )
            continue
        output, problem = _output(event.prediction, info.prediction_type, "prediction")
        if problem:
            outcome.rejected[index] = ("prediction", problem)
            continue
        seen.add((event.type, event.event_id))
        key = (info.id, event.model_version)
        if key not in versions:
            versions[key] = ensure_version(session, info.id, event.model_version)
        conformed = conform_features(event.features, info.schema)
        outcome.type_violations += bool(conformed.violations)
        predictions.append(
            (
                index,
                {
                    "event_id": event.event_id,
                    "model_id": info.id,
                    "version_id": versions[key],
                    "event_time": event.event_time or now,
                    "received_at": now,
                    "features": conformed.features,
                    "extra_features": conformed.extra,
                    "type_violations": conformed.violations,
                    "prediction": output,
                    "score": event.score,
                    "tags": event.tags,
                },
            )
        )
    _insert(session, t.PredictionEvent, predictions, outcome)
    _insert(session, t.Label, labels, outcome)
    return outcome


def _insert(
    session: Session, table: Any, rows: list[tuple[int, dict[str, Any]]], outcome: StoreOutcome
) -> None:
    if not rows:
        return
    json_columns = {c.name for c in table.__table__.columns if isinstance(c.type, JSON)}
    new = insert_new(session, table.__table__, [row for _, row in rows], json_columns)
    for index, row in rows:
        (outcome.stored if row["event_id"] in new else outcome.duplicate).append(index)
