"""Accuracy of the aggregate path: every statistic from the bins against the exact one.

Part of ``bench/aggregates.py`` (``--only accuracy``): a 1M-event window of the benchmark data
against its 100,000-row reference, aggregated in 100k chunks merged through the stored codec.
"""

from __future__ import annotations

import time
from collections import defaultdict

import numpy as np

from bench.aggregates_data import DRIFTED, KINDS, columns, reference_frame
from detectors.aggregate_layout import layout_from_profile
from detectors.binned import (
    categorical_counts,
    coarse_counts,
    ks_binned,
    wasserstein_binned,
)
from detectors.binned_detect import detect_aggregate
from detectors.config import MonitorConfig
from detectors.drift import detect
from detectors.profile import build_profile
from detectors.statistics import divergence
from driftline.aggregates.accumulate import add_categorical, add_numeric
from driftline.aggregates.partial import ABOVE_SUM, BELOW_SUM, Partial

__all__ = ["accuracy"]


def accuracy(n_window: int, chunk: int = 100_000) -> None:
    rng = np.random.default_rng(0)
    profile = build_profile(reference_frame(rng, 100_000), KINDS, "categorical")
    layout = layout_from_profile(profile, 1, 60)
    data = columns(rng, n_window)
    total = Partial.empty(layout.total_bins, len(layout.slots), layout.n_numeric)
    for start in range(0, n_window, chunk):
        part = Partial.empty(layout.total_bins, len(layout.slots), layout.n_numeric)
        part.n_events = min(chunk, n_window - start)
        for i, slot in enumerate(layout.slots):
            values = data[slot.name][start : start + chunk]
            if slot.is_numeric:
                add_numeric(part, layout, i, slot, values)
            else:
                add_categorical(part, i, slot, values.tolist())
        total.merge(Partial.decode(part.encode()))
    worst: dict[str, list[float]] = defaultdict(lambda: [0.0, 0.0, 0.0])  # diff, bound, value
    for i, slot in enumerate(layout.slots):
        feature = profile.prediction if slot.name == "prediction" else profile.features[slot.name]
        assert feature is not None
        bins = total.counts[slot.offset : slot.offset + slot.n_bins]
        if slot.is_numeric:
            assert feature.numeric is not None
            exact = feature.numeric.compare(data[slot.name])
            stats = total.stats[layout.numeric_rows[i]]
            positions = total.positions[slot.offset : slot.offset + slot.n_bins]
            ks, ks_bound = ks_binned(slot, bins)
            w, w_bound = wasserstein_binned(
                slot, bins, positions, stats[BELOW_SUM], stats[ABOVE_SUM]
            )
            ref, cur = coarse_counts(slot, slot.ref_counts), coarse_counts(slot, bins)
            found = {
                "KS": (ks, exact.ks.statistic, ks_bound),
                "Wasserstein / std": (w, exact.wasserstein, w_bound),
                "PSI (numeric)": (divergence.psi(ref, cur), exact.psi, 0.0),
                "Jensen-Shannon (numeric)": (
                    divergence.jensen_shannon(ref, cur),
                    exact.jensen_shannon,
                    0.0,
                ),
                "Hellinger (numeric)": (divergence.hellinger(ref, cur), exact.hellinger, 0.0),
            }
        else:
            assert feature.categorical is not None
            exact_c = feature.categorical.compare(data[slot.name].tolist())
            binned = categorical_counts(slot.ref_counts, bins)
            found = {
                "chi-square statistic": (
                    binned.chi_square.statistic,
                    exact_c.chi_square.statistic,
                    0.0,
                ),
                "PSI (categorical)": (binned.psi, exact_c.psi, 0.0),
                "Jensen-Shannon (categorical)": (
                    binned.jensen_shannon,
                    exact_c.jensen_shannon,
                    0.0,
                ),
                "Hellinger (categorical)": (binned.hellinger, exact_c.hellinger, 0.0),
            }
        for name, (approx, value, bound) in found.items():
            entry = worst[name]
            entry[0] = max(entry[0], abs(approx - value))
            entry[1] = max(entry[1], bound)
            entry[2] = max(entry[2], abs(value))
            assert abs(approx - value) <= bound + 1e-9 * max(1.0, abs(value)), (slot.name, name)
    print(f"\naccuracy: {n_window:,}-event window vs 100,000-row reference, 100 features")
    print("| statistic | largest difference | largest bound | largest value |")
    print("| --- | --- | --- | --- |")
    for name, (diff, bound, value) in worst.items():
        print(f"| {name} | {diff:.2e} | {bound:.2e} | {value:.3g} |")
    for label, config in [
        ("default (distances)", MonitorConfig()),
        ("p-value tests (KS, chi-square)", MonitorConfig(small_reference_rows=10**9)),
    ]:
        began = time.perf_counter()
        raw = detect(profile, data, n_window, config, predictions=data["prediction"])
        raw_s = time.perf_counter() - began
        began = time.perf_counter()
        binned_result, _ = detect_aggregate(layout, total, config)
        binned_s = time.perf_counter() - began
        same = raw.drifted_features == binned_result.drifted_features
        truth = set(raw.drifted_features) == DRIFTED
        print(
            f"verdicts, {label}: raw {len(raw.drifted_features)} drifted, aggregates "
            f"{len(binned_result.drifted_features)}, same features: {same}, = the 20 drifted: "
            f"{truth}; detect on raw values {raw_s:.2f} s, on aggregates {binned_s:.3f} s"
        )
