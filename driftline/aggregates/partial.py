"""One bucket's aggregate (or the sum of many): counts that add, extremes that merge.

Every part is mergeable, so the sum of the rows of a window is the window's aggregate whatever
order, batching or compaction produced the rows:

* ``counts``: events per bin of every slot, laid out by ``Layout`` offsets;
* ``positions``: per numeric bin of positive width ``(a, b]``, the sum of ``(b - v) / (b - a)``
  over its values ``v``: with the count, where the values sit inside the bin on average, which
  makes the integral of the CDF over the bin exact (Wasserstein, ``detectors.binned``);
* ``missing`` and ``violations`` per slot (violations: values of the wrong type, stored as
  missing at ingest);
* ``stats`` per numeric slot: min, max, sum, sum of squares, and the sums of the values below
  the reference minimum and above its maximum (the outer bins);
* ``unseen``: per categorical slot, counts of categories the reference never had, capped to
  the ``TOP_K`` most frequent when merged (their total is exact in the unseen bin);
* ``performance``: sums over labelled events (``driftline.aggregates.labelled``).

The stored form is zlib-compressed: a JSON header, then the arrays' raw bytes (counts as 32-bit
integers while they fit, each bin's mean position in 1/65535 steps).

>>> a = Partial.empty(3, 1); a.counts[:] = [1, 2, 0]; a.n_events = 3
>>> b = Partial.decode(a.encode()); b.merge(a); b.counts.tolist(), b.n_events
([2, 4, 0], 6)
"""

from __future__ import annotations

import struct
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import orjson

from driftline.aggregates.labelled import merge_performance
from driftline.aggregates.layout import FloatArray, IntArray

__all__ = [
    "ABOVE_SUM",
    "BELOW_SUM",
    "MAX",
    "MIN",
    "POSITION_STEPS",
    "SUM",
    "SUMSQ",
    "TOP_K",
    "Partial",
    "cap",
]

MIN, MAX, SUM, SUMSQ, BELOW_SUM, ABOVE_SUM = range(6)
# Enough unseen categories to name what appeared; the unseen bin's total is exact regardless.
TOP_K = 20
_HEADER = struct.Struct("<I")
# A bin's positions are stored as their mean in 1 / 65535 steps: 2 bytes instead of 8, and an
# error of at most half a step of the bin's count per rounding (detectors.binned bounds it).
POSITION_STEPS = 65535


def _quantised(positions: FloatArray, counts: IntArray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = np.where(counts > 0, positions / counts, 0.0)
    steps: np.ndarray = np.rint(np.clip(mean, 0.0, 1.0) * POSITION_STEPS).astype("<u2")
    return steps


def _empty_stats(n_numeric: int) -> FloatArray:
    stats = np.zeros((n_numeric, 6), dtype=np.float64)
    stats[:, MIN], stats[:, MAX] = np.inf, -np.inf
    return stats


def cap(counter: dict[str, int], k: int = TOP_K) -> dict[str, int]:
    """The ``k`` most frequent entries (ties broken by name, so merging is deterministic)."""
    if len(counter) <= k:
        return counter
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))[:k])


@dataclass
class Partial:
    n_events: int
    counts: IntArray
    positions: FloatArray
    missing: IntArray
    violations: IntArray
    stats: FloatArray
    unseen: dict[int, dict[str, int]] = field(default_factory=dict)
    performance: dict[str, Any] | None = None

    @classmethod
    def empty(cls, total_bins: int, n_slots: int, n_numeric: int = 0) -> Partial:
        return cls(
            n_events=0,
            counts=np.zeros(total_bins, dtype=np.int64),
            positions=np.zeros(total_bins, dtype=np.float64),
            missing=np.zeros(n_slots, dtype=np.int64),
            violations=np.zeros(n_slots, dtype=np.int64),
            stats=_empty_stats(n_numeric),
        )

    def merge(self, other: Partial) -> None:
        """Add ``other`` into this one."""
        self.n_events += other.n_events
        self.counts += other.counts
        self.positions += other.positions
        self.missing += other.missing
        self.violations += other.violations
        if other.stats.size:
            np.minimum(self.stats[:, MIN], other.stats[:, MIN], out=self.stats[:, MIN])
            np.maximum(self.stats[:, MAX], other.stats[:, MAX], out=self.stats[:, MAX])
            self.stats[:, SUM:] += other.stats[:, SUM:]
        for slot, values in other.unseen.items():
            mine = Counter(self.unseen.get(slot, {}))
            mine.update(values)
            self.unseen[slot] = cap(dict(mine))
        if other.performance is not None:
            self.performance = merge_performance(self.performance, other.performance)

    def encode(self) -> bytes:
        wide = bool(self.counts.size) and int(self.counts.max()) > np.iinfo(np.int32).max
        header = orjson.dumps(
            {
                "n": self.n_events,
                "shape": [self.counts.size, self.missing.size, self.stats.shape[0]],
                "wide": wide,
                "unseen": {str(k): v for k, v in self.unseen.items()},
                "performance": self.performance,
            }
        )
        body = b"".join(
            (
                _HEADER.pack(len(header)),
                header,
                self.counts.astype("<i8" if wide else "<i4").tobytes(),
                _quantised(self.positions, self.counts).tobytes(),
                self.missing.astype("<i8").tobytes(),
                self.violations.astype("<i8").tobytes(),
                self.stats.astype("<f8").tobytes(),
            )
        )
        # Level 1: counts compress well (most fine bins of a small batch are 0) and the ingest
        # path pays for it on every write.
        return zlib.compress(body, 1)

    @classmethod
    def decode(cls, data: bytes) -> Partial:
        body = zlib.decompress(data)
        (length,) = _HEADER.unpack_from(body)
        header = orjson.loads(body[_HEADER.size : _HEADER.size + length])
        bins, slots, numeric = header["shape"]
        at = _HEADER.size + length

        def take(dtype: str, n: int) -> Any:
            nonlocal at
            array = np.frombuffer(body, dtype=dtype, count=n, offset=at)
            at += array.nbytes
            return array

        counts = take("<i8" if header["wide"] else "<i4", bins).astype(np.int64)
        positions = take("<u2", bins) * (counts / POSITION_STEPS)
        missing, violations = take("<i8", slots), take("<i8", slots)
        stats = take("<f8", numeric * 6).reshape(numeric, 6)
        return cls(
            n_events=int(header["n"]),
            counts=counts,
            positions=positions.astype(np.float64),
            missing=missing.astype(np.int64),
            violations=violations.astype(np.int64),
            stats=stats.astype(np.float64),
            unseen={int(k): v for k, v in header["unseen"].items()},
            performance=header["performance"],
        )
