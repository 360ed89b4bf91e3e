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
  and above its maximum 1, so the tails are exact from the sums of the values there. Inside a
  fine bin ``(a, b]`` of width ``w``, the integral of each CDF is exact from the count and the
  sum of the values' positions in the bin (the layout keeps the reference's, the aggregate
  the window's), so the integral of ``F_ref - F_cur`` is exact, and so is its absolute value
  unless the difference changes sign inside the bin. That needs the two CDFs' ranges over the
  bin to overlap, and adds at most ``2 w s``, where ``s`` is what the overlap leaves room for
  given the known integral. Where the difference has one sign at both ends, no crossing is
  assumed (the estimate is the low end, the bound ``2 w s``); where the signs differ, the
  crossing is placed linearly inside that interval and the bound is the distance to its far
  end. The bound is the sum over the bins, divided like the statistic by the reference std:
  0 where the CDFs are apart (clear drift), largest for nearly equal distributions.

>>> from driftline.aggregates.layout import numeric_slot
>>> slot = numeric_slot("x", np.arange(100.0), np.array([49.0]), 0.0, 0, 2)  # 2 bins + tails
>>> slot.ref_counts.tolist()
[0, 2, 2, 3, 6, 12, 25, 25, 13, 6, 3, 2, 1, 0]
>>> ks_binned(slot, slot.ref_counts)  # identical counts: D = 0, the exact D is at most 0.25
(0.0, 0.25)
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
from driftline.aggregates.partial import POSITION_STEPS

__all__ = [
    "CategoricalCounts",
    "categorical_counts",
    "coarse_counts",
    "ks_binned",
    "wasserstein_binned",
]

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
# Half a quantisation step of a bin's mean position per rounding, for up to 16 roundings.
_ROUNDING_SLACK = 16 * 0.5 / POSITION_STEPS


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
    slot: Slot, current: IntArray, positions: FloatArray, below_sum: float, above_sum: float
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
    # Inner bin i spans (cuts[i-1], cuts[i]]; its CDF values are ref/cur[i] and [i+1].
    widths = slot.widths[1:-1]
    ref_a, ref_b, cur_a, cur_b = ref[1:-2], ref[2:-1], cur[1:-2], cur[2:-1]
    # The integral of F over (a, b] is F(a) * w plus w times the share-weighted mean position
    # (b - v) / w of the bin's values: exact for both sides, so is the integral of F_ref - F_cur.
    ref_share = np.diff(ref)[1:-1]
    integral = widths * ((ref_a - cur_a) + ref_share * slot.shape[1:-1] - positions[1:-1] / n)
    # |F_ref - F_cur| integrates to |integral| unless the difference changes sign inside the
    # bin, which adds 2 * min(positive part, negative part); each part is at most the width
    # times how far one CDF's range over the bin reaches past the other's, less what the
    # known integral already gives: so the truth is in [|integral|, |integral| + 2 * slack].
    above = widths * np.maximum(ref_b - cur_a, 0.0)  # largest possible positive part
    below = widths * np.maximum(cur_b - ref_a, 0.0)  # largest possible negative part
    slack = np.maximum(
        np.where(
            integral >= 0, np.minimum(below, above - integral), np.minimum(above, below + integral)
        ),
        0.0,
    )
    low, high = np.abs(integral), np.abs(integral) + 2 * slack
    # Where the difference has one sign at both ends, assume it keeps it (the low end); where
    # the signs differ it crosses: place the crossing linearly, within [low, high].
    d_a, d_b = ref_a - cur_a, ref_b - cur_b
    crossing = d_a * d_b < 0
    spread = np.abs(d_a) + np.abs(d_b)
    with np.errstate(divide="ignore", invalid="ignore"):
        linear = np.where(spread > 0, widths * (d_a**2 + d_b**2) / (2 * spread), 0.0)
    inner = np.where(crossing, np.clip(linear, low, high), low)
    # Stored positions are rounded (once per stored row and per compaction, see partial.py).
    rounding = _ROUNDING_SLACK * widths * current[1:-1] / n
    bound = np.maximum(inner - low, high - inner) + rounding
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
