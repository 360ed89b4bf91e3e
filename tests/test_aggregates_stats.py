"""The aggregate path's statistics against the raw path's, on the same data (no database).

PSI, Jensen-Shannon, Hellinger, chi-square, the Z-test and data quality must be equal; KS and
Wasserstein must be within the bound each result carries, and every verdict must agree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from detectors import performance
from detectors.aggregate_layout import layout_from_profile
from detectors.binned import ks_binned, wasserstein_binned
from detectors.binned_detect import detect_aggregate
from detectors.binned_performance import performance_from
from detectors.config import MonitorConfig
from detectors.drift import detect
from detectors.profile import build_profile, category_label
from driftline.aggregates import accumulate as accumulate_module
from driftline.aggregates.accumulate import Fresh, accumulate
from driftline.aggregates.labelled import classification_sums, merge_performance, regression_sums
from driftline.aggregates.layout import Layout, Slot, numeric_slot
from driftline.aggregates.partial import ABOVE_SUM, BELOW_SUM, Partial

NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
KINDS = {
    "normal": "numeric",
    "skewed": "numeric",
    "discrete": "numeric",
    "spiky": "numeric",
    "country": "categorical",
    "is_new": "boolean",
}


def _reference(rng: np.random.Generator, n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "normal": rng.normal(0, 1, n),
            "skewed": rng.lognormal(0, 1, n),
            "discrete": rng.integers(0, 6, n).astype(float),
            "spiky": np.where(rng.random(n) < 0.3, 0.0, rng.exponential(50, n)),
            "country": pd.array(rng.choice(["DE", "FR", "IT", "NL"], n), dtype="string"),
            "is_new": pd.array(rng.random(n) < 0.3, dtype="boolean"),
            "prediction": pd.array(rng.choice(["0", "1"], n), dtype="string"),
        }
    )


def _window(
    rng: np.random.Generator, n: int, shift: float
) -> tuple[list[dict[str, Any]], list[str]]:
    columns: dict[str, Any] = {
        "normal": rng.normal(shift, 1, n),
        "skewed": rng.lognormal(shift, 1, n),
        "discrete": rng.integers(0, 6 + int(shift * 4), n).astype(float),
        "spiky": np.where(rng.random(n) < 0.3 + shift / 3, 0.0, rng.exponential(50, n)),
        "country": rng.choice(["DE", "FR", "IT", "NL", "ES"] if shift else ["DE", "FR", "IT"], n),
        "is_new": rng.random(n) < 0.3 + shift / 2,
    }
    rows = []
    for i in range(n):
        row = {name: columns[name][i].item() for name in KINDS}
        if i % 97 == 0:
            row["normal"] = None  # missing values are data quality, counted on both paths
        rows.append(row)
    return rows, [str(v) for v in rng.choice(["0", "1"], n, p=[0.5 - shift / 4, 0.5 + shift / 4])]


def _one(slot: Slot, values: np.ndarray) -> tuple[Any, ...]:
    """Counts, positions, and the sums below / above the range of ``values`` in one slot."""
    layout = Layout(1, 60, 10, (slot,), False)
    part = accumulate(layout, [Fresh(1, NOW, {"x": float(v)}, None, None) for v in values])
    return part.counts, part.positions, part.stats[0, BELOW_SUM], part.stats[0, ABOVE_SUM]


def _aggregate(layout: Layout, rows: list[dict[str, Any]], predictions: list[str]) -> Partial:
    """Accumulated in batches, encoded and merged in shuffled order, as ingest does."""
    events = [Fresh(1, NOW, row, None, p) for row, p in zip(rows, predictions, strict=True)]
    parts = [accumulate(layout, events[i : i + 700]) for i in range(0, len(events), 700)]
    order = np.random.default_rng(9).permutation(len(parts))
    total = Partial.empty(layout.total_bins, len(layout.slots), layout.n_numeric)
    for i in order:
        total.merge(Partial.decode(parts[i].encode()))
    return total


@pytest.mark.parametrize("shift", [0.0, 0.03, 0.3])
@pytest.mark.parametrize("p_values", [False, True])
def test_aggregate_and_raw_paths_agree(shift: float, p_values: bool) -> None:
    rng = np.random.default_rng(int(shift * 100) + p_values)
    reference = _reference(rng, 20_000)
    profile = build_profile(reference, KINDS, "categorical")
    layout = Layout.from_bytes(layout_from_profile(profile, 1, 60).to_bytes())
    rows, predictions = _window(rng, 12_000, shift)
    config = MonitorConfig(small_reference_rows=10**9 if p_values else 1000)
    columns = {name: [row[name] for row in rows] for name in KINDS}
    raw = detect(profile, columns, len(rows), config, predictions=predictions)
    aggregate, bounds = detect_aggregate(layout, _aggregate(layout, rows, predictions), config)
    assert raw.prediction is not None and aggregate.prediction is not None
    pairs = [*zip(raw.features, aggregate.features, strict=True)]
    pairs.append((raw.prediction, aggregate.prediction))
    for exact, binned in pairs:
        assert (exact.feature, exact.method) == (binned.feature, binned.method)
        assert binned.drifted == exact.drifted, exact.feature
        for name in ("psi", "missing_rate", "out_of_range_share", "unseen_share", "current_size"):
            assert getattr(binned, name) == pytest.approx(getattr(exact, name), abs=1e-12)
        assert exact.statistic is not None and binned.statistic is not None
        if exact.method in ("ks", "wasserstein"):
            bound = bounds[(exact.feature, exact is raw.prediction)]
            assert abs(binned.statistic - exact.statistic) <= bound + 1e-12, exact.feature
            assert bound < (0.02 if exact.method == "ks" else 0.25)
        else:
            assert binned.statistic == pytest.approx(exact.statistic, rel=1e-9, abs=1e-12)
            if exact.p_value is None:
                assert binned.p_value is None
            else:
                assert binned.p_value == pytest.approx(exact.p_value, rel=1e-9, abs=1e-300)
    assert aggregate.drifted_features == raw.drifted_features
    assert aggregate.dataset_drift == raw.dataset_drift
    if shift >= 0.3:
        assert {"normal", "skewed", "country", "is_new"} <= set(raw.drifted_features)


def test_discrete_values_and_spikes_are_exact() -> None:
    """A value the reference repeats gets a bin of its own: no error where windows take it."""
    rng = np.random.default_rng(4)
    reference = np.sort(np.where(rng.random(5000) < 0.4, 0.0, rng.integers(1, 9, 5000)))
    slot = numeric_slot("x", reference.astype(float), np.array([0.0, 3.0]), 0.0, 0)
    current = rng.integers(0, 9, 3000).astype(float)
    counts, positions, below, above = _one(slot, current)
    ks, ks_bound = ks_binned(slot, counts)
    w, w_bound = wasserstein_binned(slot, counts, positions, below, above)
    assert ks == pytest.approx(stats.ks_2samp(reference, current).statistic, abs=1e-12)
    exact_w = stats.wasserstein_distance(reference, current) / np.std(reference)
    assert w == pytest.approx(exact_w, abs=1e-9)
    assert ks_bound == 0.0 and w_bound == pytest.approx(0.0, abs=1e-12)


@pytest.mark.parametrize("seed", range(6))
def test_bounds_hold_on_random_continuous_data(seed: int) -> None:
    rng = np.random.default_rng(seed)
    reference = np.sort(rng.standard_t(3, 4000) * rng.uniform(0.1, 10))
    slot = numeric_slot("x", reference, np.quantile(reference, [0.5], method="inverted_cdf"), 0, 0)
    current = rng.standard_t(3, 2500) * np.std(reference) * rng.uniform(0.5, 2) + rng.normal()
    counts, positions, below, above = _one(slot, current)
    ks, ks_bound = ks_binned(slot, counts)
    exact_ks = stats.ks_2samp(reference, current).statistic
    assert ks <= exact_ks + 1e-12 <= ks + ks_bound + 2e-12
    w, w_bound = wasserstein_binned(slot, counts, positions, below, above)
    exact_w = stats.wasserstein_distance(reference, current) / np.std(reference)
    assert abs(w - exact_w) <= w_bound + 1e-9
    assert abs(w - exact_w) < 0.5 * w_bound + 1e-6  # the bound is a worst case, rarely reached


def test_partials_merge_in_any_order_and_survive_encoding() -> None:
    rng = np.random.default_rng(1)
    reference = _reference(rng, 3000)
    layout = layout_from_profile(build_profile(reference, KINDS, "categorical"), 7, 60)
    rows, predictions = _window(rng, 2000, 0.2)
    events = [
        Fresh(1, NOW, r, ["normal"] if i % 5 == 0 else None, p)
        for i, (r, p) in enumerate(zip(rows, predictions, strict=True))
    ]
    whole = accumulate(layout, events)
    halves = accumulate(layout, events[:900])
    halves.merge(Partial.decode(accumulate(layout, events[900:]).encode()))
    for name in ("counts", "missing", "violations"):
        assert np.array_equal(getattr(whole, name), getattr(halves, name))
    assert np.allclose(whole.stats, halves.stats)
    assert whole.n_events == halves.n_events == 2000
    assert whole.violations[0] == 400  # every fifth event had a wrong-typed "normal"
    country = [s.name for s in layout.slots].index("country")
    assert whole.unseen[country] == halves.unseen[country]
    assert (
        sum(whole.unseen[country].values())
        == whole.counts[layout.slots[country].offset + layout.slots[country].n_bins - 1]
    )
    normal = layout.numeric_rows[0]
    values = np.array([r["normal"] for r in rows if r["normal"] is not None])
    assert whole.stats[normal, BELOW_SUM] == pytest.approx(
        values[values < layout.slots[0].minimum].sum()
    )
    assert whole.stats[normal, ABOVE_SUM] == pytest.approx(
        values[values > layout.slots[0].maximum].sum()
    )


def test_category_labels_match_the_profile() -> None:
    for value in [True, False, np.bool_(True), 1, 1.5, "x", "true"]:
        assert accumulate_module.category_label(value) == category_label(value)


@pytest.mark.parametrize("kind", ["binary", "binary_dict", "multiclass"])
def test_performance_from_sums_equals_scikit_learn(kind: str) -> None:
    rng = np.random.default_rng(len(kind))
    n, classes = 4000, (4 if kind == "multiclass" else 2)
    labels = [str(v) for v in rng.integers(0, classes, n)]
    predictions = [str(v) if rng.random() < 0.7 else str(rng.integers(0, classes)) for v in labels]
    scores: list[Any] = [float(s) for s in rng.random(n)]
    if kind == "binary_dict":
        scores = [{"1": s, "0": 1 - s} for s in scores]
    scores[3] = None
    exact = performance.classification(labels, predictions, scores, n + 500)
    triples = list(zip(labels, predictions, scores, strict=True))
    sums = merge_performance(
        classification_sums(triples[:1500]), classification_sums(triples[1500:])
    )
    binned = performance_from("classification", sums, n + 500)
    for name, value in exact.items():
        if name == "roc_auc" and value is not None:
            assert abs(binned[name] - value) <= binned["roc_auc_bound"] + 1e-12  # type: ignore[operator]
        elif value is None:
            assert binned[name] is None
        else:
            assert binned[name] == pytest.approx(value, rel=1e-9), name
    y = rng.normal(10, 3, 500)
    y[0] = 0.0
    p = y + rng.normal(0, 1, 500)
    exact = performance.regression(list(y), list(p), 600)
    binned = performance_from(
        "regression", regression_sums(zip(y, p, [None] * 500, strict=True)), 600
    )
    assert binned == pytest.approx(exact, rel=1e-9)
