"""Distances between two empirical CDFs: the KS statistic and the normalised Wasserstein distance.

Both come from one pass over the merged sorted samples, with the ECDFs evaluated as SciPy does
(count of values <= x divided by the sample size), so ties and unequal sizes give SciPy's
statistic bit for bit. Only the current window needs sorting per run: ``NumericReference`` keeps
its reference sorted, and ``ks_2samp(..., reference_is_sorted=True)`` skips the reference sort.

>>> result = ks_2samp([1, 2, 3, 4], [3, 4, 5, 6])
>>> result.statistic, round(result.pvalue, 6), result.method
(0.5, 0.771429, 'exact')
>>> round(wasserstein_norm([0.0, 1.0, 3.0], [5.0, 6.0, 8.0]), 6)  # 5.0 / std([0, 1, 3])
4.008919
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
import numpy.typing as npt

from detectors.statistics._checks import FloatArray, as_sample, check_sorted
from detectors.statistics.ks_pvalue import ks_2samp_pvalue

__all__ = ["MIN_STD", "KSResult", "ecdf_distances", "ks_2samp", "wasserstein_norm"]

# Evidently's floor for the normalising standard deviation, so a constant reference does not
# divide by zero; the Wasserstein distance is then read in units of 0.001.
MIN_STD = 0.001


@dataclass(frozen=True, slots=True)
class KSResult:
    """Two-sided two-sample KS test; the statistic (max ECDF gap, in [0, 1]) is the effect size."""

    statistic: float
    pvalue: float
    method: Literal["exact", "asymp"]

    @property
    def effect_size(self) -> float:
        """The KS statistic itself: the largest gap between the two ECDFs."""
        return self.statistic


def ecdf_distances(reference_sorted: FloatArray, current_sorted: FloatArray) -> tuple[float, float]:
    """Return (KS statistic, unnormalised Wasserstein-1) of two sorted, non-empty samples.

    The two samples are merged with one binary search per current value; running counts along
    the merged order then give both ECDFs at every merged value.
    """
    n_ref, n_cur = reference_sorted.size, current_sorted.size
    total = n_ref + n_cur
    # Slot of each current value in the merged order: after every reference value <= it (ties
    # put the reference first) and after the current values before it.
    slots = np.searchsorted(reference_sorted, current_sorted, side="right")
    slots += np.arange(n_cur)
    is_current = np.zeros(total, dtype=bool)
    is_current[slots] = True
    merged = np.empty(total, dtype=np.float64)
    merged[slots] = current_sorted
    merged[~is_current] = reference_sorted
    current_seen = np.cumsum(is_current)
    reference_seen = np.arange(1, total + 1) - current_seen
    # Same expression as SciPy (count / size, then subtract), hence the same floats.
    gap = reference_seen / n_ref - current_seen / n_cur
    np.abs(gap, out=gap)
    steps = np.diff(merged)
    # Inside a run of tied values the running counts are partial; only the last position of
    # each run (a non-zero step follows) is a true ECDF value. The final position has both
    # ECDFs at 1, a gap of 0. Partial counts meet zero steps, so the integral ignores them.
    statistic = float(gap[:-1][steps != 0].max(initial=0.0))
    wasserstein = float(np.dot(gap[:-1], steps))
    return statistic, wasserstein


def _prepare(
    reference: npt.ArrayLike, current: npt.ArrayLike, reference_is_sorted: bool
) -> tuple[FloatArray, FloatArray]:
    ref = as_sample(reference, "reference")
    if reference_is_sorted:
        check_sorted(ref, "reference")
    else:
        ref = np.sort(ref)
    return ref, np.sort(as_sample(current, "current"))


def ks_2samp(
    reference: npt.ArrayLike, current: npt.ArrayLike, *, reference_is_sorted: bool = False
) -> KSResult:
    """Two-sided two-sample KS test matching ``scipy.stats.ks_2samp(reference, current)``.

    Pass ``reference_is_sorted=True`` with an ascending reference to skip its sort; the order is
    still verified in linear time. NaN and infinite values are rejected rather than propagated.
    """
    ref, cur = _prepare(reference, current, reference_is_sorted)
    statistic, _ = ecdf_distances(ref, cur)
    pvalue = ks_2samp_pvalue(statistic, ref.size, cur.size)
    return KSResult(pvalue.statistic, pvalue.pvalue, pvalue.method)


def wasserstein_norm(
    reference: npt.ArrayLike, current: npt.ArrayLike, *, reference_is_sorted: bool = False
) -> float:
    """Wasserstein-1 distance divided by ``max(std(reference), 0.001)`` (population std).

    Matches ``scipy.stats.wasserstein_distance(reference, current) / max(np.std(reference),
    0.001)``, the convention of Evidently's ``wasserstein`` test: 0.1 means the mass moved on
    average a tenth of a reference standard deviation.
    """
    ref, cur = _prepare(reference, current, reference_is_sorted)
    _, distance = ecdf_distances(ref, cur)
    return distance / max(float(np.std(ref)), MIN_STD)
