"""One detection on the aggregate path: a window's summed buckets against the layout.

The same rules as ``detectors.drift.detect`` (method per feature, thresholds, effect-size floor,
Benjamini-Hochberg, dataset drift), the same ``FeatureResult`` fields, computed from counts
(``detectors.binned``). The tests compare both paths on the same data.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from detectors.binned import categorical_counts, coarse_counts, ks_binned, wasserstein_binned
from detectors.config import MonitorConfig
from detectors.drift import (
    DatasetResult,
    FeatureResult,
    adjust_p_values,
    psi_level_of,
    threshold_for,
)
from detectors.statistics import chi_square_test, divergence
from detectors.statistics.ks_pvalue import ks_2samp_pvalue
from driftline.aggregates.layout import Layout, Slot
from driftline.aggregates.partial import ABOVE_SUM, BELOW_SUM, Partial

__all__ = ["Bounds", "detect_aggregate"]

# (feature name, is the prediction) -> bound on |statistic - exact statistic|
Bounds = dict[tuple[str, bool], float]


def _method(slot: Slot, config: MonitorConfig) -> str:
    """``detectors.drift._method`` for a slot (same rule, read from the layout)."""
    chosen = config.override(slot.name).method
    if chosen:
        return chosen
    small = slot.size <= config.small_reference_rows
    if slot.is_numeric:
        return "ks" if small else "wasserstein"
    if small:
        return "z_test" if len(slot.categories) == 2 else "chi_square"
    return "jensen_shannon"


def _numeric(
    slot: Slot, fine: Any, positions: Any, stats: Any, method: str, coarse: Any
) -> dict[str, Any]:
    present = int(fine.sum())
    reference = coarse_counts(slot, slot.ref_counts, coarse)
    counts = coarse_counts(slot, fine, coarse)
    out: dict[str, Any] = {
        "psi": divergence.psi(reference, counts),
        "out_of_range_share": int(fine[0] + fine[-1]) / present,
    }
    if method == "ks":
        statistic, bound = ks_binned(slot, fine)
        p = ks_2samp_pvalue(statistic, slot.size, present).pvalue
        out.update(statistic=statistic, p_value=p, effect_size=statistic, bound=bound)
    elif method == "wasserstein":
        distance, bound = wasserstein_binned(
            slot, fine, positions, stats[BELOW_SUM], stats[ABOVE_SUM]
        )
        out.update(statistic=distance, bound=bound)
    elif method == "jensen_shannon":
        out.update(statistic=divergence.jensen_shannon(reference, counts))
    elif method == "psi":
        out.update(statistic=out["psi"])
    else:  # chi-square on the reference bins
        test = chi_square_test(reference, counts)
        out.update(statistic=test.statistic, p_value=test.pvalue, effect_size=test.cramers_v)
    return out


def _categorical(slot: Slot, counts: Any, unseen: Mapping[str, int], method: str) -> dict[str, Any]:
    # Only what the method needs: the chi-square test (SciPy) is the costly one.
    reference = slot.ref_counts
    examples = sorted(unseen.items(), key=lambda kv: (-kv[1], kv[0]))[:5]
    out: dict[str, Any] = {
        "psi": divergence.psi(reference, counts),
        "unseen_share": int(counts[-1]) / int(counts.sum()),
        "unseen_examples": tuple(name for name, _ in examples),
    }
    ztest = None
    if method == "z_test" and reference.size == 3 and int(counts[:2].sum()):
        ztest = categorical_counts(reference, counts).ztest
    if ztest is not None:
        out.update(statistic=ztest.statistic, p_value=ztest.pvalue, effect_size=ztest.effect_size)
    elif method in ("chi_square", "z_test", "ks"):
        chi = chi_square_test(reference, counts)
        out.update(statistic=chi.statistic, p_value=chi.pvalue, effect_size=chi.cramers_v)
    elif method == "psi":
        out.update(statistic=out["psi"])
    elif method == "wasserstein":
        raise ValueError(f"{slot.name}: wasserstein needs a numeric feature")
    else:
        out.update(statistic=divergence.jensen_shannon(reference, counts))
    return out


def _feature(
    layout: Layout,
    index: int,
    total: Partial,
    config: MonitorConfig,
    coarse: Any,
) -> tuple[FeatureResult, float | None]:
    slot = layout.slots[index]
    n_events = total.n_events
    method = _method(slot, config)
    threshold = threshold_for(method, slot.name, config)
    bins = total.counts[slot.offset : slot.offset + slot.n_bins]
    size = int(bins.sum())
    base: dict[str, Any] = dict(
        feature=slot.name,
        kind=slot.kind,
        method=method,
        threshold=threshold,
        reference_size=slot.size,
        current_size=size,
        missing_rate=1 - size / n_events if n_events else 0.0,
        reference_missing_rate=slot.missing_rate,
        type_violation_rate=int(total.violations[index]) / n_events if n_events else 0.0,
    )
    if not size:
        empty: dict[str, Any] = dict(
            statistic=None, p_value=None, p_value_adjusted=None, effect_size=None, psi=None
        )
        return FeatureResult(status="no_data", drifted=False, psi_level="ok", **empty, **base), None
    if slot.is_numeric:
        stats = total.stats[layout.numeric_rows[index]]
        positions = total.positions[slot.offset : slot.offset + slot.n_bins]
        measured = _numeric(slot, bins, positions, stats, method, coarse)
    else:
        measured = _categorical(slot, bins, total.unseen.get(index, {}), method)
    statistic, p = measured.pop("statistic"), measured.pop("p_value", None)
    effect, bound = measured.pop("effect_size", None), measured.pop("bound", None)
    if p is not None:
        floor = config.override(slot.name).min_effect_size
        floor = config.min_effect_size if floor is None else floor
        drifted = p <= threshold and (effect is None or effect >= floor)
    else:
        drifted = statistic >= threshold
    psi = measured.pop("psi")
    result = FeatureResult(
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
    return result, bound


def detect_aggregate(
    layout: Layout,
    total: Partial,
    config: MonitorConfig,
    *,
    key_features: frozenset[str] = frozenset(),
    coarse: Mapping[str, np.ndarray] | None = None,
) -> tuple[DatasetResult, Bounds]:
    """Compare a window's aggregate with the reference; ``coarse`` gives each numeric
    feature's PSI-bin positions when the monitor's ``n_bins`` differs from the layout's."""
    n_events = total.n_events
    if n_events < config.min_events:
        return DatasetResult(status="insufficient_data", n_events=n_events), {}
    bounds: Bounds = {}
    results = []
    for i, slot in enumerate(layout.features):
        result, bound = _feature(layout, i, total, config, (coarse or {}).get(slot.name))
        results.append(result)
        if bound is not None:
            bounds[(slot.name, False)] = bound
    results = adjust_p_values(results, config)
    checked = [r for r in results if r.status == "ok"]
    drifted = tuple(r.feature for r in checked if r.drifted)
    key_drifted = tuple(f for f in drifted if f in key_features)
    share = len(drifted) / len(checked) if checked else 0.0
    prediction = None
    if layout.prediction is not None:
        # The raw path never counts type violations for the prediction.
        last = len(layout.slots) - 1
        total.violations[last] = 0
        prediction, bound = _feature(layout, last, total, config, None)
        if bound is not None:
            bounds[(layout.prediction.name, True)] = bound
    return (
        DatasetResult(
            status="ok",
            n_events=n_events,
            features=results,
            prediction=prediction,
            drift_share=share,
            dataset_drift=share >= config.drift_share or bool(key_drifted),
            drifted_features=drifted,
            key_features_drifted=key_drifted,
        ),
        bounds,
    )
