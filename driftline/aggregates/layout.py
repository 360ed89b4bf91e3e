"""The bins of a version's aggregates, fixed by its reference (one layout per reference).

Numeric features get about ``FINE_BINS`` fine bins whose edges are the reference's quantiles
(``inverted_cdf``, so every edge is an observed value), plus three more edges:

* every PSI edge of the reference profile, so the PSI / Jensen-Shannon / Hellinger / chi-square
  bins are unions of fine bins and those statistics come out exactly;
* the value just below the reference minimum and the reference maximum itself, so the two open
  outer bins hold exactly the values outside the reference's range (the out-of-range share is
  exact, and Wasserstein's tails are computed exactly from their sums).

Bins are right-closed, ``(e[i-1], e[i]]``, as in ``detectors.statistics.binning``. Categorical
and boolean features get one bin per reference category plus one "unseen" bin. The layout also
keeps what a run needs from the reference (counts per bin, size, missing rate, standard
deviation, range), so the aggregate path never loads the reference's raw values.

>>> slot = numeric_slot("x", np.arange(1.0, 21.0), np.array([5.0, 10.0, 15.0]), 0.0, 0, 8)
>>> slot.edges.tolist()
[0.9999999999999999, 2.0, 3.0, 5.0, 8.0, 10.0, 13.0, 15.0, 18.0, 19.0, 20.0]
>>> slot.ref_counts.tolist(), slot.coarse.tolist()
([0, 2, 1, 2, 3, 2, 3, 2, 3, 1, 1, 0], [3, 5, 7])
>>> spike = numeric_slot("y", np.array([0.0, 0.0, 0.0, 1.0, 2.0, 3.0]), np.array([0.0]), 0, 0, 2)
>>> spike.edges.tolist(), spike.atoms.tolist(), spike.ref_counts.tolist()
([-5e-324, 0.0, 2.0, 3.0], [False, True, False, False], [0, 0, 3, 2, 1, 0])
"""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = ["FINE_BINS", "Layout", "Slot", "categorical_slot", "numeric_slot"]

FloatArray = npt.NDArray[np.float64]
IntArray = npt.NDArray[np.int64]

# 200 fine bins: each holds about 0.5% of the reference, which bounds the KS error on the
# reference side, and 10 (the default PSI bins) divides it, so the deciles are fine edges anyway.
FINE_BINS = 200
NUMERIC = "numeric"


@dataclass(frozen=True, eq=False)
class Slot:
    """One feature (or the prediction) in the layout; its bins are ``counts[offset:offset+n]``."""

    name: str
    kind: str  # numeric | categorical | boolean
    offset: int
    size: int  # non-missing reference values
    missing_rate: float
    ref_counts: IntArray  # reference values per bin (the unseen bin is 0)
    edges: FloatArray | None = None  # numeric: interior edges, ascending
    atoms: npt.NDArray[np.bool_] | None = None  # numeric: edges with a bin of their own
    coarse: IntArray | None = None  # numeric: positions in ``edges`` of the PSI bin edges
    shape: FloatArray | None = None  # numeric: mean within-bin reference CDF position, 0..1
    std: float = 0.0
    minimum: float = 0.0
    maximum: float = 0.0
    categories: tuple[str, ...] = ()

    @property
    def n_bins(self) -> int:
        return int(self.ref_counts.size)

    @property
    def is_numeric(self) -> bool:
        return self.edges is not None

    @cached_property
    def open_bin(self) -> IntArray:
        """Numeric: the bin of values in ``(e[i-1], e[i])`` (``(e[i-1], e[i]]`` when ``e[i]``
        is no atom), for i = 0 .. len(edges); the atom bin ``[e[i]]`` is the next one."""
        assert self.atoms is not None
        before = np.concatenate(([0], np.cumsum(self.atoms)))
        return (np.arange(before.size) + before).astype(np.int64)

    @cached_property
    def end_bin(self) -> IntArray:
        """Numeric: the last bin ending at each edge (its atom bin if it has one)."""
        assert self.atoms is not None
        return self.open_bin[:-1] + self.atoms

    @cached_property
    def cuts(self) -> FloatArray:
        """Numeric: where each bin ends (the last is open to +inf); atom bins have width 0."""
        assert self.edges is not None and self.atoms is not None
        return np.repeat(self.edges, 1 + self.atoms.astype(np.intp))

    @cached_property
    def category_index(self) -> dict[str, int]:
        """Categorical: the bin of each reference category."""
        return {category: k for k, category in enumerate(self.categories)}

    @cached_property
    def _has_atoms(self) -> bool:
        return self.atoms is not None and bool(self.atoms.any())

    @cached_property
    def widths(self) -> FloatArray:
        """Numeric: each bin's width; 0 for atom bins and the two unbounded outer bins."""
        return np.concatenate(([0.0], np.diff(self.cuts), [0.0]))

    @cached_property
    def right_ends(self) -> FloatArray:
        """Numeric: where each bin ends (the last bin's is +inf)."""
        return np.append(self.cuts, np.inf)

    def bins_of(self, values: FloatArray) -> IntArray:
        """Numeric: the bin of each (finite) value."""
        assert self.edges is not None and self.atoms is not None
        index = np.searchsorted(self.edges, values, side="left")
        if not self._has_atoms:
            return index  # then the bins are exactly the right-closed intervals between edges
        top = self.edges.size - 1
        at = self.atoms[np.minimum(index, top)] & (index <= top)
        at &= values == self.edges[np.minimum(index, top)]
        return self.open_bin[index] + at


