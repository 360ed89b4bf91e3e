"""The KS test and its p-value agree with scipy.stats.ks_2samp, ties and unequal sizes included."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from detectors.statistics import NumericReference, ks_2samp, ks_2samp_pvalue
from detectors.statistics import ecdf as ecdf_module
from detectors.statistics import ks_pvalue as ks_pvalue_module
from detectors.statistics.ecdf import ks_statistic
from detectors.statistics.ks_pvalue import outer_prob_inside_python

TOLERANCE = 1e-9

# SciPy warns when its exact computation gives up; matching that fallback is part of the tests.
pytestmark = pytest.mark.filterwarnings("ignore:ks_2samp. Exact calculation unsuccessful")


def _assert_matches_scipy(reference: np.ndarray, current: np.ndarray) -> None:
    ours = ks_2samp(reference, current)
    theirs = stats.ks_2samp(reference, current)
    assert abs(ours.statistic - float(theirs.statistic)) <= TOLERANCE, (reference, current)
    assert abs(ours.pvalue - float(theirs.pvalue)) <= TOLERANCE, (reference, current)


def _random_pair(rng: np.random.Generator, max_size: int) -> tuple[np.ndarray, np.ndarray]:
    n1 = int(rng.integers(1, max_size + 1))
    n2 = n1 if rng.random() < 0.2 else int(rng.integers(1, max_size + 1))
    if rng.random() < 0.5:  # tie-heavy: integers from a small range
        high = int(rng.integers(1, 8))
        return rng.integers(0, high, n1).astype(float), rng.integers(0, high + 1, n2).astype(float)
    shift = rng.choice([0.0, 0.2, 1.0])
    return rng.normal(size=n1), rng.normal(loc=shift, size=n2)


def test_matches_scipy_on_thousands_of_seeded_inputs() -> None:
    rng = np.random.default_rng(20_241_121)
    for _ in range(3000):
        _assert_matches_scipy(*_random_pair(rng, max_size=120))


def test_matches_scipy_on_larger_unequal_samples() -> None:
    rng = np.random.default_rng(7)
    for _ in range(60):
        _assert_matches_scipy(*_random_pair(rng, max_size=3000))


@pytest.mark.parametrize(
    ("n1", "n2"),
    [(1, 1), (1, 10_000), (10_000, 10_000), (10_000, 9_999), (10_000, 10_001), (25_000, 3_000)],
)
@pytest.mark.parametrize("ties", [False, True])
def test_matches_scipy_around_the_exact_asymptotic_switch(n1: int, n2: int, ties: bool) -> None:
    rng = np.random.default_rng(n1 * 31 + n2)
    if ties:
        _assert_matches_scipy(rng.integers(0, 5, n1).astype(float), rng.integers(0, 5, n2) * 1.0)
    else:
        _assert_matches_scipy(rng.normal(size=n1), rng.normal(loc=0.05, size=n2))


samples = st.lists(st.integers(-3, 3) | st.floats(-5, 5), min_size=1, max_size=60)


def _scipy_unrounded_statistic(reference: np.ndarray, current: np.ndarray) -> float:
    """SciPy's own computation of D, before its lattice rounding: both ECDFs at every value."""
    every = np.concatenate([reference, current])
    cdf1 = np.searchsorted(np.sort(reference), every, side="right") / reference.size
    cdf2 = np.searchsorted(np.sort(current), every, side="right") / current.size
    gaps = cdf1 - cdf2
    return max(float(np.clip(-gaps.min(), 0, 1)), float(gaps.max()))


