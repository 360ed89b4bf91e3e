"""Benjamini-Hochberg adjusted p-values agree with scipy.stats.false_discovery_control."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from detectors.statistics import benjamini_hochberg


def test_matches_scipy_on_random_vectors() -> None:
    rng = np.random.default_rng(21)
    for _ in range(2000):
        ps = rng.random(int(rng.integers(1, 60))) ** 3
        if rng.random() < 0.3:
            ps = np.round(ps, 2)  # ties
        expected = stats.false_discovery_control(ps, method="bh")
        np.testing.assert_allclose(benjamini_hochberg(ps), expected, rtol=0, atol=1e-12)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.floats(0.0, 1.0), min_size=1, max_size=40))
def test_matches_scipy_for_any_pvalues(ps: list[float]) -> None:
    expected = stats.false_discovery_control(np.array(ps), method="bh")
    np.testing.assert_allclose(benjamini_hochberg(ps), expected, rtol=0, atol=1e-12)


def test_adjusted_values_keep_the_input_order_and_never_shrink() -> None:
    ps = [0.04, 0.001, 0.5, 0.03]
    adjusted = benjamini_hochberg(ps)
    assert adjusted.tolist() == pytest.approx([0.04 * 4 / 3, 0.004, 0.5, 0.04 * 4 / 3])
    assert np.all(adjusted >= ps)
    assert benjamini_hochberg([]).size == 0


@pytest.mark.parametrize("bad", [[0.1, 1.2], [-0.1], [float("nan")], [[0.1, 0.2]], ["x"]])
def test_bad_pvalues_are_rejected(bad: object) -> None:
    with pytest.raises(ValueError, match="pvalues must"):
        benjamini_hochberg(bad)  # type: ignore[arg-type]
