"""Benjamini-Hochberg adjustment of the p-values of one run (one test per feature).

Testing 50 features at alpha 0.05 flags about 2.5 of them on pure noise; the adjusted p-values
control the false discovery rate instead, the expected share of flagged features that are false
alarms. Adjusted p-value of the i-th smallest of m p-values: ``min over j >= i of
min(1, p_(j) * m / j)``, identical to ``scipy.stats.false_discovery_control(ps, method="bh")``.
Flag a feature when its adjusted p-value is at most the chosen FDR level.

>>> benjamini_hochberg([0.01, 0.04, 0.03, 0.20]).round(4).tolist()
[0.04, 0.0533, 0.0533, 0.2]
>>> benjamini_hochberg([]).size
0
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from detectors.statistics._checks import FloatArray

__all__ = ["benjamini_hochberg"]


def benjamini_hochberg(pvalues: npt.ArrayLike) -> FloatArray:
    """Adjusted p-values in the input order; an empty input gives an empty array."""
    try:
        ps = np.asarray(pvalues, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"pvalues must contain numbers: {exc}") from None
    if ps.ndim != 1:
        raise ValueError(f"pvalues must be one-dimensional, got shape {ps.shape}")
    # NaN fails this comparison too, so a missing p-value is reported rather than ranked.
    if not np.all((ps >= 0.0) & (ps <= 1.0)):
        raise ValueError("pvalues must all be numbers between 0 and 1")
    m = ps.size
    if m <= 1:
        return ps.copy()
    order = np.argsort(ps)
    scaled = ps[order] * (m / np.arange(1, m + 1, dtype=np.float64))
    # Step-up: each adjusted value is the smallest scaled value at or above its rank.
    scaled = np.minimum.accumulate(scaled[::-1])[::-1]
    adjusted = np.empty(m, dtype=np.float64)
    adjusted[order] = np.clip(scaled, 0.0, 1.0)
    return adjusted
