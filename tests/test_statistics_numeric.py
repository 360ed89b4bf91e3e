"""Reference-fixed bins, PSI, Wasserstein, Jensen-Shannon and Hellinger on numeric features."""

from __future__ import annotations

import math
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.spatial import distance

from detectors.statistics import (
    NumericReference,
    all_finite,
    bin_counts,
    ecdf,
    hellinger,
    jensen_shannon,
    numeric,
    proportions,
    psi,
    quantile_edges,
    wasserstein_norm,
)
from detectors.statistics._memory import MIN_MAPPED_BYTES
from detectors.statistics.binning import sorted_quantile_edges

# The worked example of docs/statistics.md: reference 1..20 in four quartile bins, and a
# current window with no value in the first bin.
EXAMPLE_REFERENCE = list(range(1, 21))
EXAMPLE_CURRENT = [6, 7, 8, 9, 11, 12, 13, 14, 15, 11] + [16, 17, 18, 19, 20] * 2


def test_worked_example_matches_the_hand_computation() -> None:
    profile = NumericReference(EXAMPLE_REFERENCE, n_bins=4)
    assert profile.edges.tolist() == [5.0, 10.0, 15.0]
    assert profile.reference_counts.tolist() == [5, 5, 5, 5]
    drift = profile.compare(EXAMPLE_CURRENT)
    assert drift.bin_counts == (0, 4, 6, 10)
    # Hand computation, epsilon = 1e-4, four bins: p' = (p + 1e-4) / 1.0004.
    ref = [0.25, 0.25, 0.25, 0.25]
    cur = [(share + 1e-4) / 1.0004 for share in (0.0, 0.2, 0.3, 0.5)]
    terms = [(c - r) * math.log(c / r) for r, c in zip(ref, cur, strict=True)]
    assert [round(t, 6) for t in terms] == [1.955329, 0.011148, 0.009109, 0.173168]
    assert drift.psi == pytest.approx(sum(terms), abs=1e-12)
    assert round(drift.psi, 4) == 2.1488


def test_docs_show_the_same_worked_example() -> None:
    text = (Path(__file__).parents[1] / "docs/statistics.md").read_text()
    assert ", ".join(str(v) for v in EXAMPLE_CURRENT[:10]) in text
    for number in ("1.955329", "0.011148", "0.009109", "0.173168", "2.148754"):
        assert number in text


def test_psi_is_zero_for_identical_inputs_and_symmetric() -> None:
    rng = np.random.default_rng(0)
    values = rng.normal(size=5000)
    drift = NumericReference(values).compare(values)
    assert (drift.psi, drift.jensen_shannon, drift.hellinger, drift.wasserstein) == (0, 0, 0, 0)
    assert psi([5, 3, 0], [1, 1, 6]) == pytest.approx(psi([1, 1, 6], [5, 3, 0]), abs=1e-15)


def test_smoothing_adds_epsilon_then_renormalises() -> None:
    smoothed = proportions([3, 0, 1], epsilon=1e-4)
    assert smoothed.sum() == pytest.approx(1.0, abs=1e-15)
    assert smoothed.tolist() == pytest.approx([0.7501 / 1.0003, 0.0001 / 1.0003, 0.2501 / 1.0003])
    # One empty current bin facing a 10% reference share costs about r * ln(r / eps) ~ 0.69.
    assert psi([1] * 10, [0] + [1] * 9) == pytest.approx(0.7001, abs=1e-3)
    with pytest.raises(ValueError, match="epsilon"):
        psi([1, 1], [1, 1], epsilon=0.0)


def test_continuous_reference_gets_deciles() -> None:
    reference = np.random.default_rng(1).normal(size=10_000)
    profile = NumericReference(reference)
    assert profile.edges.size == 9
    assert profile.reference_counts.tolist() == [1000] * 10


def test_tied_quantiles_are_merged() -> None:
    reference = [0] * 60 + [1] * 20 + [2] * 20
    assert quantile_edges(reference).tolist() == [0.0, 1.0]
    assert NumericReference(reference).reference_counts.tolist() == [60, 20, 20]
    constant = NumericReference([4.0] * 50)
    assert constant.edges.size == 0
    assert constant.compare([4.0, 9.0]).psi == 0.0  # one bin: PSI cannot see anything


@settings(max_examples=200, deadline=None)
@given(
    reference=st.lists(st.integers(-5, 5) | st.floats(-1e6, 1e6), min_size=1, max_size=200),
    n_bins=st.integers(1, 20),
)
def test_no_reference_bin_is_ever_empty(reference: list[float], n_bins: int) -> None:
    profile = NumericReference(reference, n_bins=n_bins)
    assert profile.reference_counts.size <= n_bins
    assert profile.reference_counts.min() > 0
    assert profile.reference_counts.sum() == len(reference)