def _shapes(rng: np.random.Generator, n1: int, n2: int) -> tuple[np.ndarray, np.ndarray]:
    kind = int(rng.integers(4))
    if kind == 0:  # few distinct values: the window is searched value by value
        high = int(rng.integers(1, 8))
        return rng.integers(0, high, n1) * 1.0, rng.integers(0, high + 1, n2) * 1.0
    if kind == 1:  # continuous, no ties at all
        return rng.normal(size=n1), rng.normal(rng.choice([0.0, 0.2, 1.0]), size=n2)
    if kind == 2:  # rounded to a grid: some values shared between the samples
        grid = float(rng.choice([0.5, 0.1, 0.05]))
        return np.round(rng.normal(size=n1) / grid) * grid, np.round(rng.normal(size=n2) / grid)
    reference = rng.normal(size=n1)  # half of the window copies reference values exactly
    copied = rng.choice(reference, n2 // 2)
    return reference, np.concatenate((copied, rng.normal(size=n2 - copied.size)))


@pytest.mark.parametrize("block", [1, 3, 64, 1 << 15])
def test_statistic_is_scipys_bit_for_bit_across_blocks(
    block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small blocks make every block boundary, search stretch and run compression meet ties.
    monkeypatch.setattr(ecdf_module, "_BLOCK", block)
    rng = np.random.default_rng(block)
    for _ in range(400):
        n1 = int(rng.integers(1, 400))
        n2 = n1 if rng.random() < 0.2 else int(rng.integers(1, 400))
        reference, current = _shapes(rng, n1, n2)
        got = ks_statistic(np.sort(reference), np.sort(current))
        assert got == _scipy_unrounded_statistic(reference, current), (reference, current)


@pytest.mark.parametrize("step", [1, 2, 3, 7, 64])
def test_statistic_from_the_pruned_grid_is_scipys_bit_for_bit(
    step: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The grid and its pruning on every sample, whatever share of intervals stays open.
    monkeypatch.setattr(ecdf_module, "_STEP", step)
    monkeypatch.setattr(ecdf_module, "_PRUNE_FROM", 2)
    monkeypatch.setattr(ecdf_module, "_MAX_OPEN_SHARE", 1.0)
    rng = np.random.default_rng(100 + step)
    for _ in range(400):
        n1 = int(rng.integers(1, 400))
        n2 = n1 if rng.random() < 0.2 else int(rng.integers(1, 400))
        reference, current = _shapes(rng, n1, n2)
        got = ks_statistic(np.sort(reference), np.sort(current))
        assert got == _scipy_unrounded_statistic(reference, current), (reference, current)


def test_pruned_grid_on_large_samples_is_scipys_and_searches_little(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    rng = np.random.default_rng(12)
    searched: list[int] = []
    gaps = ecdf_module._gaps

    def counting(values: np.ndarray, *rest: Any) -> float:
        searched.append(values.size)
        return gaps(values, *rest)

    monkeypatch.setattr(ecdf_module, "_gaps", counting)
    for shift, n1, n2 in ((0.0, 200_000, 200_000), (0.3, 200_000, 150_000), (0.0, 50_000, 90_000)):
        reference, current = rng.normal(size=n1), rng.normal(shift, 1.0, size=n2)
        got = ks_statistic(np.sort(reference), np.sort(current))
        assert got == _scipy_unrounded_statistic(reference, current)
    assert sum(searched) < 0.1 * (200_000 + 150_000 + 50_000)  # far fewer than every value


@settings(max_examples=300, deadline=None)
@given(reference=samples, current=samples, block=st.sampled_from([1, 2, 5, 1 << 15]))
def test_statistic_is_scipys_for_any_samples(
    reference: list[float], current: list[float], block: int
) -> None:
    ref, cur = np.array(reference, dtype=float), np.array(current, dtype=float)
    original, ecdf_module._BLOCK = ecdf_module._BLOCK, block
    try:
        assert ks_statistic(np.sort(ref), np.sort(cur)) == _scipy_unrounded_statistic(ref, cur)
    finally:
        ecdf_module._BLOCK = original


def test_method_follows_scipy_auto_rule() -> None:
    assert ks_2samp_pvalue(0.1, 10_000, 10_000).method == "exact"
    assert ks_2samp_pvalue(0.1, 10_001, 10).method == "asymp"


@settings(max_examples=400, deadline=None)
@given(reference=samples, current=samples)
def test_matches_scipy_for_any_samples(reference: list[float], current: list[float]) -> None:
    _assert_matches_scipy(np.array(reference, dtype=float), np.array(current, dtype=float))


def test_presorted_reference_gives_the_same_result_and_is_checked() -> None:
    rng = np.random.default_rng(3)
    reference, current = rng.normal(size=500), rng.normal(0.1, size=700)
    assert ks_2samp(np.sort(reference), current, reference_is_sorted=True) == ks_2samp(
        reference, current
    )
    with pytest.raises(ValueError, match="not in ascending order"):
        ks_2samp(reference, current, reference_is_sorted=True)


def test_profile_ks_matches_scipy() -> None:
    rng = np.random.default_rng(11)
    reference = rng.integers(0, 20, 4000).astype(float)
    profile = NumericReference(reference)
    for _ in range(5):
        current = rng.integers(0, 21, int(rng.integers(1, 3000))).astype(float)
        result, expected = profile.ks(current), stats.ks_2samp(reference, current)
        assert abs(result.statistic - float(expected.statistic)) <= TOLERANCE
        assert abs(result.pvalue - float(expected.pvalue)) <= TOLERANCE
        assert profile.compare(current).ks == result


def test_identical_samples_show_no_drift() -> None:
    values = np.random.default_rng(5).normal(size=1000)
    result = ks_2samp(values, values.copy())
    assert result.statistic == 0.0
    assert result.pvalue == 1.0
    assert result.effect_size == 0.0


@pytest.mark.parametrize("seed", range(10))
def test_half_standard_deviation_shift_is_detected(seed: int) -> None:
    rng = np.random.default_rng(seed)
    result = ks_2samp(rng.normal(size=1000), rng.normal(loc=0.5, size=1000))
    assert result.pvalue < 0.05
    assert result.effect_size > 0.1


def test_python_port_equals_scipy_compiled_recursion() -> None:
    from scipy.stats._stats_pythran import _compute_outer_prob_inside_method as compiled

    rng = np.random.default_rng(1)
    for _ in range(1500):
        m, n = int(rng.integers(1, 90)), int(rng.integers(1, 90))
        g = math.gcd(m, n)
        h = int(rng.integers(1, m * n // g + 1))
        assert outer_prob_inside_python(m, n, g, h) == compiled(m, n, g, h)


def test_python_port_gives_scipy_pvalues(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ks_pvalue_module, "_OUTER_PROB", outer_prob_inside_python)
    rng = np.random.default_rng(2)
    for _ in range(200):
        _assert_matches_scipy(*_random_pair(rng, max_size=80))


def test_exact_probability_above_one_falls_back_like_scipy() -> None:
    # For equal sizes and the smallest gap 1/n the exact series exceeds 1; SciPy then switches
    # to the asymptotic distribution, and so must we.
    reference, current = np.arange(7.0), np.arange(7.0) + 0.5
    result = ks_2samp(reference, current)
    assert result.method == "asymp"
    assert result.pvalue == pytest.approx(float(stats.ks_2samp(reference, current).pvalue), abs=0)


def test_failed_exact_computation_falls_back_to_asymptotics(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(ks_pvalue_module, "_OUTER_PROB", lambda *_: math.nan)
    result = ks_2samp_pvalue(0.3, 40, 60)
    assert result.method == "asymp"
    expected = stats.kstwo.sf(round(0.3 * 120) / 120, round(40 * 60 / 100))
    assert result.pvalue == pytest.approx(float(expected), abs=TOLERANCE)


@pytest.mark.parametrize(
    ("reference", "current", "message"),
    [
        ([], [1.0], "reference must contain at least one value"),
        ([1.0], [float("nan")], "current contains NaN"),
        ([1.0], [float("inf")], "current contains NaN"),
        ([[1.0, 2.0]], [1.0], "one-dimensional"),
        (["a"], [1.0], "must contain numbers"),
    ],
)
def test_bad_samples_are_rejected(reference: object, current: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ks_2samp(reference, current)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("statistic", "n1", "n2"), [(1.5, 3, 3), (-0.1, 3, 3), (0.5, 0, 3), (0.5, 3, 2.5)]
)
def test_bad_pvalue_arguments_are_rejected(statistic: float, n1: int, n2: int) -> None:
    with pytest.raises(ValueError, match="must be"):
        ks_2samp_pvalue(statistic, n1, n2)
