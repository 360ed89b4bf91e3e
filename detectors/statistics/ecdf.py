"""Distances between two empirical CDFs: the KS statistic and the normalised Wasserstein distance.

Both work on sorted samples and never build the merged sample. The profile keeps its reference
sorted, so a run sorts only its window (``ks_2samp(..., reference_is_sorted=True)`` skips the
reference sort too):

* KS: one binary search per distinct value of the smaller sample in the larger one gives both
  ECDFs at every point where their gap can be largest; ECDFs are evaluated as SciPy does (count of
  values <= x divided by the sample size), so ties and unequal sizes give SciPy's statistic bit
  for bit. Large samples are searched on a grid first, then only where a larger gap is possible.
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

# The grid of _candidates: every _STEP-th value of x (the bound's slack is about _STEP / nx),
# used from _PRUNE_FROM distinct values on, and given up when more than _MAX_OPEN_SHARE of its
# intervals stay open (a search of every value is then cheaper).
_STEP = 64
_PRUNE_FROM = 1 << 14
_MAX_OPEN_SHARE = 0.25


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


def _gaps(
    values: FloatArray, below_x: IntArray, upto_x: IntArray, y_sorted: FloatArray, nx: int
) -> float:
    """The largest gap at x values ``values`` with their counts of x values below / up to them.

    Every y count these need lies between the counts at the first and the last value, so only
    that stretch of ``y_sorted`` is searched.
    """
    ny = y_sorted.size
    low = int(np.searchsorted(y_sorted, values[0], side="left"))
    stretch = y_sorted[low : int(np.searchsorted(y_sorted, values[-1], side="right"))]
    upto_y = np.searchsorted(stretch, values, side="right")
    upto_y += low
    # A value absent from y has as many y values below it as at or below it; only the
    # values y also holds need the second search.
    shared = y_sorted[np.maximum(upto_y - 1, 0)] == values
    below_y = upto_y
    if shared.any():
        below_y = upto_y.copy()
        below_y[shared] = np.searchsorted(stretch, values[shared], side="left") + low
    gap = upto_x / nx
    gap -= upto_y / ny
    x_above = float(gap.max())
    np.divide(below_y, ny, out=gap)
    gap -= below_x / nx
    return max(x_above, float(gap.max()))


def _candidates(
    values: FloatArray, bounds: IntArray | None, y_sorted: FloatArray, nx: int
) -> tuple[float, IntArray] | None:
    """The largest gap at every ``_STEP``-th x value, and the other values that could beat it.

    Between two grid values the counts of x and of y only grow, so a gap there is at most
    the x count at the right end minus the y count at the left end (or the other way round).
    IEEE division and subtraction round monotonically, so that bound computed in floats is
    never below a float gap computed inside the interval either: where it does not exceed
    the grid's largest gap, nothing inside can, and the result stays SciPy's exactly. ``None``
    when too many intervals remain for the pruning to pay.
    """
    ny, size = y_sorted.size, values.size
    grid = np.append(np.arange(0, size - 1, _STEP), size - 1)
    at = values[grid]
    upto_y, below_y = (np.searchsorted(y_sorted, at, side=s) for s in ("right", "left"))
    below_x = grid if bounds is None else bounds[grid]
    upto_x = grid + 1 if bounds is None else bounds[grid + 1]
    best = max(float((upto_x / nx - upto_y / ny).max()), float((below_y / ny - below_x / nx).max()))
    bound = np.maximum(upto_x[1:] / nx - upto_y[:-1] / ny, below_y[1:] / ny - below_x[:-1] / nx)
    open_intervals = np.flatnonzero(bound > best)
    if open_intervals.size > _MAX_OPEN_SHARE * bound.size:
        return None
    # The interior indices of the open intervals, concatenated.
    starts, stops = grid[open_intervals] + 1, grid[open_intervals + 1]
    lengths = stops - starts
    offsets = np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
    return best, np.arange(int(lengths.sum())) + offsets


def _largest_gap(x_sorted: FloatArray, y_sorted: FloatArray) -> float:
    """``max |F_x - F_y|`` over every value of both samples, searching only x's values in y.

    Between two consecutive x values ``F_x`` is flat and ``F_y`` rises, so the largest
    ``F_x - F_y`` sits at an x value ``v`` (counts <= v on both sides) and the largest
    ``F_y - F_x`` just before one (counts < v). Each such pair of counts is one SciPy evaluates,
    divided the same way, hence the same floats as SciPy's. A large x is first evaluated on a
    grid, and then only where the grid leaves room for a larger gap (``_candidates``).
    """
    nx = x_sorted.size
    bounds = _runs(x_sorted)
    values = x_sorted if bounds is None else x_sorted[bounds[:-1]]
    found = _candidates(values, bounds, y_sorted, nx) if values.size >= _PRUNE_FROM else None
    if found is not None:
        best, index = found
        if not index.size:
            return best
        below_x = index if bounds is None else bounds[index]
        upto_x = index + 1 if bounds is None else bounds[index + 1]
        return max(best, _gaps(values[index], below_x, upto_x, y_sorted, nx))
    largest = 0.0
    for begin in range(0, values.size, _BLOCK):
        block = values[begin : begin + _BLOCK]
        if bounds is None:
            below_x = np.arange(begin, begin + block.size)
            upto_x = below_x + 1
        else:
            below_x = bounds[begin : begin + block.size]
            upto_x = bounds[begin + 1 : begin + block.size + 1]
        largest = max(largest, _gaps(block, below_x, upto_x, y_sorted, nx))
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