@settings(max_examples=300, deadline=None)
@given(
    reference=st.lists(st.integers(-5, 5) | st.floats(-1e6, 1e6), min_size=1, max_size=300),
    n_bins=st.integers(1, 40),
)
def test_edges_picked_from_the_sorted_reference_equal_numpys_quantiles(
    reference: list[float], n_bins: int
) -> None:
    values = np.array(reference, dtype=float)
    picked = sorted_quantile_edges(np.sort(values), n_bins)
    assert np.array_equal(picked, quantile_edges(values, n_bins))
    if n_bins > 1:  # and quantile_edges itself is numpy's inverted_cdf, deduplicated
        expected = np.quantile(values, np.arange(1, n_bins) / n_bins, method="inverted_cdf")
        assert set(picked.tolist()) <= set(expected.tolist())


@pytest.mark.parametrize("block", [1, 5, 1 << 15])
def test_reference_std_is_numpys(block: int, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(numeric, "_BLOCK", block)
    rng = np.random.default_rng(block)
    for size in (1, 2, 7, 100, 1001):
        values = rng.lognormal(3.0, 1.0, size) * 1e6
        assert NumericReference(values).std == pytest.approx(float(np.std(values)), rel=1e-12)
    assert NumericReference([5.0] * 40).std == 0.0


def test_all_finite_sees_every_non_finite_value_and_survives_overflow() -> None:
    assert all_finite(np.array([1.0, 2.0]))
    assert all_finite(np.array([1e308, 1e308, -1e308]))  # the sum overflows, the values do not
    for bad in (np.nan, np.inf, -np.inf):
        assert not all_finite(np.array([1.0, bad, 3.0]))
    assert not all_finite(np.array([np.inf, -np.inf]))


def test_bins_are_right_closed_with_open_outer_bins() -> None:
    edges = [5.0, 10.0, 15.0]
    assert bin_counts([-1e9, 5.0, 5.0001, 10.0, 15.0, 15.5, 1e9], edges).tolist() == [2, 2, 1, 2]


def test_bins_do_not_move_with_the_window() -> None:
    rng = np.random.default_rng(2)
    profile = NumericReference(rng.normal(size=2000))
    edges = profile.edges.copy()
    for shift in (0.0, 3.0, -10.0):
        window = rng.normal(loc=shift, size=500)
        drift = profile.compare(window)
        assert np.array_equal(profile.edges, edges)
        assert drift.bin_counts == tuple(bin_counts(window, edges).tolist())
        assert drift.psi == psi(profile.reference_counts, drift.bin_counts)
    with pytest.raises(ValueError, match="read-only"):
        profile.edges[0] = 0.0


def test_profile_does_not_freeze_the_callers_array() -> None:
    values = np.arange(10.0)
    NumericReference(values, is_sorted=True)
    values[0] = -1.0  # still writable
    with pytest.raises(ValueError, match="not in ascending order"):
        NumericReference(values[::-1], is_sorted=True)


@pytest.mark.parametrize("size", [1000, 600_000])  # 600,000 values: 4.8 MB, a mapping
def test_kept_reference_equals_numpys_sort_and_stays_read_only(size: int) -> None:
    values = np.random.default_rng(8).normal(size=size)
    for profile in (NumericReference(values), NumericReference(np.sort(values), is_sorted=True)):
        kept = profile.sorted_values
        assert np.array_equal(kept, np.sort(values))
        assert not kept.flags.writeable
        assert (kept.nbytes >= MIN_MAPPED_BYTES) is isinstance(kept.base, memoryview)
        with pytest.raises(ValueError, match="read-only"):
            kept[0] = 0.0


def test_shift_raises_psi_above_the_usual_alert_level() -> None:
    rng = np.random.default_rng(3)
    profile = NumericReference(rng.normal(size=5000))
    assert profile.psi(rng.normal(size=5000)) < 0.02
    assert profile.psi(rng.normal(loc=1.0, size=5000)) > 0.25


def _evidently_wasserstein(reference: np.ndarray, current: np.ndarray) -> float:
    return float(stats.wasserstein_distance(reference, current)) / max(
        float(np.std(reference)), 0.001
    )


def test_wasserstein_matches_scipy_normalised_by_reference_std() -> None:
    rng = np.random.default_rng(4)
    for _ in range(500):
        n1, n2 = (int(n) for n in rng.integers(1, 300, 2))
        if rng.random() < 0.5:
            reference, current = rng.integers(0, 4, n1) * 1.0, rng.integers(0, 5, n2) * 1.0
        else:
            reference, current = rng.normal(size=n1) * 50, rng.normal(1, size=n2) * 50
        expected = _evidently_wasserstein(reference, current)
        assert wasserstein_norm(reference, current) == pytest.approx(expected, rel=1e-9, abs=1e-9)
        got = NumericReference(reference).compare(current).wasserstein
        assert got == pytest.approx(expected, rel=1e-9, abs=1e-9)
    # A constant reference is normalised by the 0.001 floor, not by zero.
    assert wasserstein_norm([2.0, 2.0], [3.0]) == pytest.approx(1000.0)


@pytest.mark.parametrize("block", [1, 7, 1 << 15])
def test_wasserstein_from_sorted_samples_matches_scipy(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Equal sizes, multiples and coprime sizes take different paths through the quantile
    # intervals; small blocks exercise the blocked pairing of equal sizes.
    monkeypatch.setattr(ecdf, "_BLOCK", block)
    rng = np.random.default_rng(block)
    sizes = [(1, 1), (1, 9), (9, 1), (6, 3), (3, 6), (7, 5), (100, 100), (250, 40), (37, 1000)]
    sizes += [tuple(int(n) for n in rng.integers(1, 500, 2)) for _ in range(200)]
    for n1, n2 in sizes:
        if rng.random() < 0.5:
            reference, current = rng.integers(0, 4, n1) * 1.0, rng.integers(0, 5, n2) * 1.0
        else:
            reference, current = rng.lognormal(size=n1) * 50, rng.normal(1, size=n2) * 50
        expected = float(stats.wasserstein_distance(reference, current))
        got = ecdf.wasserstein_distance(np.sort(reference), np.sort(current))
        assert got == pytest.approx(expected, rel=1e-12, abs=1e-12), (n1, n2)
    same = rng.normal(size=1000)
    assert ecdf.wasserstein_distance(np.sort(same), np.sort(same.copy())) == 0.0


@settings(max_examples=200, deadline=None)
@given(
    reference=st.lists(st.integers(-5, 5) | st.floats(-1e3, 1e3), min_size=1, max_size=80),
    current=st.lists(st.integers(-5, 5) | st.floats(-1e3, 1e3), min_size=1, max_size=80),
)
def test_wasserstein_matches_scipy_for_any_samples(
    reference: list[float], current: list[float]
) -> None:
    ref, cur = np.sort(np.array(reference, dtype=float)), np.sort(np.array(current, dtype=float))
    expected = float(stats.wasserstein_distance(ref, cur))
    assert ecdf.wasserstein_distance(ref, cur) == pytest.approx(expected, rel=1e-9, abs=1e-9)


def test_jensen_shannon_and_hellinger_match_scipy() -> None:
    rng = np.random.default_rng(5)
    for _ in range(1000):
        k = int(rng.integers(1, 12))
        ref = rng.integers(0, 6, k)
        cur = rng.integers(0, 6, k)
        ref[rng.integers(k)] += 1  # at least one observation on each side
        cur[rng.integers(k)] += 1
        p, q = ref / ref.sum(), cur / cur.sum()
        expected_js = float(distance.jensenshannon(p, q, base=2))
        expected_hellinger = float(distance.euclidean(np.sqrt(p), np.sqrt(q))) / math.sqrt(2)
        assert jensen_shannon(ref, cur) == pytest.approx(expected_js, abs=1e-9)
        assert hellinger(ref, cur) == pytest.approx(expected_hellinger, abs=1e-9)
    assert jensen_shannon([1, 0], [0, 1]) == pytest.approx(1.0)
    assert hellinger([1, 0], [0, 1]) == pytest.approx(1.0)


def test_profile_distances_use_the_reference_bins() -> None:
    rng = np.random.default_rng(6)
    profile = NumericReference(rng.exponential(size=3000), n_bins=8)
    window = rng.exponential(scale=1.3, size=1200)
    drift = profile.compare(window)
    counts = bin_counts(window, profile.edges)
    assert drift.jensen_shannon == jensen_shannon(profile.reference_counts, counts)
    assert drift.hellinger == hellinger(profile.reference_counts, counts)
    assert drift.current_size == 1200


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: NumericReference([1.0], n_bins=0), "n_bins must be a positive integer"),
        (lambda: NumericReference([1.0], epsilon=1.0), "epsilon must be in"),
        (lambda: NumericReference([]), "reference must contain at least one value"),
        (lambda: NumericReference([1.0]).compare([]), "current must contain at least one value"),
        (lambda: psi([1, 2], [1, 2, 3]), "same bins"),
        (lambda: psi([0, 0], [1, 2]), "reference_counts must contain at least one"),
        (lambda: psi([1, -2], [1, 2]), "negative"),
        (lambda: psi([1.5, 2], [1, 2]), "whole-number counts"),
        (lambda: bin_counts([1.0], [2.0, 1.0]), "strictly increasing"),
    ],
)
def test_bad_arguments_are_rejected(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
