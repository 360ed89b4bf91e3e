"""The raw-path window: a version's events in [start, end) as columns, with their labels.

Also what a run derives from it besides drift: performance on the labelled events and the
per-segment checks.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from detectors import performance
from detectors.config import MonitorConfig
from detectors.drift import DatasetResult, detect
from detectors.profile import ModelProfile
from driftline.core.storage import tables as t

__all__ = ["Window", "load_window", "performance_of", "segments_of"]


@dataclass
class Window:
    columns: dict[str, list[Any]]
    predictions: list[Any]
    violations: Counter[str]
    n_events: int
    labelled: list[tuple[Any, Any, Any]]  # (label, prediction, score)
    tags: list[dict[str, str] | None]


def load_window(
    session: Session, version_id: int, start: datetime, end: datetime, names: list[str]
) -> Window:
    rows = session.execute(
        select(
            t.PredictionEvent.features,
            t.PredictionEvent.prediction,
            t.PredictionEvent.type_violations,
            t.PredictionEvent.score,
            t.Label.label,
            t.PredictionEvent.tags,
        )
        .outerjoin(t.Label, t.Label.event_id == t.PredictionEvent.event_id)
        .where(
            t.PredictionEvent.version_id == version_id,
            t.PredictionEvent.event_time >= start,
            t.PredictionEvent.event_time < end,
        )
    ).all()
    window = Window({name: [] for name in names}, [], Counter(), len(rows), [], [])
    for features, prediction, bad, score, label, tags in rows:
        window.tags.append(tags)
        for name in names:
            window.columns[name].append(features.get(name))
        window.predictions.append(prediction)
        if bad:
            window.violations.update(bad)
        if label is not None:
            window.labelled.append((label, prediction, score))
    return window


def performance_of(task: str, window: Window) -> dict[str, float | None]:
    labels = [label for label, _, _ in window.labelled]
    predictions = [prediction for _, prediction, _ in window.labelled]
    if task == "regression":
        return performance.regression(labels, predictions, window.n_events)
    scores = [score for _, _, score in window.labelled]
    return performance.classification(labels, predictions, scores, window.n_events)


def segments_of(
    profile: ModelProfile, window: Window, config: MonitorConfig, keys: frozenset[str]
) -> dict[str, DatasetResult]:
    """The same checks per value of each configured tag, for its most frequent values."""
    out: dict[str, DatasetResult] = {}
    for tag in config.segment_tags:
        values = Counter(tags.get(tag) for tags in window.tags if tags and tags.get(tag))
        for value, _ in values.most_common(config.max_segment_values):
            rows = [i for i, tags in enumerate(window.tags) if tags and tags.get(tag) == value]
            columns = {name: [col[i] for i in rows] for name, col in window.columns.items()}
            out[f"{tag}={value}"] = detect(profile, columns, len(rows), config, key_features=keys)
    return out
