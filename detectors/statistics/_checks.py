"""Argument checks shared by the statistics modules, so every entry point fails the same way.

Every public function converts its inputs here before doing any arithmetic: a wrong shape, an
empty sample or a NaN raises a ``ValueError`` naming the argument instead of surfacing later
as a NaN statistic or a NumPy warning deep inside a loop.

>>> as_sample([3, 1, 2], "current")
array([3., 1., 2.])
>>> as_sample([1.0, float("nan")], "current")
Traceback (most recent call last):
...
ValueError: current contains NaN or infinite values; drop missing values before testing
>>> as_counts([4, 0, 2], "reference_counts")
array([4, 0, 2])
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

__all__ = [
    "FloatArray",
    "IntArray",
    "all_finite",
    "as_counts",
    "as_sample",
    "check_epsilon",
    "check_n_bins",
    "check_sorted",
]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]


def as_sample(values: npt.ArrayLike, name: str) -> FloatArray:
    """Return ``values`` as a non-empty, finite, one-dimensional float64 array."""
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must contain numbers: {exc}") from None
    if array.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {array.shape}")
    if array.size == 0:
        raise ValueError(f"{name} must contain at least one value")
    # Missing values are a data-quality finding, not a distribution: the caller drops and
    # counts them, so a NaN reaching a test is a bug worth failing loudly on.
    if not all_finite(array):
        raise ValueError(
            f"{name} contains NaN or infinite values; drop missing values before testing"
        )
    return array


def all_finite(array: FloatArray) -> bool:
    """Whether every value is finite, usually without an elementwise test.

    A sum is finite only if every term is, and summing allocates nothing, unlike
    ``np.isfinite(array)``; only a sum that overflows (or a real NaN) needs the full test.
    """
    with np.errstate(over="ignore", invalid="ignore"):
        if math.isfinite(float(array.sum())):
            return True
    return bool(np.isfinite(array).all())


def check_sorted(values: FloatArray, name: str) -> None:
    """Raise unless ``values`` is in ascending order (an O(n) check, far cheaper than a sort)."""
    if values.size > 1 and not bool(np.all(values[1:] >= values[:-1])):
        raise ValueError(f"{name} is declared sorted but is not in ascending order")


def as_counts(values: npt.ArrayLike, name: str) -> IntArray:
    """Return ``values`` as a non-empty one-dimensional array of non-negative integer counts."""
    array = np.asarray(values)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty one-dimensional sequence of counts")
    # Accept floats that hold whole numbers (pandas often yields them), nothing else.
    whole = array.dtype.kind in "iu" or (
        array.dtype.kind == "f" and bool(np.all(np.isfinite(array) & (array == np.round(array))))
    )
    if not whole:
        raise ValueError(f"{name} must hold whole-number counts, got {array.dtype}")
    counts = array.astype(np.int64)
    if np.any(counts < 0):
        raise ValueError(f"{name} must not contain negative counts")
    return counts


def check_epsilon(epsilon: float) -> float:
    """Return ``epsilon`` as a float after checking it is a small positive number."""
    value = float(epsilon)
    if not math.isfinite(value) or not 0.0 < value < 0.1:
        raise ValueError(f"epsilon must be in (0, 0.1), got {epsilon!r}")
    return value


def check_n_bins(n_bins: int) -> int:
    """Return ``n_bins`` after checking it is a positive integer (bool is not accepted)."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be a positive integer, got {n_bins!r}")
    return n_bins