def _fine_quantiles(sorted_values: FloatArray, n_fine: int) -> FloatArray:
    """Quantiles at i / n_fine, and in the tails at halving probabilities (1 / 2 n_fine,
    1 / 4 n_fine, ... down to one value): tail bins of a long-tailed reference are wide, and
    the Wasserstein bound grows with width times share."""
    n = sorted_values.size
    tail = 1.0 / n_fine / 2.0 ** np.arange(1, 64)
    tail = tail[tail * n >= 1]
    probabilities = np.concatenate((tail, np.arange(1, n_fine) / n_fine, 1 - tail))
    # NumPy's inverted_cdf positions, as detectors.statistics.binning.sorted_quantile_edges.
    positions = np.clip(np.ceil(n * probabilities - 1), 0, n - 1).astype(np.intp)
    picked: FloatArray = sorted_values[positions]
    return picked


def numeric_slot(
    name: str,
    sorted_values: FloatArray,
    coarse_edges: FloatArray,
    missing_rate: float,
    offset: int,
    n_fine: int = FINE_BINS,
) -> Slot:
    """A numeric slot from the sorted, finite reference values and the profile's PSI edges."""
    lowest, highest = float(sorted_values[0]), float(sorted_values[-1])
    candidates = np.concatenate(
        (_fine_quantiles(sorted_values, n_fine), coarse_edges, [np.nextafter(lowest, -np.inf)])
    )
    edges = np.unique(candidates[candidates < highest])
    edges = np.append(edges, highest)
    # An edge the reference holds more than once (a discrete value, a spike such as 0) gets a
    # bin of its own: then KS and Wasserstein are exact for windows taking those values.
    at_or_below = np.searchsorted(sorted_values, edges, side="right")
    below = np.searchsorted(sorted_values, edges, side="left")
    atoms = (at_or_below - below) >= 2
    coarse = np.searchsorted(edges, coarse_edges).astype(np.int64)
    if not np.array_equal(edges[coarse], coarse_edges):
        raise ValueError(f"{name}: the PSI edges must be fine edges")
    slot = Slot(name, NUMERIC, offset, 0, 0.0, np.zeros(0, np.int64), edges, atoms)
    index = slot.bins_of(sorted_values)
    n_bins = int(slot.open_bin[-1]) + 1
    counts = np.bincount(index, minlength=n_bins).astype(np.int64)
    # Mean position of the reference values inside each bin of positive width, (b - v) / w:
    # the reference's within-bin shape, which Wasserstein integrates (detectors.binned).
    widths = slot.widths
    upper = slot.right_ends[index]
    with np.errstate(divide="ignore", invalid="ignore"):
        gaps = np.bincount(
            index, weights=np.where(widths[index] > 0, upper - sorted_values, 0.0), minlength=n_bins
        )
        shape = np.where((counts > 0) & (widths > 0), gaps / (counts * widths), 0.0)
    shape[0] = shape[-1] = 0.0
    return Slot(
        name=name,
        kind=NUMERIC,
        offset=offset,
        size=int(sorted_values.size),
        missing_rate=float(missing_rate),
        ref_counts=counts,
        edges=edges,
        atoms=atoms,
        coarse=coarse,
        shape=np.clip(shape, 0.0, 1.0),
        std=float(np.std(sorted_values)),
        minimum=lowest,
        maximum=highest,
    )


