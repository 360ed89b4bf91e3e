"""Reference profile of a categorical or boolean feature: category counts plus an unseen bucket.

The bins are the reference categories followed by one "unseen" bucket for every value the
reference never had, so a new category shows up in PSI, Jensen-Shannon, Hellinger and the
chi-square test, and its share is reported on its own for data-quality checks. Categories are
sorted when they can be (stable output across runs), otherwise kept in first-seen order.

>>> profile = CategoricalReference(["a"] * 50 + ["b"] * 30 + ["c"] * 20)
>>> profile.categories, profile.reference_counts.tolist()
(('a', 'b', 'c'), [50, 30, 20])
>>> drift = profile.compare(["a"] * 40 + ["b"] * 30 + ["c"] * 20 + ["d"] * 10)
>>> drift.counts, drift.unseen_share, drift.unseen_examples
((40, 30, 20, 10), 0.1, ('d',))
>>> round(drift.chi_square.pvalue, 4), round(drift.psi, 4)
(0.0111, 0.7129)
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Hashable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

import numpy as np

from detectors.statistics import divergence
from detectors.statistics._checks import IntArray, check_epsilon
from detectors.statistics.contingency import ChiSquareResult, chi_square_test
from detectors.statistics.proportions import ZTestResult, two_proportion_ztest

__all__ = ["MAX_UNSEEN_EXAMPLES", "CategoricalDrift", "CategoricalReference", "count_values"]

_Category = TypeVar("_Category", bound=Hashable)

# Enough unseen values to recognise a new label or a typo without copying a whole window.
MAX_UNSEEN_EXAMPLES = 10


def count_values(values: Iterable[Hashable], name: str = "values") -> Counter[Hashable]:
    """Count each distinct value; NumPy arrays and pandas Series take a vectorised path.

    >>> count_values(["x", "y", "x"])
    Counter({'x': 2, 'y': 1})
    """
    data: Any = values.to_numpy() if hasattr(values, "to_numpy") else values
    if isinstance(data, np.ndarray) and data.dtype.kind in "biufUS":
        if data.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {data.shape}")
        # np.unique sorts once in C; .tolist() turns NumPy scalars into plain Python keys.
        keys, counts = np.unique(data, return_counts=True)
        counter: Counter[Hashable] = Counter(dict(zip(keys.tolist(), counts.tolist(), strict=True)))
    else:
        counter = Counter(data.tolist() if isinstance(data, np.ndarray) else data)
    for key in counter:
        if key is None or (isinstance(key, float) and math.isnan(key)):
            raise ValueError(f"{name} contains missing values; drop them before testing")
    return counter


@dataclass(frozen=True, slots=True)
class CategoricalDrift:
    """Every categorical drift measure for one current window against one reference profile."""

    chi_square: ChiSquareResult
    ztest: ZTestResult | None  # only for a two-category reference, see CategoricalReference
    psi: float
    jensen_shannon: float  # base 2
    hellinger: float
    counts: tuple[int, ...]  # current count per reference category, then the unseen bucket
    unseen_count: int
    unseen_share: float
    unseen_examples: tuple[Hashable, ...]  # most frequent unseen values first
    current_size: int


class CategoricalReference:
    """Category counts of the reference; ``epsilon`` is the PSI smoothing constant."""

    __slots__ = ("_categories", "_counts", "_epsilon", "_index")

    def __init__(
        self, reference: Iterable[Hashable], *, epsilon: float = divergence.DEFAULT_EPSILON
    ) -> None:
        self._epsilon = check_epsilon(epsilon)
        counter = count_values(reference, "reference")
        if not counter:
            raise ValueError("reference must contain at least one value")
        try:
            categories = sorted(counter)  # type: ignore[type-var]
        except TypeError:  # mixed types such as str and int: keep first-seen order
            categories = list(counter)
        self._categories: tuple[Hashable, ...] = tuple(categories)
        self._index = {category: i for i, category in enumerate(categories)}
        self._counts: IntArray = np.array([counter[c] for c in categories], dtype=np.int64)
        self._counts.setflags(write=False)

    @classmethod
    def from_counts(
        cls, counts: Mapping[_Category, int], *, epsilon: float = divergence.DEFAULT_EPSILON
    ) -> CategoricalReference:
        """A profile from stored category counts, without expanding them into values.

        >>> CategoricalReference.from_counts({"b": 1, "a": 3}).frequencies()
        {'a': 0.75, 'b': 0.25}
        """
        if not counts or any(n <= 0 for n in counts.values()):
            raise ValueError("counts must be a non-empty mapping of category to positive count")
        profile = cls.__new__(cls)
        profile._epsilon = check_epsilon(epsilon)
        try:
            categories = sorted(counts)  # type: ignore[type-var]
        except TypeError:
            categories = list(counts)
        profile._categories = tuple(categories)
        profile._index = {category: i for i, category in enumerate(categories)}
        profile._counts = np.array([counts[c] for c in categories], dtype=np.int64)
        profile._counts.setflags(write=False)
        return profile

    @property
    def categories(self) -> tuple[Hashable, ...]:
        """Reference categories, in the order used by every count vector."""
        return self._categories

    @property
    def reference_counts(self) -> IntArray:
        """Reference count per category (read-only); the unseen bucket is 0 by definition."""
        return self._counts

    def frequencies(self) -> dict[Hashable, float]:
        """Share of each reference category."""
        total = float(self._counts.sum())
        return {c: int(n) / total for c, n in zip(self._categories, self._counts, strict=True)}

    def current_counts(self, current: Iterable[Hashable]) -> tuple[IntArray, Counter[Hashable]]:
        """Counts per reference category then unseen bucket, and the unseen values' counter."""
        counts = np.zeros(len(self._categories) + 1, dtype=np.int64)
        unseen: Counter[Hashable] = Counter()
        for value, count in count_values(current, "current").items():
            position = self._index.get(value)
            if position is None:
                unseen[value] = count
            else:
                counts[position] = count
        counts[-1] = sum(unseen.values())
        if counts.sum() == 0:
            raise ValueError("current must contain at least one value")
        return counts, unseen

    def _ztest(self, counts: IntArray) -> ZTestResult | None:
        # A binary feature: "success" is the second category in sorted order (True for booleans,
        # 1 for 0/1); unseen values are excluded here and reported through unseen_share.
        known = int(counts[:2].sum())
        if len(self._categories) != 2 or known == 0:
            return None
        reference = (int(self._counts[1]), int(self._counts.sum()))
        return two_proportion_ztest(*reference, int(counts[1]), known)

    def compare(self, current: Iterable[Hashable]) -> CategoricalDrift:
        """All measures for one window; the reference side always has a 0 in the unseen bucket."""
        counts, unseen = self.current_counts(current)
        reference = np.append(self._counts, 0)
        total = int(counts.sum())
        return CategoricalDrift(
            chi_square=chi_square_test(reference, counts),
            ztest=self._ztest(counts),
            psi=divergence.psi(reference, counts, epsilon=self._epsilon),
            jensen_shannon=divergence.jensen_shannon(reference, counts),
            hellinger=divergence.hellinger(reference, counts),
            counts=tuple(int(count) for count in counts),
            unseen_count=int(counts[-1]),
            unseen_share=int(counts[-1]) / total,
            unseen_examples=tuple(v for v, _ in unseen.most_common(MAX_UNSEEN_EXAMPLES)),
            current_size=total,
        )
