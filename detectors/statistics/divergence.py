"""Distances between two binned distributions: PSI, Jensen-Shannon and Hellinger.

All three take *counts* over the same bins (reference-fixed bins, see ``binning`` and
``categorical``) so they cannot be fed proportions that do not sum to one.

PSI needs every proportion to be positive. Each proportion gets ``epsilon`` (default 1e-4) added
and the vector is renormalised to sum to one: ``p' = (p + epsilon) / (1 + k * epsilon)`` for
``k`` bins. It is applied to every bin of both sides, always, so PSI is a continuous function of
the counts and identical inputs give exactly 0. An empty current bin facing a reference share
``r`` then contributes about ``r * ln(r / epsilon)``, e.g. 0.69 for r = 0.1, instead of infinity.

Jensen-Shannon and Hellinger are finite with empty bins and use the raw proportions.

>>> round(psi([5, 5, 5, 5], [0, 4, 6, 10]), 4)
2.1488
>>> psi([3, 1], [3, 1])
0.0
>>> round(jensen_shannon([1, 0], [0, 1]), 12), round(hellinger([1, 0], [0, 1]), 12)
(1.0, 1.0)
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt
from scipy import special

from detectors.statistics._checks import FloatArray, as_counts, check_epsilon

__all__ = ["DEFAULT_EPSILON", "hellinger", "jensen_shannon", "proportions", "psi"]

# Small enough not to move a populated bin (a 0.01% share), large enough that one empty bin adds
# a bounded ~r * 9.2 to PSI rather than swamping every other bin.
DEFAULT_EPSILON = 1e-4


def _pair(
    reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike
) -> tuple[FloatArray, FloatArray]:
    ref = as_counts(reference_counts, "reference_counts")
    cur = as_counts(current_counts, "current_counts")
    if ref.size != cur.size:
        raise ValueError(f"counts must cover the same bins, got {ref.size} and {cur.size} bins")
    for name, counts in (("reference_counts", ref), ("current_counts", cur)):
        if counts.sum() == 0:
            raise ValueError(f"{name} must contain at least one observation")
    return ref / ref.sum(), cur / cur.sum()


def proportions(counts: npt.ArrayLike, epsilon: float = DEFAULT_EPSILON) -> FloatArray:
    """Shares of ``counts`` with ``epsilon`` added to each and renormalised to sum to one.

    >>> proportions([1, 0, 1], epsilon=0.01).round(6).tolist()
    [0.495146, 0.009709, 0.495146]
    """
    eps = check_epsilon(epsilon)
    array = as_counts(counts, "counts")
    total = int(array.sum())
    if total == 0:
        raise ValueError("counts must contain at least one observation")
    shares: FloatArray = array / total
    smoothed: FloatArray = (shares + eps) / (1.0 + array.size * eps)
    return smoothed


def psi(
    reference_counts: npt.ArrayLike,
    current_counts: npt.ArrayLike,
    *,
    epsilon: float = DEFAULT_EPSILON,
) -> float:
    """Population Stability Index: ``sum((c - r) * ln(c / r))`` over smoothed proportions.

    Symmetric in its arguments, 0 for identical distributions; a common reading is < 0.1 stable,
    0.1-0.25 moderate shift, > 0.25 major shift.
    """
    _pair(reference_counts, current_counts)  # shape and emptiness checks with clear messages
    ref = proportions(reference_counts, epsilon)
    cur = proportions(current_counts, epsilon)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def jensen_shannon(reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike) -> float:
    """Jensen-Shannon *distance* in base 2 (square root of the divergence), in [0, 1].

    Equals ``scipy.spatial.distance.jensenshannon(ref, cur, base=2)``; base 2 makes 1 the value
    for distributions with disjoint support, whatever the number of bins.
    """
    ref, cur = _pair(reference_counts, current_counts)
    mixture = (ref + cur) / 2.0
    # rel_entr is 0 where the share is 0, the limit of p * ln(p / m).
    divergence = float(np.sum(special.rel_entr(ref, mixture) + special.rel_entr(cur, mixture)))
    # Rounding can leave a tiny negative divergence for identical inputs; it is 0.
    return math.sqrt(max(divergence / 2.0, 0.0) / math.log(2.0))


def hellinger(reference_counts: npt.ArrayLike, current_counts: npt.ArrayLike) -> float:
    """Hellinger distance ``sqrt(sum((sqrt(r) - sqrt(c))**2) / 2)``, in [0, 1].

    Computed from the differences of square roots rather than ``sqrt(1 - sum(sqrt(r * c)))``,
    which cancels catastrophically for nearly identical distributions.
    """
    ref, cur = _pair(reference_counts, current_counts)
    return float(np.sqrt(np.sum((np.sqrt(ref) - np.sqrt(cur)) ** 2) / 2.0))
