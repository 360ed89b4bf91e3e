"""P-value of the two-sample Kolmogorov-Smirnov test, chosen exactly as ``scipy.stats.ks_2samp``.

Only the two-sided alternative with SciPy's default ``method='auto'`` is reproduced:

* both samples of at most 10,000 values: the exact null distribution (lattice-path counting,
  Hodges 1958), after rounding the statistic to the lattice ``h / lcm(n1, n2)``;
* otherwise, or when the exact computation fails numerically: ``kstwo.sf(d, round(en))`` with
  ``en = n1 * n2 / (n1 + n2)``.

The statistic is an input, so a reference profile can compute it with a pre-sorted reference and
still get SciPy's p-value. The exact recursion for unequal sizes is SciPy's compiled routine when
present; the pure-Python port below keeps this module working if SciPy moves that private name.

>>> result = ks_2samp_pvalue(0.5, 4, 4)
>>> result.method, round(result.pvalue, 6)
('exact', 0.771429)
>>> ks_2samp_pvalue(0.05, 20_000, 30_000).method
'asymp'
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from scipy import stats

__all__ = ["MAX_EXACT_SIZE", "KSPValue", "ks_2samp_pvalue", "outer_prob_inside_python"]

# SciPy's MAX_AUTO_N: 'auto' is exact when both sizes are at most this.
MAX_EXACT_SIZE = 10_000


@dataclass(frozen=True, slots=True)
class KSPValue:
    """The statistic as SciPy reports it (lattice-rounded when exact), its p-value and method."""

    statistic: float
    pvalue: float
    method: Literal["exact", "asymp"]


def _prob_outside_square(n: int, h: int) -> float:
    """P(D_{n,n} >= h/n) for equal sizes; SciPy's Horner-like series, term for term."""
    total = 0.0
    k = int(np.floor(n / h))
    while k >= 0:
        p1 = 1.0
        for j in range(h):
            p1 = (n - k * h - j) * p1 / (n + k * h + j + 1)
        total = p1 * (1.0 - total)
        k -= 1
    return 2 * total


def outer_prob_inside_python(m: int, n: int, g: int, h: int) -> float:
    """P(D_{m,n} >= h/lcm) for unequal sizes: a port of SciPy's compiled recursion (Viehmann).

    It walks the lattice column by column keeping only the band of cells inside the diagonals,
    storing 1 - p directly so no huge binomial coefficient is ever formed.
    """
    if m < n:
        m, n = n, m
    mg, ng = m // g, n // g
    minj, maxj = 0, min(math.ceil(h / mg), n + 1)
    curlen = maxj - minj
    band = np.ones(min(2 * maxj + 2, n + 1), dtype=np.float64)
    band[minj:maxj] = 0.0
    for i in range(1, m + 1):
        lastminj, lastlen = minj, curlen
        minj = min(max(math.floor((ng * i - h) / mg) + 1, 0), n)
        maxj = min(math.ceil((ng * i + h) / mg), n + 1)
        if maxj <= minj:
            return 1.0
        val = 0.0 if minj == 0 else 1.0
        for jj in range(maxj - minj):
            j = jj + minj
            val = (float(band[jj + minj - lastminj]) * i + val * j) / (i + j)
            band[jj] = val
        curlen = maxj - minj
        if lastlen > curlen:
            band[maxj - minj : maxj - minj + (lastlen - curlen)] = 1
    return float(band[maxj - minj - 1])


def _compiled_outer_prob() -> Callable[[int, int, int, int], Any] | None:
    try:
        from scipy.stats._stats_pythran import _compute_outer_prob_inside_method
    except ImportError:  # pragma: no cover - only on a SciPy that renamed the private routine
        return None
    return _compute_outer_prob_inside_method  # type: ignore[no-any-return]


_OUTER_PROB: Callable[[int, int, int, int], Any] = (
    _compiled_outer_prob() or outer_prob_inside_python
)


def _exact(n1: int, n2: int, d: float) -> tuple[bool, float, float]:
    """SciPy's ``_attempt_exact_2kssamp`` for the two-sided case: (success, d, p)."""
    g = math.gcd(n1, n2)
    lcm = (n1 // g) * n2
    h = int(np.round(d * lcm))
    d = h * 1.0 / lcm
    if h == 0:
        return True, d, 1.0
    try:
        with np.errstate(invalid="raise", over="raise"):
            prob = _prob_outside_square(n1, h) if n1 == n2 else float(_OUTER_PROB(n1, n2, g, h))
    except (FloatingPointError, OverflowError):
        return False, d, math.nan
    return 0.0 <= prob <= 1.0, d, prob


def ks_2samp_pvalue(statistic: float, n_reference: int, n_current: int) -> KSPValue:
    """Two-sided p-value of a KS statistic for samples of the given sizes, as SciPy computes it."""
    for name, size in (("n_reference", n_reference), ("n_current", n_current)):
        if isinstance(size, bool) or not isinstance(size, int | np.integer) or size < 1:
            raise ValueError(f"{name} must be a positive integer, got {size!r}")
    d = float(statistic)
    if not 0.0 <= d <= 1.0:
        raise ValueError(f"statistic must be in [0, 1], got {statistic!r}")
    n1, n2 = int(n_reference), int(n_current)
    if max(n1, n2) <= MAX_EXACT_SIZE:
        success, d, prob = _exact(n1, n2, d)
        if success:
            return KSPValue(d, float(np.clip(prob, 0.0, 1.0)), "exact")
        # Like SciPy, keep the lattice-rounded statistic when falling back to the asymptotics.
    m, n = sorted([float(n1), float(n2)], reverse=True)
    en = m * n / (m + n)
    prob = float(stats.kstwo.sf(d, np.round(en)))
    return KSPValue(d, float(np.clip(prob, 0.0, 1.0)), "asymp")
