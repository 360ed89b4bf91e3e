"""Reference profile of a numeric feature, built once and compared with each current window.

The profile keeps the sorted reference (for KS and Wasserstein), its population standard
deviation, the quantile bin edges and the reference bin counts. A run only sorts the current
window; the bins never move with the window, so PSI values of successive windows are comparable.

>>> profile = NumericReference(range(1, 21), n_bins=4)
>>> profile.edges.tolist(), profile.reference_counts.tolist()
([5.0, 10.0, 15.0], [5, 5, 5, 5])
>>> drift = profile.compare([6, 7, 8, 9, 11, 12, 13, 14, 15, 11] + [16, 17, 18, 19, 20] * 2)
>>> drift.bin_counts, round(drift.psi, 4)
((0, 4, 6, 10), 2.1488)
>>> profile.compare(range(1, 21)).psi, profile.compare(range(1, 21)).ks.statistic
(0.0, 0.0)
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.statistics import divergence
from detectors.statistics._checks import (
    FloatArray,
    IntArray,
    as_sample,
    check_epsilon,
    check_n_bins,
    check_sorted,
)
from detectors.statistics._memory import kept_copy, sorted_copy
from detectors.statistics.binning import (
    DEFAULT_BINS,
    bin_counts,
    sorted_bin_counts,
    sorted_quantile_edges,
)
from detectors.statistics.ecdf import MIN_STD, KSResult, ks_statistic, wasserstein_distance
from detectors.statistics.ks_pvalue import ks_2samp_pvalue

__all__ = ["NumericDrift", "NumericReference"]

# Values per block of the standard deviation's second pass (see _population_std).
_BLOCK = 1 << 15


def _population_std(values: FloatArray) -> float:
    """``np.std(values)`` (ddof=0) without a temporary the size of the sample.

    ``np.std`` materialises ``values - mean`` and its square; here each block's deviations
    stay in the CPU cache. Two passes over the data either way, the same value to rounding.
    """
    mean = float(values.mean())
    squares = 0.0
    for begin in range(0, values.size, _BLOCK):
        deviations = values[begin : begin + _BLOCK] - mean
        deviations *= deviations
        squares += float(deviations.sum())
    return math.sqrt(squares / values.size)


@dataclass(frozen=True, slots=True)
class NumericDrift:
    """Every numeric drift measure for one current window against one reference profile."""

    ks: KSResult
    psi: float
    wasserstein: float  # Wasserstein-1 / max(reference std, 0.001)
    jensen_shannon: float  # base 2, on the reference bins
    hellinger: float  # on the reference bins
    bin_counts: tuple[int, ...]  # current values per reference bin, for display and audit
    current_size: int


class NumericReference:
    """Sorted reference values, quantile edges and bin counts of one numeric feature.

    ``n_bins`` is an upper bound: tied quantiles are merged (see ``binning``). ``epsilon`` is the
    PSI smoothing constant. Memory is one float64 per reference value; subsample a very large
    reference before building the profile if that matters.
    """

    __slots__ = ("_counts", "_edges", "_epsilon", "_sorted", "_std")

    def __init__(
        self,
        reference: npt.ArrayLike,
        *,
        n_bins: int = DEFAULT_BINS,
        epsilon: float = divergence.DEFAULT_EPSILON,
        is_sorted: bool = False,
    ) -> None:
        # Cheap argument checks first, so a bad call fails before sorting a large reference.
        self._epsilon = check_epsilon(epsilon)
        check_n_bins(n_bins)
        values = as_sample(reference, "reference")
        if is_sorted:
            check_sorted(values, "reference")
            values = kept_copy(values)  # the profile freezes its array; never freeze the caller's
        else:
            values = sorted_copy(values)
        self._freeze(values, n_bins, None)

    @classmethod
    def from_sorted(
        cls,
        values: FloatArray,
        *,
        n_bins: int = DEFAULT_BINS,
        epsilon: float = divergence.DEFAULT_EPSILON,
        std: float | None = None,
    ) -> NumericReference:
        """A profile that takes over an ascending float64 array instead of copying it.

        For arrays nobody else holds, such as a stored profile's freshly decoded columns: the
        array is frozen (read-only) from then on. ``std`` is the stored standard deviation of
        the same values, computed here when not given.

        >>> NumericReference.from_sorted(np.array([1.0, 2.0, 3.0]), n_bins=3).edges.tolist()
        [1.0, 2.0]
        """
        profile = cls.__new__(cls)
        profile._epsilon = check_epsilon(epsilon)
        check_n_bins(n_bins)
        sample = as_sample(values, "reference")
        if sample is not values or not values.flags.writeable:
            raise ValueError("from_sorted takes over a writable float64 array; use is_sorted=True")
        check_sorted(values, "reference")
        profile._freeze(values, n_bins, std)
        return profile

    def _freeze(self, values: FloatArray, n_bins: int, std: float | None) -> None:
        self._sorted: FloatArray = values
        self._sorted.setflags(write=False)  # shared across runs: nobody may mutate it
        self._edges: FloatArray = sorted_quantile_edges(values, n_bins)
        self._edges.setflags(write=False)
        self._counts: IntArray = sorted_bin_counts(values, self._edges)
        self._counts.setflags(write=False)
        self._std = _population_std(values) if std is None else float(std)

    @property
    def size(self) -> int:
        """Number of reference values."""
        return int(self._sorted.size)

    @property
    def sorted_values(self) -> FloatArray:
        """The reference, ascending (read-only)."""
        return self._sorted

    @property
    def edges(self) -> FloatArray:
        """Interior bin edges (read-only); the bins are ``len(edges) + 1`` right-closed bins."""
        return self._edges

    @property
    def reference_counts(self) -> IntArray:
        """Reference values per bin (read-only); all positive by construction."""
        return self._counts

    @property
    def std(self) -> float:
        """Population standard deviation of the reference (ddof=0, as Evidently)."""
        return self._std

    def bin_counts(self, current: npt.ArrayLike) -> IntArray:
        """Current values per reference bin (no sort needed: one binary search per value)."""
        return bin_counts(as_sample(current, "current"), self._edges)

    def ks(self, current: npt.ArrayLike) -> KSResult:
        """Two-sample KS test, equal to ``scipy.stats.ks_2samp(reference, current)``."""
        cur = np.sort(as_sample(current, "current"))
        pvalue = ks_2samp_pvalue(ks_statistic(self._sorted, cur), self._sorted.size, cur.size)
        return KSResult(pvalue.statistic, pvalue.pvalue, pvalue.method)

    def psi(self, current: npt.ArrayLike) -> float:
        """PSI of the current window on the reference bins."""
        counts = self.bin_counts(current)
        return divergence.psi(self._counts, counts, epsilon=self._epsilon)

    def compare(self, current: npt.ArrayLike) -> NumericDrift:
        """All measures at once, sorting the current window a single time."""
        cur = np.sort(as_sample(current, "current"))
        pvalue = ks_2samp_pvalue(ks_statistic(self._sorted, cur), self._sorted.size, cur.size)
        counts = sorted_bin_counts(cur, self._edges)
        return NumericDrift(
            ks=KSResult(pvalue.statistic, pvalue.pvalue, pvalue.method),
            psi=divergence.psi(self._counts, counts, epsilon=self._epsilon),
            wasserstein=wasserstein_distance(self._sorted, cur) / max(self._std, MIN_STD),
            jensen_shannon=divergence.jensen_shannon(self._counts, counts),
            hellinger=divergence.hellinger(self._counts, counts),
            bin_counts=tuple(int(count) for count in counts),
            current_size=int(cur.size),
        )
