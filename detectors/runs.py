"""A detection run end to end: load the window, compare it with the reference, store results.

Raw path: the window's events are read from ``prediction_events`` (the aggregate path for large
windows comes later, see issue 10); the run records which path it used.
"""

from __future__ import annotations

import io
import time
from collections import Counter
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session

from detectors import performance
from detectors.config import MonitorConfig
from detectors.drift import DatasetResult, FeatureResult, detect
from detectors.profile import ModelProfile, build_profile
from detectors.records import FeatureRecord, RunRecord
from driftline.core.errors import NotFoundError
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.registry.models import load_model_row

__all__ = [
    "get_run",
    "list_runs",
    "monitor_config",
    "profile_for",
    "run_detection",
    "set_monitor_config",
    "version_config",
]


def _version(session: Session, model: t.Model, version: str | None) -> t.ModelVersion:
    query = select(t.ModelVersion).where(t.ModelVersion.model_id == model.id)
    if version is None:
        found = session.scalar(query.order_by(t.ModelVersion.id.desc()).limit(1))
    else:
        found = session.scalar(query.where(t.ModelVersion.version == version))
    if found is None:
        raise NotFoundError(f"model {model.name!r} has no version {version!r}")
    return found


def monitor_config(session: Session, version_id: int) -> MonitorConfig:
    stored = session.scalar(
        select(t.MonitorSettings.config).where(t.MonitorSettings.version_id == version_id)
    )
    return MonitorConfig.model_validate(stored) if stored else MonitorConfig()


def set_monitor_config(
    session: Session, model_name: str, version: str, config: MonitorConfig
) -> MonitorConfig:
    model = load_model_row(session, model_name)
    version_row = _version(session, model, version)
    row = session.scalar(
        select(t.MonitorSettings).where(t.MonitorSettings.version_id == version_row.id)
    )
    stored = config.model_dump(mode="json")
    if row is None:
        session.add(
            t.MonitorSettings(
                version_id=version_row.id, config=stored, updated_at=datetime.now(UTC)
            )
        )
    else:
        row.config, row.updated_at = stored, datetime.now(UTC)
    return config


def version_config(session: Session, model_name: str, version: str) -> MonitorConfig:
    model = load_model_row(session, model_name)
    return monitor_config(session, _version(session, model, version).id)


def profile_for(
    session: Session, model: t.Model, reference: t.ReferenceDataset, n_bins: int
) -> ModelProfile:
    """The stored profile, or build and store it (references uploaded before profiles)."""
    if reference.profile is not None:
        profile = ModelProfile.from_bytes(reference.profile)
        if profile.n_bins == n_bins:
            return profile
    frame = pd.read_parquet(io.BytesIO(reference.data))
    kinds = {f["name"]: f["type"] for f in model.features}
    profile = build_profile(frame, kinds, model.prediction_type, n_bins=n_bins)
    reference.profile = profile.to_bytes()
    return profile


@dataclass
class _Window:
    columns: dict[str, list[Any]]
    predictions: list[Any]
    violations: Counter[str]
    n_events: int
    labelled: list[tuple[Any, Any, Any]]  # (label, prediction, score)
    tags: list[dict[str, str] | None]


def _window(
    session: Session, version_id: int, start: datetime, end: datetime, names: list[str]
) -> _Window:
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
    window = _Window({name: [] for name in names}, [], Counter(), len(rows), [], [])
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


def _performance(task: str, window: _Window) -> dict[str, float | None]:
    labels = [label for label, _, _ in window.labelled]
    predictions = [prediction for _, prediction, _ in window.labelled]
    if task == "regression":
        return performance.regression(labels, predictions, window.n_events)
    scores = [score for _, _, score in window.labelled]
    return performance.classification(labels, predictions, scores, window.n_events)


def _feature_row(
    run_id: int, result: FeatureResult, is_prediction: bool, segment: str | None = None
) -> t.FeatureResultRow:
    values = asdict(result)
    values["unseen_examples"] = list(values["unseen_examples"]) or None
    return t.FeatureResultRow(run_id=run_id, is_prediction=is_prediction, segment=segment, **values)


