"""Two-proportion Z-test for a binary feature, with Cohen's h as effect size.

Pooled, two-sided: with ``p = (x_ref + x_cur) / (n_ref + n_cur)``,
``z = (p_cur - p_ref) / sqrt(p * (1 - p) * (1 / n_ref + 1 / n_cur))`` and the p-value is
``2 * norm.sf(|z|)``. This is ``statsmodels.stats.proportion.proportions_ztest([x_cur, x_ref],
[n_cur, n_ref])``; ``z**2`` equals the chi-square statistic *without* Yates' correction, which
is why it can differ slightly from ``chi_square_test`` on the same 2 x 2 table.

The effect size is Cohen's h, ``2 * asin(sqrt(p_cur)) - 2 * asin(sqrt(p_ref))`` (signed; 0.2,
0.5 and 0.8 are the conventional small, medium and large magnitudes). Unlike the raw difference
of proportions it weighs a move from 1% to 3% more than one from 50% to 52%, which matches how
surprising such moves are.

>>> result = two_proportion_ztest(40, 100, 55, 100)
>>> round(result.statistic, 6), round(result.pvalue, 6), round(result.cohens_h, 6)
(2.123977, 0.033672, 0.301525)
>>> two_proportion_ztest(0, 10, 0, 20).pvalue
1.0
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import special

__all__ = ["ZTestResult", "two_proportion_ztest"]


@dataclass(frozen=True, slots=True)
class ZTestResult:
    """Pooled two-proportion Z-test; ``statistic`` is positive when the current share is higher."""

    statistic: float
    pvalue: float
    reference_proportion: float
    current_proportion: float
    cohens_h: float

    @property
    def effect_size(self) -> float:
        """Magnitude of Cohen's h."""
        return abs(self.cohens_h)


def _check(successes: int, total: int, side: str) -> None:
    for name, value in ((f"{side}_successes", successes), (f"{side}_total", total)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {value!r}")
    if total == 0:
        raise ValueError(f"{side}_total must be positive")
    if successes > total:
        raise ValueError(f"{side}_successes ({successes}) exceeds {side}_total ({total})")


def two_proportion_ztest(
    reference_successes: int,
    reference_total: int,
    current_successes: int,
    current_total: int,
) -> ZTestResult:
    """Test whether the share of successes in the current window differs from the reference."""
    _check(reference_successes, reference_total, "reference")
    _check(current_successes, current_total, "current")
    p_ref = reference_successes / reference_total
    p_cur = current_successes / current_total
    pooled = (reference_successes + current_successes) / (reference_total + current_total)
    variance = pooled * (1.0 - pooled) * (1.0 / reference_total + 1.0 / current_total)
    if variance == 0.0:
        # All successes or all failures on both sides: the shares are equal, no evidence at all.
        statistic, pvalue = 0.0, 1.0
    else:
        statistic = (p_cur - p_ref) / math.sqrt(variance)
        # norm.sf(|z|) is ndtr(-|z|); called directly, without the distribution's overhead.
        pvalue = float(2.0 * special.ndtr(-abs(statistic)))
    cohens_h = 2.0 * math.asin(math.sqrt(p_cur)) - 2.0 * math.asin(math.sqrt(p_ref))
    return ZTestResult(statistic, min(pvalue, 1.0), p_ref, p_cur, cohens_h)
