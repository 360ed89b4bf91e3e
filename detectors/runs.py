"""A detection run end to end: load the window, compare it with the reference, store results.

Raw path: the window's events are read from ``prediction_events``. Aggregate path: the window's
buckets are summed (``detectors.aggregate_path``), for large or old windows. The run records
which path it used, and on the aggregate path each KS or Wasserstein statistic's error bound.
"""

from __future__ import annotations

import io
import time
from dataclasses import asdict
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from detectors import aggregate_path, profile_codec
from detectors.aggregate_path import Path
from detectors.binned_detect import Bounds
from detectors.drift import DatasetResult, FeatureResult, detect
from detectors.monitors import monitor_config
from detectors.profile import ModelProfile, build_profile
from detectors.records import FeatureRecord, RunRecord
from detectors.rolling import compare_with_previous, skipped
from detectors.window import load_window, performance_of, segments_of
from driftline.core.aggregate_settings import AggregateSettings
from driftline.core.errors import NotFoundError
from driftline.core.storage import Database
from driftline.core.storage import tables as t
from driftline.registry.models import find_version, load_model_row

__all__ = ["get_run", "list_runs", "profile_for", "run_detection"]


def profile_for(
    session: Session, model: t.Model, reference: t.ReferenceDataset, n_bins: int
) -> ModelProfile:
    """The stored profile, or build and store it (references uploaded before profiles)."""
    if reference.profile is not None:
        profile = ModelProfile.from_bytes(reference.profile)
        if profile.n_bins == n_bins:
            if not profile_codec.is_encoded(reference.profile):
                reference.profile = profile.to_bytes()  # an .npz profile: decoded once, not per run
            return profile
    frame = pd.read_parquet(io.BytesIO(reference.data))
    kinds = {f["name"]: f["type"] for f in model.features}
    profile = build_profile(frame, kinds, model.prediction_type, n_bins=n_bins)
    reference.profile = profile.to_bytes()
    return profile


def _feature_row(
    run_id: int,
    result: FeatureResult,
    is_prediction: bool,
    segment: str | None = None,
    bound: float | None = None,
) -> t.FeatureResultRow:
    values = asdict(result)
    values["unseen_examples"] = list(values["unseen_examples"]) or None
    return t.FeatureResultRow(
        run_id=run_id,
        is_prediction=is_prediction,
        segment=segment,
        statistic_bound=bound,
        **values,
    )


def run_detection(
    database: Database,
    model_name: str,
    *,
    version: str | None = None,
    window_end: datetime | None = None,
    window: timedelta | None = None,
    trigger: str = "manual",
    schedule_key: str | None = None,
    path: Path = "auto",
    aggregates: AggregateSettings | None = None,
) -> RunRecord:
    """Compare the window ending at ``window_end`` (default now) with the current reference,
    on the raw events or on the aggregates (``detectors.aggregate_path``)."""
    started_at, clock = datetime.now(UTC), time.perf_counter()
    with database.write() as session:
        model = load_model_row(session, model_name)
        version_row = find_version(session, model, version)
        reference = session.scalar(
            select(t.ReferenceDataset)
            .where(t.ReferenceDataset.version_id == version_row.id)
            .order_by(t.ReferenceDataset.id.desc())
            .limit(1)
            # The data and the profile are large; the aggregate path needs neither.
            .options(defer(t.ReferenceDataset.data), defer(t.ReferenceDataset.profile))
        )
        if reference is None:
            raise NotFoundError(
                f"model {model_name!r} version {version_row.version!r} has no "
                "reference; upload one first"
            )
        config = monitor_config(session, version_row.id)
        end = window_end or started_at
        start = end - (window or config.window)
        keys = frozenset(f["name"] for f in model.features if f.get("key"))
        chosen = aggregate_path.plan(
            session,
            version_row.id,
            reference.id,
            config,
            (start, end),
            aggregates or AggregateSettings(),
            started_at,
            lambda: profile_for(session, model, reference, config.n_bins),
            path,
        )
        bounds: Bounds = {}
        segments: dict[str, DatasetResult] = {}
        previous: dict[str, Any] | None = None
        if chosen is not None:
            start, end = chosen.start, chosen.end
            evaluated = aggregate_path.evaluate(session, chosen, model.task, config, keys)
            result, bounds, performance = evaluated.result, evaluated.bounds, evaluated.performance
            if config.rolling_reference:
                previous = skipped(start, end, "the aggregate path does not read raw events")
        else:
            profile = profile_for(session, model, reference, config.n_bins)
            names = list(profile.features)
            window_data = load_window(session, version_row.id, start, end, names)
            result = detect(
                profile,
                window_data.columns,
                window_data.n_events,
                config,
                key_features=keys,
                violations=window_data.violations,
                predictions=window_data.predictions,
            )
            segments = segments_of(profile, window_data, config, keys)
            performance = performance_of(model.task, window_data)
            if config.rolling_reference:
                kinds = {f["name"]: f["type"] for f in model.features}
                previous = compare_with_previous(
                    session,
                    version_row.id,
                    window_data,
                    (start, end),
                    kinds,
                    model.prediction_type if profile.prediction is not None else None,
                    config,
                    keys,
                )
        run = t.DetectionRun(
            model_id=model.id,
            version_id=version_row.id,
            reference_id=reference.id,
            reference_hash=reference.content_hash,
            trigger=trigger,
            schedule_key=schedule_key,
            path="raw" if chosen is None else "aggregates",
            window_start=start,
            window_end=end,
            status=result.status,
            n_events=result.n_events,
            drift_share=result.drift_share if result.status == "ok" else None,
            dataset_drift=result.dataset_drift if result.status == "ok" else None,
            drifted_features=list(result.drifted_features) if result.status == "ok" else None,
            performance=performance,
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
            previous_window=previous,
            error=None,
            started_at=started_at,
            duration_s=time.perf_counter() - clock,
        )
        session.add(run)
        session.flush()
        session.add_all(
            _feature_row(run.id, r, False, bound=bounds.get((r.feature, False)))
            for r in result.features
        )
        if result.prediction is not None:
            bound = bounds.get((result.prediction.feature, True))
            session.add(_feature_row(run.id, result.prediction, True, bound=bound))
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
        previous_window=run.previous_window,
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
