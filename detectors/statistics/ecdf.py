"""Distances between two empirical CDFs: the KS statistic and the normalised Wasserstein distance.

Both work on sorted samples and never build the merged sample. The profile keeps its reference
sorted, so a run sorts only its window (``ks_2samp(..., reference_is_sorted=True)`` skips the
reference sort too):

* KS: one binary search per distinct value of the smaller sample in the larger one gives both
  ECDFs at every point where their gap can be largest; ECDFs are evaluated as SciPy does (count of
  values <= x divided by the sample size), so ties and unequal sizes give SciPy's statistic bit
  for bit.
* Wasserstein-1 is the area between the two quantile functions, read off the two sorted
  arrays by index arithmetic alone (no search at all).

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

from detectors.statistics._checks import FloatArray, IntArray, as_sample, check_sorted
from detectors.statistics.ks_pvalue import ks_2samp_pvalue

__all__ = [
    "MIN_STD",
    "KSResult",
    "ks_2samp",
    "ks_statistic",
    "wasserstein_distance",
    "wasserstein_norm",
]

# Evidently's floor for the normalising standard deviation, so a constant reference does not
# divide by zero; the Wasserstein distance is then read in units of 0.001.
MIN_STD = 0.001

# Below this share of distinct values a window is searched value by value rather than per
# element: an integer-valued feature of a million events has a few dozen distinct values.
_COMPRESS_BELOW = 0.5

# Values per block: every temporary of a block (256 KB of float64) stays in the CPU cache
# instead of costing a fresh, page-faulted allocation the size of the sample.
_BLOCK = 1 << 15


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


def _runs(sorted_values: FloatArray) -> IntArray | None:
    """Where each run of equal values starts, plus the size at the end; ``None`` when most
    values are distinct (then every value is its own run, and no index array is needed)."""
    size = sorted_values.size
    starts_run = np.empty(size, dtype=bool)
    starts_run[0] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=starts_run[1:])
    if np.count_nonzero(starts_run) >= _COMPRESS_BELOW * size:
        # Inside a run of ties the per-value counts are partial, which only ever lowers a gap
        # below the run's own (see _largest_gap), so searching every value is exact too.
        return None
    return np.append(np.flatnonzero(starts_run), size)


def _largest_gap(x_sorted: FloatArray, y_sorted: FloatArray) -> float:
    """``max |F_x - F_y|`` over every value of both samples, searching only x's values in y.

    Between two consecutive x values ``F_x`` is flat and ``F_y`` rises, so the largest
    ``F_x - F_y`` sits at an x value ``v`` (counts <= v on both sides) and the largest
    ``F_y - F_x`` just before one (counts < v). Each such pair of counts is one SciPy evaluates,
    divided the same way, hence the same floats as SciPy's.
    """
    nx, ny = x_sorted.size, y_sorted.size
    bounds = _runs(x_sorted)
    values = x_sorted if bounds is None else x_sorted[bounds[:-1]]
    largest = 0.0
    for begin in range(0, values.size, _BLOCK):
        block = values[begin : begin + _BLOCK]
        if bounds is None:
            below_x = np.arange(begin, begin + block.size)
            upto_x = below_x + 1
        else:
            below_x = bounds[begin : begin + block.size]
            upto_x = bounds[begin + 1 : begin + block.size + 1]
        # Every count this block needs lies between these two, so search only that stretch.
        low = int(np.searchsorted(y_sorted, block[0], side="left"))
        stretch = y_sorted[low : int(np.searchsorted(y_sorted, block[-1], side="right"))]
        upto_y = np.searchsorted(stretch, block, side="right")
        upto_y += low
        # A value absent from y has as many y values below it as at or below it; only the
        # values y also holds need the second search.
        shared = y_sorted[np.maximum(upto_y - 1, 0)] == block
        below_y = upto_y
        if shared.any():
            below_y = upto_y.copy()
            below_y[shared] = np.searchsorted(stretch, block[shared], side="left") + low
        gap = upto_x / nx
        gap -= upto_y / ny
        x_above = float(gap.max())
        np.divide(below_y, ny, out=gap)
        gap -= below_x / nx
        largest = max(largest, x_above, float(gap.max()))
    return largest


def ks_statistic(reference_sorted: FloatArray, current_sorted: FloatArray) -> float:
    """The KS statistic of two sorted, non-empty samples, equal to SciPy's unrounded ``D``.

    The smaller sample is searched in the larger: a window of 10,000 events against a reference
    of a million costs 10,000 binary searches. (``a - b`` and ``-(b - a)`` are the same float,
    so the direction does not change the result.)
    """
    if current_sorted.size <= reference_sorted.size:
        return _largest_gap(current_sorted, reference_sorted)
    return _largest_gap(reference_sorted, current_sorted)


def wasserstein_distance(reference_sorted: FloatArray, current_sorted: FloatArray) -> float:
    """Wasserstein-1 distance of two sorted, non-empty samples (not normalised).

    It is the area between the quantile functions: with ``a`` the larger sample (``na`` values)
    and ``b`` the smaller, ``a[i]`` holds the quantiles in ``[i/na, (i+1)/na)`` and overlaps
    one ``b`` interval, or two where a ``b`` boundary ``k/nb`` falls inside it. Integer
    arithmetic in units of ``1/(na*nb)`` places every boundary exactly.
    """
    a, b = (
        (reference_sorted, current_sorted)
        if reference_sorted.size >= current_sorted.size
        else (current_sorted, reference_sorted)
    )
    na, nb = a.size, b.size
    if na == nb:  # the same quantile intervals: pair the values
        total = 0.0
        for begin in range(0, na, _BLOCK):
            paired = np.subtract(a[begin : begin + _BLOCK], b[begin : begin + _BLOCK])
            total += float(np.abs(paired, out=paired).sum())
        return total / na
    # First a interval of each b interval: ceil(j * na / nb); then b's value repeated over them.
    first = -((-np.arange(nb + 1, dtype=np.int64) * na) // nb)
    spread = np.repeat(b, np.diff(first))
    np.subtract(a, spread, out=spread)
    total = float(np.abs(spread, out=spread).sum()) * nb
    # Each boundary k/nb strictly inside a interval i moved the part of i after it, of width
    # nb - offset (in 1/(na*nb) units), from b[k-1] to b[k].
    k = np.arange(1, nb, dtype=np.int64)
    i, offset = np.divmod(k * na, nb)
    inside = offset != 0
    k, i, width = k[inside], i[inside], (nb - offset[inside]).astype(np.float64)
    moved = np.abs(a[i] - b[k]) - np.abs(a[i] - b[k - 1])
    total += float((moved * width).sum())
    return total / (na * nb)


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
    pvalue = ks_2samp_pvalue(ks_statistic(ref, cur), ref.size, cur.size)
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
    return wasserstein_distance(ref, cur) / max(float(np.std(ref)), MIN_STD)
