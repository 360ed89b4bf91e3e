"""Chi-square, Cramer's V, the two-proportion Z-test and the categorical reference profile."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from scipy.stats.contingency import association
from statsmodels.stats.proportion import proportions_ztest

from detectors.statistics import (
    CategoricalReference,
    chi_square_test,
    hellinger,
    jensen_shannon,
    psi,
    two_proportion_ztest,
)

TOLERANCE = 1e-9


def _assert_matches_scipy(reference: np.ndarray, current: np.ndarray) -> None:
    result = chi_square_test(reference, current)
    table = np.vstack((reference, current))
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        assert (result.statistic, result.pvalue, result.dof, result.cramers_v) == (0, 1, 0, 0)
        return
    expected = stats.chi2_contingency(table)
    assert abs(result.statistic - float(expected.statistic)) <= TOLERANCE
    assert abs(result.pvalue - float(expected.pvalue)) <= TOLERANCE
    assert result.dof == expected.dof
    assert abs(result.cramers_v - association(table, method="cramer")) <= TOLERANCE


def test_chi_square_matches_scipy_on_thousands_of_tables() -> None:
    rng = np.random.default_rng(12)
    for _ in range(3000):
        k = int(rng.integers(1, 9))
        scale = int(rng.choice([3, 30, 3000]))
        reference, current = rng.integers(0, scale, k), rng.integers(0, scale, k)
        reference[rng.integers(k)] += 1
        current[rng.integers(k)] += 1
        _assert_matches_scipy(reference, current)


def test_chi_square_is_scipys_bit_for_bit_on_large_and_two_column_tables() -> None:
    # The arithmetic is SciPy's own (expected counts, Yates' shift, Pearson terms, chdtrc),
    # so the floats must be identical, not merely close.
    rng = np.random.default_rng(14)
    for _ in range(2000):
        k = int(rng.choice([2, 2, 3, 11]))
        scale = int(rng.choice([5, 1000, 10**6]))
        reference, current = rng.integers(1, scale, k), rng.integers(0, scale, k)
        current[0] += 1
        result = chi_square_test(reference, current)
        expected = stats.chi2_contingency(
            np.vstack((reference, current))[:, reference + current > 0]
        )
        assert (result.statistic, result.pvalue) == (expected.statistic, expected.pvalue)


@settings(max_examples=300, deadline=None)
@given(
    st.integers(1, 6).flatmap(
        lambda k: st.tuples(
            st.lists(st.integers(0, 50), min_size=k, max_size=k).filter(any),
            st.lists(st.integers(0, 50), min_size=k, max_size=k).filter(any),
        )
    )
)
def test_chi_square_matches_scipy_for_any_counts(counts: tuple[list[int], list[int]]) -> None:
    _assert_matches_scipy(np.array(counts[0]), np.array(counts[1]))


def test_two_by_two_tables_use_yates_correction_like_scipy() -> None:
    result = chi_square_test([30, 10], [20, 20])
    uncorrected = stats.chi2_contingency([[30, 10], [20, 20]], correction=False).statistic
    assert result.statistic == pytest.approx(4.32)  # (|30 - 25| - 0.5)^2 terms, corrected
    assert result.statistic < uncorrected
    assert result.cramers_v == pytest.approx(np.sqrt(uncorrected / 80))


def test_identical_shares_give_no_evidence() -> None:
    result = chi_square_test([10, 20, 30], [20, 40, 60])
    assert (result.statistic, result.pvalue, result.cramers_v) == (0.0, 1.0, 0.0)


def test_ztest_matches_statsmodels() -> None:
    rng = np.random.default_rng(13)
    for _ in range(1000):
        n_ref, n_cur = (int(n) for n in rng.integers(1, 2000, 2))
        x_ref, x_cur = int(rng.integers(0, n_ref + 1)), int(rng.integers(0, n_cur + 1))
        result = two_proportion_ztest(x_ref, n_ref, x_cur, n_cur)
        if x_ref + x_cur in (0, n_ref + n_cur):
            assert (result.statistic, result.pvalue) == (0.0, 1.0)
            continue
        z, p = proportions_ztest([x_cur, x_ref], [n_cur, n_ref])
        assert result.statistic == pytest.approx(float(z), abs=TOLERANCE)
        assert result.pvalue == pytest.approx(float(p), abs=TOLERANCE)


def test_ztest_by_hand() -> None:
    # 40/100 vs 55/100: pooled 0.475, se = sqrt(0.475 * 0.525 * 0.02) = 0.070622...
    result = two_proportion_ztest(40, 100, 55, 100)
    assert result.statistic == pytest.approx(0.15 / np.sqrt(0.475 * 0.525 * 0.02), abs=1e-12)
    assert result.pvalue == pytest.approx(2 * stats.norm.sf(result.statistic), abs=1e-12)
    assert result.cohens_h == pytest.approx(2 * np.arcsin(np.sqrt(0.55)) - 2 * np.arcsin(0.4**0.5))
    assert result.effect_size == abs(result.cohens_h)
    # z squared is the uncorrected chi-square statistic of the same 2 x 2 table.
    table = [[60, 40], [45, 55]]
    assert result.statistic**2 == pytest.approx(
        stats.chi2_contingency(table, correction=False).statistic
    )


def test_profile_counts_unseen_values_separately() -> None:
    profile = CategoricalReference(["b", "a", "b", "c"] * 25)
    assert profile.categories == ("a", "b", "c")
    assert profile.frequencies() == {"a": 0.25, "b": 0.5, "c": 0.25}
    drift = profile.compare(["a"] * 50 + ["x"] * 3 + ["y"] * 7 + ["b"] * 40)
    assert drift.counts == (50, 40, 0, 10)
    assert (drift.unseen_count, drift.unseen_share) == (10, 0.1)
    assert drift.unseen_examples == ("y", "x")
    reference = [25, 50, 25, 0]
    assert drift.psi == psi(reference, drift.counts)
    assert drift.jensen_shannon == jensen_shannon(reference, drift.counts)
    assert drift.hellinger == hellinger(reference, drift.counts)
    assert drift.chi_square == chi_square_test(reference, drift.counts)
    assert drift.ztest is None  # three categories


def test_identical_windows_show_no_drift() -> None:
    values = ["a"] * 10 + ["b"] * 5 + ["c"]
    drift = CategoricalReference(values).compare(values)
    assert (drift.psi, drift.jensen_shannon, drift.hellinger, drift.unseen_share) == (0, 0, 0, 0)
    assert drift.chi_square.pvalue == 1.0


def test_numpy_pandas_and_list_inputs_count_the_same() -> None:
    rng = np.random.default_rng(14)
    values = rng.choice(["red", "green", "blue"], size=500)
    current = rng.choice(["red", "green", "blue", "pink"], size=300)
    from_list = CategoricalReference(values.tolist()).compare(current.tolist())
    assert CategoricalReference(values).compare(current) == from_list
    assert CategoricalReference(pd.Series(values)).compare(pd.Series(current)) == from_list
    objects = pd.Series(values, dtype=object)
    assert CategoricalReference(objects).compare(current.astype(object)) == from_list


def test_boolean_feature_gets_a_ztest_on_true() -> None:
    profile = CategoricalReference(np.array([True] * 30 + [False] * 70))
    assert profile.categories == (False, True)
    drift = profile.compare([True] * 45 + [False] * 55)
    assert drift.ztest is not None
    assert drift.ztest == two_proportion_ztest(30, 100, 45, 100)
    assert drift.ztest.statistic > 0


def test_mixed_types_keep_first_seen_order() -> None:
    assert CategoricalReference(["b", 1, "a", 1]).categories == ("b", 1, "a")


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: CategoricalReference([]), "reference must contain at least one value"),
        (lambda: CategoricalReference(["a", None]), "missing values"),
        (lambda: CategoricalReference(np.array([1.0, np.nan])), "missing values"),
        (lambda: CategoricalReference(["a"]).compare([]), "current must contain at least one"),
        (lambda: CategoricalReference(["a"], epsilon=-1), "epsilon must be in"),
        (lambda: chi_square_test([1, 2], [1]), "same categories"),
        (lambda: chi_square_test([0, 0], [1, 2]), "at least one observation"),
        (lambda: two_proportion_ztest(5, 4, 1, 2), "exceeds"),
        (lambda: two_proportion_ztest(0, 0, 1, 2), "reference_total must be positive"),
        (lambda: two_proportion_ztest(1, 2, -1, 2), "non-negative integer"),
    ],
)
def test_bad_arguments_are_rejected(call: Callable[[], object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        call()
