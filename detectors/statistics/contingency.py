"""Chi-square test of reference versus current category counts, with Cramer's V as effect size.

The 2 x k table has the reference counts as first row and the current counts as second. Columns
that are zero in both rows are dropped first (SciPy refuses a zero expected frequency, and an
unused category carries no information); the test is then ``scipy.stats.chi2_contingency`` with
its defaults, so a table left with two columns (one degree of freedom) gets Yates' continuity
correction, exactly as SciPy applies it. The arithmetic is SciPy's, step for step (expected
counts from the margins, Yates' shift, Pearson's terms, ``chdtrc`` for the p-value), without
its argument handling, which costs milliseconds per call: a run tests every categorical feature.

Cramer's V is ``sqrt(chi2 / (n * (min(rows, cols) - 1)))`` computed from the *uncorrected*
statistic, as ``scipy.stats.contingency.association`` does, so it is 0 for identical shares and
1 for disjoint supports. With a single category left there is nothing to test: statistic 0,
p-value 1, V 0.

>>> result = chi_square_test([30, 10], [20, 20])
>>> round(result.statistic, 6), round(result.pvalue, 6), result.dof, round(result.cramers_v, 6)
(4.32, 0.037667, 1, 0.258199)
>>> chi_square_test([5, 0], [7, 0]).pvalue
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy import special

from detectors.statistics._checks import FloatArray, as_counts

__all__ = ["ChiSquareResult", "chi_square_test"]


@dataclass(frozen=True, slots=True)
class ChiSquareResult:
    """Pearson chi-square test of homogeneity; Cramer's V (in [0, 1]) is the effect size."""

    statistic: float
    pvalue: float
    dof: int
    cramers_v: float

    @property
    def effect_size(self) -> float:
        """Cramer's V."""
        return self.cramers_v


def chi_square_test(
    reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike
) -> ChiSquareResult:
    """Test whether current category shares differ from the reference ones.

    Both arguments are counts over the same categories in the same order (for example a
    ``CategoricalReference``'s categories plus its unseen bucket).
    """
    ref = as_counts(reference_counts, "reference_counts")
    cur = as_counts(current_counts, "current_counts")
    if ref.size != cur.size:
        raise ValueError(
            f"counts must cover the same categories, got {ref.size} and {cur.size} categories"
        )
    for name, counts in (("reference_counts", ref), ("current_counts", cur)):
        if counts.sum() == 0:
            raise ValueError(f"{name} must contain at least one observation")
    table = np.vstack((ref, cur))
    table = table[:, table.sum(axis=0) > 0]
    if table.shape[1] < 2:
        return ChiSquareResult(statistic=0.0, pvalue=1.0, dof=0, cramers_v=0.0)
    observed = table.astype(np.float64)
    expected = observed.sum(axis=1, keepdims=True) * observed.sum(axis=0, keepdims=True)
    expected /= observed.sum()
    dof = observed.shape[1] - 1  # (rows - 1) * (columns - 1) with two rows
    uncorrected = _pearson(observed, expected)
    statistic = uncorrected
    if dof == 1:  # Yates: move each count up to 0.5 towards its expectation
        diff = expected - observed
        statistic = _pearson(observed + np.minimum(0.5, np.abs(diff)) * np.sign(diff), expected)
    # Two rows, so min(rows, cols) - 1 is 1 and V reduces to sqrt(chi2 / n).
    cramers_v = math.sqrt(uncorrected / float(table.sum()))
    return ChiSquareResult(
        statistic=statistic,
        pvalue=float(special.chdtrc(dof, statistic)),
        dof=dof,
        cramers_v=min(cramers_v, 1.0),  # rounding can overshoot 1 for disjoint supports
    )


def _pearson(observed: FloatArray, expected: FloatArray) -> float:
    return float(np.sum((observed - expected) ** 2 / expected))
