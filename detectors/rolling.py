"""The rolling reference: a window compared with the window of the same length just before it.

Against the uploaded reference a run answers "has traffic moved away from training?"; against
the previous window it answers "did something change just now?" (a broken feed, a deploy), even
on top of an old drift. The previous window is profiled on the fly exactly as an uploaded
reference is (``build_profile``), then compared by the same rules (``detect``), so methods,
thresholds, effect-size floors and PSI levels mean the same thing in both comparisons.

The result is one JSON document on the run (``detection_runs.previous_window``); it adds no
feature rows, so alerting and the exported metrics keep meaning the uploaded reference.
"""

from __future__ import annotations

import math
from dataclasses import asdict
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy.orm import Session

from detectors.config import MonitorConfig
from detectors.drift import FeatureResult, detect
from detectors.profile import build_profile
from detectors.window import Window, load_window

__all__ = ["compare_with_previous", "skipped"]


def skipped(start: datetime, end: datetime, reason: str) -> dict[str, Any]:
    """The document of a run that could not compare with its previous window."""
    length = end - start
    return {
        "window_start": (start - length).isoformat(),
        "window_end": start.isoformat(),
        "status": "skipped",
        "reason": reason,
    }


def compare_with_previous(
    session: Session,
    version_id: int,
    current: Window,
    window: tuple[datetime, datetime],
    kinds: dict[str, str],
    prediction_kind: str | None,
    config: MonitorConfig,
    keys: frozenset[str],
) -> dict[str, Any]:
    """Compare ``current`` (the events of ``window``) with the events of the window before it.

    ``kinds`` maps each feature to numeric, categorical or boolean, as the model declares.
    """
    start, end = window
    previous_start = start - (end - start)
    previous = load_window(session, version_id, previous_start, start, list(kinds))
    document: dict[str, Any] = {
        "window_start": previous_start.isoformat(),
        "window_end": start.isoformat(),
        "reference_events": previous.n_events,
    }
    if previous.n_events < config.min_events:
        # Too few events to stand for "before": no verdict rather than a noisy one.
        return document | {"status": "insufficient_data"}
    frame = pd.DataFrame(previous.columns)
    if prediction_kind is not None:
        frame["prediction"] = previous.predictions
    profile = build_profile(frame, kinds, prediction_kind, n_bins=config.n_bins)
    result = detect(
        profile,
        current.columns,
        current.n_events,
        config,
        key_features=keys,
        violations=current.violations,
        predictions=current.predictions if prediction_kind is not None else None,
    )
    if result.status != "ok":
        return document | {"status": result.status}
    return document | {
        "status": "ok",
        "drift_share": result.drift_share,
        "dataset_drift": result.dataset_drift,
        "drifted_features": list(result.drifted_features),
        "features": [_json(r) for r in result.features],
        "prediction": _json(result.prediction) if result.prediction is not None else None,
    }


def _json(result: FeatureResult) -> dict[str, Any]:
    """A feature result as JSON: PostgreSQL's jsonb refuses NaN and infinities."""
    values = asdict(result)
    values["unseen_examples"] = list(values["unseen_examples"])
    return {
        k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in values.items()
    }
