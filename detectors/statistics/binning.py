"""Bins fixed by the reference sample: quantile edges computed once, reused for every window.

Edges are reference quantiles (``method="inverted_cdf"``, so every edge is an observed value),
bins are right-closed ``(e[i-1], e[i]]`` and the outer bins are open to -inf and +inf, so every
current value lands in some bin. Tied quantiles are merged and an edge equal to the reference
maximum is dropped; together these guarantee that no reference bin is empty. A reference with
few distinct values therefore gets fewer bins than requested, and a constant one gets one bin.

>>> quantile_edges(range(1, 21), n_bins=4)
array([ 5., 10., 15.])
>>> quantile_edges([0, 0, 0, 0, 0, 0, 1, 1, 2, 2], n_bins=10)
array([0., 1.])
>>> bin_counts([0, 5, 6, 30], quantile_edges(range(1, 21), n_bins=4))
array([2, 1, 0, 1])
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from detectors.statistics._checks import FloatArray, IntArray, as_sample, check_n_bins

__all__ = [
    "DEFAULT_BINS",
    "bin_counts",
    "quantile_edges",
    "sorted_bin_counts",
    "sorted_quantile_edges",
]

# Ten reference deciles: the usual PSI convention, and each bin holds ~10% of the reference.
DEFAULT_BINS = 10


def quantile_edges(reference: npt.ArrayLike, n_bins: int = DEFAULT_BINS) -> FloatArray:
    """Interior bin edges: the reference's 1/n_bins ... (n_bins-1)/n_bins quantiles, deduplicated.

    The result has at most ``n_bins - 1`` edges, giving ``len(edges) + 1`` bins.
    """
    check_n_bins(n_bins)
    values = as_sample(reference, "reference")
    probabilities = np.arange(1, n_bins) / n_bins
    # inverted_cdf picks observed values, so a tie-heavy reference gets edges on its atoms
    # instead of interpolated points between them that would create empty bins.
    quantiles = np.quantile(values, probabilities, method="inverted_cdf")
    return _distinct_edges(np.asarray(quantiles, dtype=np.float64), float(values.max()))


def sorted_quantile_edges(sorted_values: FloatArray, n_bins: int = DEFAULT_BINS) -> FloatArray:
    """``quantile_edges`` of an ascending, finite, non-empty sample, picked by index.

    ``np.quantile`` would copy and partition the whole array to find what a sorted array
    holds at known positions. The positions are NumPy's ``inverted_cdf`` ones, computed with
    the same float expression (virtual index ``n * p - 1``, rounded up unless whole), so the
    edges are identical; the caller guarantees the order (a profile's own data).
    """
    check_n_bins(n_bins)
    n = sorted_values.size
    probabilities = np.arange(1, n_bins) / n_bins
    positions = np.clip(np.ceil(n * probabilities - 1), 0, n - 1).astype(np.intp)
    return _distinct_edges(sorted_values[positions], float(sorted_values[-1]))


def _distinct_edges(quantiles: FloatArray, maximum: float) -> FloatArray:
    edges: FloatArray = np.unique(quantiles)
    # A bin (max, +inf) would be empty in the reference by construction; fold it into the last.
    return edges[edges < maximum]


def _check_edges(edges: npt.ArrayLike) -> FloatArray:
    array = np.asarray(edges, dtype=np.float64)
    if array.ndim != 1:
        raise ValueError(f"edges must be one-dimensional, got shape {array.shape}")
    if not np.isfinite(array).all() or np.any(np.diff(array) <= 0):
        raise ValueError("edges must be finite and strictly increasing")
    return array


def bin_counts(values: npt.ArrayLike, edges: npt.ArrayLike) -> IntArray:
    """Count ``values`` in the right-closed bins ``(-inf, e0], (e0, e1], ..., (e_last, +inf)``."""
    checked = _check_edges(edges)
    sample = as_sample(values, "values")
    # searchsorted(side="left") returns i with e[i-1] < x <= e[i]: the right-closed bin index.
    index = np.searchsorted(checked, sample, side="left")
    return np.bincount(index, minlength=checked.size + 1).astype(np.int64)


def sorted_bin_counts(sorted_values: FloatArray, edges: FloatArray) -> IntArray:
    """``bin_counts`` for an already sorted sample in O(bins * log n) instead of O(n).

    The caller guarantees ``sorted_values`` is ascending and ``edges`` valid (a profile's own
    data), which is why this skips the checks of ``bin_counts``.
    """
    # Number of values <= each edge, then the successive differences are the bin counts.
    at_or_below = np.searchsorted(sorted_values, edges, side="right")
    cumulative = np.concatenate(([0], at_or_below, [sorted_values.size]))
    return np.diff(cumulative).astype(np.int64)
