"""One detection: a current window against a reference profile, feature by feature.

Pure computation (no I/O). Only what the chosen method needs is computed: the exact KS p-value
is costly on large samples, and large references use distances instead (see ``config``).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from detectors.config import P_VALUE_METHODS, MonitorConfig
from detectors.parallel import map_features
from detectors.profile import FeatureProfile, ModelProfile, label_counts
from detectors.statistics import all_finite, benjamini_hochberg, chi_square_test, divergence
from detectors.statistics.binning import sorted_bin_counts
from detectors.statistics.ecdf import MIN_STD, ks_statistic, wasserstein_distance
from detectors.statistics.ks_pvalue import ks_2samp_pvalue

__all__ = [
    "DatasetResult",
    "FeatureResult",
    "adjust_p_values",
    "detect",
    "psi_level_of",
    "threshold_for",
]


@dataclass(frozen=True)
class FeatureResult:
    feature: str
    kind: str
    status: str  # ok | no_data
    method: str
    statistic: float | None
    p_value: float | None
    p_value_adjusted: float | None
    effect_size: float | None
    threshold: float
    drifted: bool
    psi: float | None
    psi_level: str  # ok | warn | alert
    reference_size: int
    current_size: int
    missing_rate: float
    reference_missing_rate: float
    type_violation_rate: float
    out_of_range_share: float | None = None
    unseen_share: float | None = None
    unseen_examples: tuple[str, ...] = ()


@dataclass(frozen=True)
class DatasetResult:
    status: str  # ok | insufficient_data
    n_events: int
    features: list[FeatureResult] = field(default_factory=list)
    prediction: FeatureResult | None = None
    drift_share: float = 0.0
    dataset_drift: bool = False
    drifted_features: tuple[str, ...] = ()
    key_features_drifted: tuple[str, ...] = ()


def _method(profile: FeatureProfile, config: MonitorConfig) -> str:
    chosen = config.override(profile.name).method
    if chosen:
        return chosen
    small = profile.size <= config.small_reference_rows
    if profile.numeric is not None:
        return "ks" if small else "wasserstein"
    assert profile.categorical is not None
    if small:
        return "z_test" if len(profile.categorical.categories) == 2 else "chi_square"
    return "jensen_shannon"


def threshold_for(method: str, name: str, config: MonitorConfig) -> float:
    given = config.override(name).threshold
    if given is not None:
        return given
    if method in P_VALUE_METHODS:
        return config.p_value
    return config.psi_alert if method == "psi" else config.distance_threshold


def psi_level_of(psi: float, config: MonitorConfig) -> str:
    return "alert" if psi >= config.psi_alert else "warn" if psi >= config.psi_warn else "ok"


def _numeric(profile: FeatureProfile, values: np.ndarray, method: str) -> dict[str, Any]:
    ref = profile.numeric
    assert ref is not None
    # One sort of the window serves the bins, the range check and KS or Wasserstein; each
    # of those is then a few binary searches or linear passes.
    current = np.sort(values)
    counts = sorted_bin_counts(current, ref.edges)
    below = np.searchsorted(current, ref.sorted_values[0], side="left")
    above = current.size - np.searchsorted(current, ref.sorted_values[-1], side="right")
    out: dict[str, Any] = {
        "psi": divergence.psi(ref.reference_counts, counts),
        "out_of_range_share": int(below + above) / current.size,
    }
    if method == "ks":
        statistic = ks_statistic(ref.sorted_values, current)
        p = ks_2samp_pvalue(statistic, ref.size, current.size).pvalue
        out.update(statistic=statistic, p_value=p, effect_size=statistic)
    elif method == "wasserstein":
        distance = wasserstein_distance(ref.sorted_values, current)
        out.update(statistic=distance / max(ref.std, MIN_STD))
    elif method == "jensen_shannon":
        out.update(statistic=divergence.jensen_shannon(ref.reference_counts, counts))
    elif method == "psi":
        out.update(statistic=out["psi"])
    else:  # chi-square on the reference bins
        test = chi_square_test(ref.reference_counts, counts)
        out.update(statistic=test.statistic, p_value=test.pvalue, effect_size=test.cramers_v)
    return out


def _present(profile: FeatureProfile, column: Sequence[Any]) -> np.ndarray | Counter[str]:
    """The window's non-missing values, counted in C rather than looped over in Python:
    numeric as a float array (``None`` becomes NaN and is dropped), categorical as counts."""
    if profile.numeric is not None:
        try:
            values = np.asarray(column, dtype=np.float64)
        except (TypeError, ValueError):  # a stray non-number: keep the numbers
            values = np.asarray(
                [v for v in column if isinstance(v, int | float) and not isinstance(v, bool)],
                dtype=np.float64,
            )
        return values if all_finite(values) else values[np.isfinite(values)]
    counts, _ = label_counts(column)
    return Counter(counts)


def _categorical(profile: FeatureProfile, values: Counter[str], method: str) -> dict[str, Any]:
    ref = profile.categorical
    assert ref is not None
    drift = ref.compare(values)
    out: dict[str, Any] = {
        "psi": drift.psi,
        "unseen_share": drift.unseen_share,
        "unseen_examples": tuple(str(v) for v in drift.unseen_examples[:5]),
    }
    if method == "z_test" and drift.ztest is not None:
        z = drift.ztest
        out.update(statistic=z.statistic, p_value=z.pvalue, effect_size=z.effect_size)
    elif method in ("chi_square", "z_test", "ks"):
        chi = drift.chi_square
        out.update(statistic=chi.statistic, p_value=chi.pvalue, effect_size=chi.cramers_v)
    elif method == "psi":
        out.update(statistic=drift.psi)
    elif method == "wasserstein":
        raise ValueError(f"{profile.name}: wasserstein needs a numeric feature")
    else:
        out.update(statistic=drift.jensen_shannon)
    return out


def _feature(
    profile: FeatureProfile,
    column: Sequence[Any],
    n_events: int,
    violations: int,
    config: MonitorConfig,
) -> FeatureResult:
    method = _method(profile, config)
    threshold = threshold_for(method, profile.name, config)
    present = _present(profile, column)
    size = int(present.size) if isinstance(present, np.ndarray) else sum(present.values())
    base: dict[str, Any] = dict(
        feature=profile.name,
        kind=profile.kind,
        method=method,
        threshold=threshold,
        reference_size=profile.size,
        current_size=size,
        missing_rate=1 - size / n_events if n_events else 0.0,
        reference_missing_rate=profile.missing_rate,
        type_violation_rate=violations / n_events if n_events else 0.0,
    )
    if not size:
        return FeatureResult(
            status="no_data",
            statistic=None,
            p_value=None,
            p_value_adjusted=None,
            effect_size=None,
            drifted=False,
            psi=None,
            psi_level="ok",
            **base,
        )
    if isinstance(present, np.ndarray):
        measured = _numeric(profile, present, method)
    else:
        measured = _categorical(profile, present, method)
    statistic, p = measured.pop("statistic"), measured.pop("p_value", None)
    effect = measured.pop("effect_size", None)
    if p is not None:
        floor = config.override(profile.name).min_effect_size
        floor = config.min_effect_size if floor is None else floor
        drifted = p <= threshold and (effect is None or effect >= floor)
    else:
        drifted = statistic >= threshold
    psi = measured.pop("psi")
    return FeatureResult(
        status="ok",
        statistic=float(statistic),
        p_value=p,
        p_value_adjusted=None,
        effect_size=effect,
        drifted=bool(drifted),
        psi=psi,
        psi_level=psi_level_of(psi, config),
        **base,
        **measured,
    )


def adjust_p_values(results: list[FeatureResult], config: MonitorConfig) -> list[FeatureResult]:
    """Benjamini-Hochberg across the features tested with p-values, when the monitor asks for it
    (``benjamini_hochberg``); the verdicts then use the adjusted values."""
    tested = [i for i, r in enumerate(results) if r.p_value is not None]
    if not config.benjamini_hochberg or not tested:
        return results
    adjusted = benjamini_hochberg([float(results[i].p_value or 0.0) for i in tested])
    out = list(results)
    for i, q in zip(tested, adjusted, strict=True):
        r = results[i]
        floor = config.override(r.feature).min_effect_size
        floor = config.min_effect_size if floor is None else floor
        drifted = q <= r.threshold and (r.effect_size is None or r.effect_size >= floor)
        out[i] = replace(r, p_value_adjusted=float(q), drifted=bool(drifted))
    return out


def detect(
    profile: ModelProfile,
    columns: Mapping[str, Sequence[Any]],
    n_events: int,
    config: MonitorConfig,
    *,
    key_features: frozenset[str] = frozenset(),
    violations: Mapping[str, int] | None = None,
    predictions: Sequence[Any] | None = None,
) -> DatasetResult:
    """Compare a window with the reference profile.

    ``columns`` maps feature name to one value per event (``None`` when missing); a feature
    absent from ``columns`` is missing in every event. Below ``config.min_events`` the result
    is ``insufficient_data`` with no verdict.
    """
    if n_events < config.min_events:
        return DatasetResult(status="insufficient_data", n_events=n_events)
    wrong_types: Mapping[str, int] = violations or {}

    def compare(feature: FeatureProfile) -> FeatureResult:
        column = columns.get(feature.name, ())
        return _feature(feature, column, n_events, wrong_types.get(feature.name, 0), config)

    features = [(p, p.numeric is not None) for p in profile.features.values()]
    compared = map_features(compare, features, values=n_events * len(features))
    results = adjust_p_values(compared, config)
    checked = [r for r in results if r.status == "ok"]
    drifted = tuple(r.feature for r in checked if r.drifted)
    key_drifted = tuple(f for f in drifted if f in key_features)
    share = len(drifted) / len(checked) if checked else 0.0
    prediction = None
    if profile.prediction is not None and predictions is not None:
        prediction = _feature(profile.prediction, predictions, n_events, 0, config)
    return DatasetResult(
        status="ok",
        n_events=n_events,
        features=results,
        prediction=prediction,
        drift_share=share,
        dataset_drift=share >= config.drift_share or bool(key_drifted),
        drifted_features=drifted,
        key_features_drifted=key_drifted,
    )