def categorical_slot(
    name: str,
    kind: str,
    categories: Sequence[str],
    counts: Sequence[int],
    missing_rate: float,
    offset: int,
) -> Slot:
    """A categorical or boolean slot: the reference categories, then the unseen bin."""
    ref = np.append(np.asarray(counts, dtype=np.int64), 0)
    return Slot(
        name=name,
        kind=kind,
        offset=offset,
        size=int(ref.sum()),
        missing_rate=float(missing_rate),
        ref_counts=ref,
        categories=tuple(str(c) for c in categories),
    )


@dataclass(frozen=True, eq=False)
class Layout:
    """Every slot of one reference's aggregates: the features, then the prediction if any."""

    reference_id: int
    bucket_seconds: int
    n_bins: int  # the PSI bins (MonitorConfig.n_bins) whose edges ``Slot.coarse`` points at
    slots: tuple[Slot, ...]
    has_prediction: bool
    numeric_rows: tuple[int, ...] = field(init=False)  # slot -> row of the numeric stats

    def __post_init__(self) -> None:
        rows, next_row = [], 0
        for slot in self.slots:
            rows.append(next_row if slot.is_numeric else -1)
            next_row += slot.is_numeric
        object.__setattr__(self, "numeric_rows", tuple(rows))

    @property
    def features(self) -> tuple[Slot, ...]:
        return self.slots[:-1] if self.has_prediction else self.slots

    @property
    def prediction(self) -> Slot | None:
        return self.slots[-1] if self.has_prediction else None

    @property
    def total_bins(self) -> int:
        return sum(slot.n_bins for slot in self.slots)

    @property
    def n_numeric(self) -> int:
        return sum(slot.is_numeric for slot in self.slots)

    def to_bytes(self) -> bytes:
        arrays: dict[str, Any] = {}
        meta: dict[str, Any] = {
            "reference_id": self.reference_id,
            "bucket_seconds": self.bucket_seconds,
            "n_bins": self.n_bins,
            "has_prediction": self.has_prediction,
            "slots": [],
        }
        for i, slot in enumerate(self.slots):
            meta["slots"].append(
                {
                    "name": slot.name,
                    "kind": slot.kind,
                    "offset": slot.offset,
                    "size": slot.size,
                    "missing_rate": slot.missing_rate,
                    "std": slot.std,
                    "minimum": slot.minimum,
                    "maximum": slot.maximum,
                    "categories": list(slot.categories),
                }
            )
            arrays[f"counts{i}"] = slot.ref_counts
            if slot.is_numeric:
                arrays[f"edges{i}"], arrays[f"coarse{i}"] = slot.edges, slot.coarse
                arrays[f"atoms{i}"] = slot.atoms
                arrays[f"shape{i}"] = slot.shape
        buffer = io.BytesIO()
        meta_bytes = np.frombuffer(json.dumps(meta).encode(), np.uint8)
        np.savez_compressed(buffer, __meta__=meta_bytes, **arrays)
        return buffer.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> Layout:
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            meta = json.loads(stored["__meta__"].tobytes())
            slots = []
            for i, entry in enumerate(meta["slots"]):
                numeric = f"edges{i}" in stored
                slots.append(
                    Slot(
                        name=entry["name"],
                        kind=entry["kind"],
                        offset=int(entry["offset"]),
                        size=int(entry["size"]),
                        missing_rate=float(entry["missing_rate"]),
                        ref_counts=stored[f"counts{i}"].astype(np.int64),
                        edges=stored[f"edges{i}"] if numeric else None,
                        atoms=stored[f"atoms{i}"] if numeric else None,
                        coarse=stored[f"coarse{i}"] if numeric else None,
                        shape=stored[f"shape{i}"] if numeric else None,
                        std=float(entry["std"]),
                        minimum=float(entry["minimum"]),
                        maximum=float(entry["maximum"]),
                        categories=tuple(entry["categories"]),
                    )
                )
        return cls(
            reference_id=int(meta["reference_id"]),
            bucket_seconds=int(meta["bucket_seconds"]),
            n_bins=int(meta["n_bins"]),
            slots=tuple(slots),
            has_prediction=bool(meta["has_prediction"]),
        )
