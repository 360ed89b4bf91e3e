"""Reading stored events back, newest first, for debugging and the API."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.orm import Session

from driftline.core.storage import tables as t
from driftline.registry.models import find_version, load_model_row

__all__ = ["EventPage", "StoredEvent", "list_events"]


class StoredEvent(BaseModel):
    event_id: str
    model: str
    model_version: str
    event_time: datetime
    received_at: datetime
    features: dict[str, Any]
    extra_features: dict[str, Any] | None
    type_violations: list[str] | None
    prediction: Any
    score: Any
    tags: dict[str, str] | None
    label: Any = None


class EventPage(BaseModel):
    events: list[StoredEvent]
    next_cursor: int | None


def list_events(
    session: Session,
    model: str,
    *,
    version: str | None = None,
    limit: int = 100,
    before: int | None = None,
) -> EventPage:
    """A page of the model's events by arrival, newest first; pass ``next_cursor`` as
    ``before`` for the next page."""
    model_row = load_model_row(session, model)
    query = (
        select(t.PredictionEvent, t.ModelVersion.version, t.Label.label)
        .join(t.ModelVersion, t.ModelVersion.id == t.PredictionEvent.version_id)
        .outerjoin(t.Label, t.Label.event_id == t.PredictionEvent.event_id)
        .where(t.PredictionEvent.model_id == model_row.id)
        .order_by(t.PredictionEvent.id.desc())
        .limit(limit + 1)
    )
    if version is not None:
        version_id = find_version(session, model_row, version).id
        query = query.where(t.PredictionEvent.version_id == version_id)
    if before is not None:
        query = query.where(t.PredictionEvent.id < before)
    rows = session.execute(query).all()
    events = [
        StoredEvent(
            event_id=e.event_id,
            model=model,
            model_version=v,
            event_time=e.event_time,
            received_at=e.received_at,
            features=e.features,
            extra_features=e.extra_features,
            type_violations=e.type_violations,
            prediction=e.prediction,
            score=e.score,
            tags=e.tags,
            label=label,
        )
        for e, v, label in rows[:limit]
    ]
    next_cursor = rows[limit - 1][0].id if len(rows) > limit else None
    return EventPage(events=events, next_cursor=next_cursor)
