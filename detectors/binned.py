"""Drift statistics from fine-bin counts (the aggregate path), with error bounds.

PSI, Jensen-Shannon, Hellinger and chi-square use the profile's bins, which are unions of fine
bins (``driftline.aggregates.layout``), so they are exactly the raw path's values. KS and
Wasserstein need the distribution inside the bins, which the counts do not keep; each comes
with a bound on its error that holds whatever the events inside the bins were:

* **KS**: the ECDF difference at every fine edge is exact, so ``D`` (the largest one) is a lower
  bound of the exact statistic. Inside a bin ``(a, b]`` the exact difference lies between
  ``F_ref(b) - F_cur(a)`` and ``F_cur(b) - F_ref(a)``, so the exact statistic is at most the
  largest of those; the bound is that maximum minus ``D`` (at most the largest share of one
  bin, reference or current).
* **Wasserstein**: ``integral |F_ref - F_cur| dx``. Below the reference minimum ``F_ref`` is 0
  and above its maximum 1, so the tails are exact from the sums of the values there. Inside
  each fine bin, the current values are assumed spread like the reference's (whose mean CDF
  position per bin the layout keeps): exact when they are. Whatever they are, the current CDF
  stays between its values at the bin's edges, so the error in a bin of width ``w`` holding a
  share ``c`` of the window is at most ``w * c``; where the two CDFs cross inside a bin, the
  crossing is placed linearly and ``w * |r - c|`` is added (``r``: the reference share).
  The bound is the sum over the bins, divided like the statistic by the reference std.

>>> from driftline.aggregates.layout import numeric_slot
>>> slot = numeric_slot("x", np.arange(100.0), np.array([49.0]), 0.0, 0, 2)
>>> slot.ref_counts.tolist(), ks_binned(slot, np.array([0, 50, 50, 0]))
([0, 50, 50, 0], (0.0, 0.5))
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from detectors.statistics import chi_square_test, divergence, two_proportion_ztest
from detectors.statistics.contingency import ChiSquareResult
from detectors.statistics.ecdf import MIN_STD
from detectors.statistics.proportions import ZTestResult
from driftline.aggregates.layout import Slot

__all__ = [
    "CategoricalCounts",
    "categorical_counts",
    "coarse_counts",
    "ks_binned",
    "wasserstein_binned",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


def coarse_counts(slot: Slot, fine: IntArray, coarse: IntArray | None = None) -> IntArray:
    """Counts per profile (PSI) bin: each is a run of consecutive fine bins. ``coarse``: the
    positions of the PSI edges among the fine edges, when not the layout's own."""
    positions = slot.coarse if coarse is None else coarse
    assert positions is not None
    starts = np.concatenate(([0], slot.end_bin[positions] + 1)).astype(np.intp)
    return np.add.reduceat(fine, starts).astype(np.int64)


def _cdfs(reference: IntArray, current: IntArray) -> tuple[FloatArray, FloatArray]:
    """Both CDFs at the bins' right ends, with 0 prepended (the left end of the first bin)."""
    ref = np.concatenate(([0.0], np.cumsum(reference) / reference.sum()))
    cur = np.concatenate(([0.0], np.cumsum(current) / current.sum()))
    return ref, cur


def ks_binned(slot: Slot, current: IntArray) -> tuple[float, float]:
    """(KS statistic at the bin ends, bound on its distance to the exact statistic)."""
    ref, cur = _cdfs(slot.ref_counts, current)
    statistic = float(np.max(np.abs(ref - cur)))
    inside = np.maximum(ref[1:] - cur[:-1], cur[1:] - ref[:-1])
    inside[1:-1][np.diff(slot.cuts) == 0] = 0.0  # an atom bin has no inside
    return statistic, max(float(inside.max()) - statistic, 0.0)


def wasserstein_binned(
    slot: Slot, current: IntArray, below_sum: float, above_sum: float
) -> tuple[float, float]:
    """(Wasserstein-1 / max(reference std, 0.001), bound on the error), see the module doc."""
    assert slot.shape is not None
    n = float(current.sum())
    ref, cur = _cdfs(slot.ref_counts, current)
    cuts = slot.cuts
    # Tails: F_ref is 0 below the first cut (just under the reference minimum) and 1 above the
    # last (the maximum), so the integrals are sums of distances to the cut: exact.
    lower = (current[0] * cuts[0] - below_sum) / n
    upper = (above_sum - current[-1] * cuts[-1]) / n
    # Inner bin i spans (cuts[i-1], cuts[i]); its CDF values are ref/cur[i] and [i+1].
    widths = np.diff(cuts)
    d_left = ref[1:-2] - cur[1:-2]
    d_right = ref[2:-1] - cur[2:-1]
    shape = slot.shape[1:-1]
    same_sign = d_left * d_right >= 0
    shaped = np.abs(d_left + (d_right - d_left) * shape)
    spread = np.abs(d_left) + np.abs(d_right)
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = np.where(spread > 0, (d_left**2 + d_right**2) / (2 * spread), 0.0)
    inner = widths * np.where(same_sign, shaped, crossing)
    shares = current[1:-1] / n
    bound = widths * shares + np.where(same_sign, 0.0, widths * np.abs(d_right - d_left))
    scale = max(slot.std, MIN_STD)
    distance = (max(lower, 0.0) + float(inner.sum()) + max(upper, 0.0)) / scale
    return distance, float(bound.sum()) / scale


@dataclass(frozen=True, slots=True)
class CategoricalCounts:
    """The categorical measures of ``CategoricalReference.compare``, from counts."""

    chi_square: ChiSquareResult
    ztest: ZTestResult | None
    psi: float
    jensen_shannon: float
    hellinger: float


def categorical_counts(reference: IntArray, current: IntArray) -> CategoricalCounts:
    """``reference`` and ``current`` per reference category then the unseen bin (as stored)."""
    reference = reference.copy()
    reference[-1] = 0
    ztest = None
    known = int(current[:2].sum())
    if reference.size == 3 and known:  # two categories: "success" is the second, sorted
        ztest = two_proportion_ztest(
            int(reference[1]), int(reference.sum()), int(current[1]), known
        )
    return CategoricalCounts(
        chi_square=chi_square_test(reference, current),
        ztest=ztest,
        psi=divergence.psi(reference, current),
        jensen_shannon=divergence.jensen_shannon(reference, current),
        hellinger=divergence.hellinger(reference, current),
    )
