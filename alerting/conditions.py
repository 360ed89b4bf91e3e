"""What each rule kind concludes from one detection run (pure: no I/O, no state).

A rule yields one :class:`Observation` per subject it watches (the whole window, a feature, a
segment); every subject gets one on every evaluated run, active or not, so an alert can clear.
Runs with insufficient data yield nothing: they neither confirm nor clear an alert (the "no
data" rule covers silence).
"""

from __future__ import annotations

import statistics
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["FeatureView", "Observation", "RunView", "observe"]

# Metrics where a larger value is worse; for all others a larger value is better.
LOWER_IS_BETTER = frozenset({"log_loss", "mae", "rmse", "mape"})
MIN_BASELINE_RUNS = 3


@dataclass(frozen=True, slots=True)
class FeatureView:
    feature: str
    status: str
    method: str
    statistic: float | None
    p_value: float | None
    effect_size: float | None
    threshold: float
    drifted: bool
    psi: float | None
    missing_rate: float
    reference_missing_rate: float
    type_violation_rate: float
    unseen_share: float | None

    def evidence(self) -> dict[str, Any]:
        return {
            "feature": self.feature,
            "method": self.method,
            "statistic": self.statistic,
            "p_value": self.p_value,
            "effect_size": self.effect_size,
            "threshold": self.threshold,
            "psi": self.psi,
        }


@dataclass(frozen=True, slots=True)
class RunView:
    id: int
    status: str
    drift_share: float | None
    dataset_drift: bool | None
    features: Sequence[FeatureView]
    prediction: FeatureView | None = None
    key_features: frozenset[str] = frozenset()
    performance: Mapping[str, float | None] | None = None
    segments: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # The same metric on earlier runs, oldest first: the performance baseline when none is set.
    previous_performance: Sequence[Mapping[str, float | None]] = ()


@dataclass(frozen=True, slots=True)
class Observation:
    subject: str | None
    active: bool
    value: float | None
    summary: str
    details: dict[str, Any] = field(default_factory=dict)


def _drift_share(run: RunView, params: Mapping[str, Any]) -> list[Observation]:
    threshold = params.get("threshold")
    share = run.drift_share or 0.0
    active = share >= threshold if threshold is not None else bool(run.dataset_drift)
    drifted = [f.evidence() for f in run.features if f.drifted]
    out = [
        Observation(
            None, active, share, f"{share:.0%} of features drifted", {"drifted_features": drifted}
        )
    ]
    for name, seg in sorted(run.segments.items()):
        if seg.get("status") != "ok":
            continue
        seg_share = float(seg.get("drift_share") or 0.0)
        seg_active = seg_share >= threshold if threshold is not None else bool(seg["dataset_drift"])
        summary = f"segment {name}: {seg_share:.0%} of features drifted"
        details = {"drifted_features": list(seg.get("drifted_features") or [])}
        out.append(Observation(f"segment:{name}", seg_active, seg_share, summary, details))
    return out


def _key_features(run: RunView) -> list[Observation]:
    return [
        Observation(
            f.feature,
            f.drifted,
            f.statistic,
            f"key feature {f.feature} {'drifted' if f.drifted else 'stable'} ({f.method})",
            {"drifted_features": [f.evidence()] if f.drifted else []},
        )
        for f in run.features
        if f.feature in run.key_features and f.status == "ok"
    ]


def _prediction(run: RunView) -> list[Observation]:
    p = run.prediction
    if p is None or p.status != "ok":
        return []
    word = "drifted" if p.drifted else "stable"
    return [
        Observation(
            None,
            p.drifted,
            p.statistic,
            f"prediction {word} ({p.method})",
            {"prediction": p.evidence()},
        )
    ]


def _performance(run: RunView, params: Mapping[str, Any]) -> list[Observation]:
    metric = str(params.get("metric") or "accuracy")
    perf = run.performance or {}
    value = perf.get(metric)
    if value is None or (perf.get("label_coverage") or 0.0) < float(
        params.get("min_label_coverage") or 0.05
    ):
        return []  # not enough labels to judge
    baseline = params.get("baseline")
    if baseline is None:
        earlier = [float(v) for p in run.previous_performance if (v := p.get(metric)) is not None]
        if len(earlier) < MIN_BASELINE_RUNS:
            return []
        baseline = statistics.median(earlier)
    baseline = float(baseline)
    worse = value - baseline if metric in LOWER_IS_BETTER else baseline - value
    drop = worse / abs(baseline) if baseline else worse
    limit = float(params.get("max_relative_drop") or 0.1)
    summary = f"{metric} {value:.4g} vs baseline {baseline:.4g} ({drop:+.1%} worse)"
    details = {
        "metric": metric,
        "value": value,
        "baseline": baseline,
        "relative_drop": drop,
        "label_coverage": perf.get("label_coverage"),
    }
    return [Observation(None, drop > limit, value, summary, details)]


def _data_quality(run: RunView, params: Mapping[str, Any]) -> list[Observation]:
    max_missing = float(params.get("max_missing_increase") or 0.1)
    max_unseen = float(params.get("max_unseen_share") or 0.05)
    max_types = float(params.get("max_type_violation_rate") or 0.01)
    out = []
    for f in run.features:
        problems = []
        if f.status == "no_data":
            problems.append("absent from every event of the window")
        else:
            if f.missing_rate - f.reference_missing_rate > max_missing:
                problems.append(
                    f"missing {f.missing_rate:.1%} (reference {f.reference_missing_rate:.1%})"
                )
            if f.unseen_share is not None and f.unseen_share > max_unseen:
                problems.append(f"unseen categories {f.unseen_share:.1%}")
            if f.type_violation_rate > max_types:
                problems.append(f"wrong type {f.type_violation_rate:.1%}")
        summary = f"{f.feature}: " + ("; ".join(problems) if problems else "ok")
        out.append(
            Observation(f.feature, bool(problems), f.missing_rate, summary, {"problems": problems})
        )
    return out


def observe(kind: str, params: Mapping[str, Any], run: RunView) -> list[Observation]:
    """The observations of a rule of ``kind`` on ``run`` (``no_data`` is not run-based)."""
    if run.status != "ok":
        return []
    if kind == "drift_share":
        return _drift_share(run, params)
    if kind == "key_feature_drift":
        return _key_features(run)
    if kind == "prediction_drift":
        return _prediction(run)
    if kind == "performance":
        return _performance(run, params)
    if kind == "data_quality":
        return _data_quality(run, params)
    return []