def _segments(
    profile: ModelProfile, window: _Window, config: MonitorConfig, keys: frozenset[str]
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


def run_detection(
    database: Database,
    model_name: str,
    *,
    version: str | None = None,
    window_end: datetime | None = None,
    window: timedelta | None = None,
    trigger: str = "manual",
    schedule_key: str | None = None,
) -> RunRecord:
    """Compare the window ending at ``window_end`` (default now) with the current reference."""
    started_at, clock = datetime.now(UTC), time.perf_counter()
    with database.write() as session:
        model = load_model_row(session, model_name)
        version_row = _version(session, model, version)
        reference = session.scalar(
            select(t.ReferenceDataset)
            .where(t.ReferenceDataset.version_id == version_row.id)
            .order_by(t.ReferenceDataset.id.desc())
            .limit(1)
        )
        if reference is None:
            raise NotFoundError(
                f"model {model_name!r} version {version_row.version!r} has no "
                "reference; upload one first"
            )
        config = monitor_config(session, version_row.id)
        profile = profile_for(session, model, reference, config.n_bins)
        end = window_end or started_at
        start = end - (window or config.window)
        names = list(profile.features)
        window_data = _window(session, version_row.id, start, end, names)
        n_events = window_data.n_events
        keys = frozenset(f["name"] for f in model.features if f.get("key"))
        result: DatasetResult = detect(
            profile,
            window_data.columns,
            n_events,
            config,
            key_features=keys,
            violations=window_data.violations,
            predictions=window_data.predictions,
        )
        segments = _segments(profile, window_data, config, keys)
        run = t.DetectionRun(
            model_id=model.id,
            version_id=version_row.id,
            reference_id=reference.id,
            reference_hash=reference.content_hash,
            trigger=trigger,
            schedule_key=schedule_key,
            path="raw",
            window_start=start,
            window_end=end,
            status=result.status,
            n_events=n_events,
            drift_share=result.drift_share if result.status == "ok" else None,
            dataset_drift=result.dataset_drift if result.status == "ok" else None,
            drifted_features=list(result.drifted_features) if result.status == "ok" else None,
            performance=_performance(model.task, window_data),
            segments={
                name: {
                    "n_events": seg.n_events,
                    "status": seg.status,
                    "drift_share": seg.drift_share,
                    "dataset_drift": seg.dataset_drift,
                    "drifted_features": list(seg.drifted_features),
                }
                for name, seg in segments.items()
            }
            or None,
            error=None,
            started_at=started_at,
            duration_s=time.perf_counter() - clock,
        )
        session.add(run)
        session.flush()
        session.add_all(_feature_row(run.id, r, False) for r in result.features)
        if result.prediction is not None:
            session.add(_feature_row(run.id, result.prediction, True))
        for name, seg in segments.items():
            session.add_all(_feature_row(run.id, r, False, name) for r in seg.features)
        session.flush()
        return _record(session, run, model.name, version_row.version)


def _record(session: Session, run: t.DetectionRun, model: str, version: str) -> RunRecord:
    features = session.scalars(
        select(t.FeatureResultRow)
        .where(t.FeatureResultRow.run_id == run.id)
        .order_by(t.FeatureResultRow.id)
    )
    return RunRecord(
        id=run.id,
        model=model,
        version=version,
        reference_id=run.reference_id,
        reference_hash=run.reference_hash,
        trigger=run.trigger,
        path=run.path,
        window_start=run.window_start,
        window_end=run.window_end,
        status=run.status,
        n_events=run.n_events,
        drift_share=run.drift_share,
        dataset_drift=run.dataset_drift,
        drifted_features=run.drifted_features,
        performance=run.performance,
        segments=run.segments,
        error=run.error,
        started_at=run.started_at,
        duration_s=run.duration_s,
        features=[FeatureRecord.model_validate(f) for f in features],
    )


def get_run(session: Session, run_id: int) -> RunRecord:
    found = session.execute(
        select(t.DetectionRun, t.Model.name, t.ModelVersion.version)
        .join(t.Model, t.Model.id == t.DetectionRun.model_id)
        .join(t.ModelVersion, t.ModelVersion.id == t.DetectionRun.version_id)
        .where(t.DetectionRun.id == run_id)
    ).first()
    if found is None:
        raise NotFoundError(f"run {run_id} does not exist")
    return _record(session, *found)


def list_runs(
    session: Session,
    model_name: str,
    *,
    version: str | None = None,
    limit: int = 20,
    drifted_only: bool = False,
) -> list[RunRecord]:
    """Newest first; each with its feature results."""
    model = load_model_row(session, model_name)
    query = (
        select(t.DetectionRun, t.ModelVersion.version)
        .join(t.ModelVersion, t.ModelVersion.id == t.DetectionRun.version_id)
        .where(t.DetectionRun.model_id == model.id)
        .order_by(t.DetectionRun.id.desc())
        .limit(limit)
    )
    if version is not None:
        query = query.where(t.ModelVersion.version == version)
    if drifted_only:
        query = query.where(t.DetectionRun.dataset_drift.is_(True))
    return [_record(session, run, model.name, v) for run, v in session.execute(query)]
