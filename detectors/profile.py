"""Reference profiles: computed once when a reference is uploaded, reused by every run.

A profile holds, per feature, what the statistics need (sorted values and quantile bins for
numeric features, category counts otherwise) plus the reference's missing rate and range. It is
stored as one blob next to the reference (``profile_codec``; older ``.npz`` blobs still load).
"""

from __future__ import annotations

import io
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from detectors.parallel import map_features
from detectors.profile_codec import decode, encode, is_encoded
from detectors.shared_objects import distinct_objects
from detectors.statistics import CategoricalReference, NumericReference, all_finite

__all__ = ["FeatureProfile", "ModelProfile", "build_profile", "category_label", "label_counts"]

NUMERIC, CATEGORICAL, BOOLEAN = "numeric", "categorical", "boolean"


@dataclass(frozen=True)
class FeatureProfile:
    name: str
    kind: str  # numeric | categorical | boolean
    size: int  # non-missing reference values
    missing_rate: float
    numeric: NumericReference | None = None
    categorical: CategoricalReference | None = None

    @property
    def minimum(self) -> float | None:
        return float(self.numeric.sorted_values[0]) if self.numeric is not None else None

    @property
    def maximum(self) -> float | None:
        return float(self.numeric.sorted_values[-1]) if self.numeric is not None else None


def category_label(value: Any) -> str:
    """How a categorical or boolean value is compared: its text, booleans as true/false."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def _labels_differ_within_values(objects: np.ndarray, codes: np.ndarray) -> bool:
    """Whether objects pandas counts as one value (``True`` and ``1``) have different labels.

    pandas labels such a group like its first element; over the whole array that is the first
    in the array, over distinct objects the lowest address, so such columns (rare) are counted
    element by element to keep the label they always had.
    """
    seen: dict[int, str] = {}
    for value, code in zip(objects.tolist(), codes.tolist(), strict=True):
        if code >= 0 and seen.setdefault(code, category_label(value)) != category_label(value):
            return True
    return False


def label_counts(values: Sequence[Any] | np.ndarray) -> tuple[dict[str, int], int]:
    """Count per category label, and the number of missing values (``None``, NaN).

    One pass of pandas' hash table over the values (in C; over the distinct objects only when
    the values share a few, see ``shared_objects``), then ``category_label`` once per distinct
    value: values that share a label (``1`` and ``"1"``) are counted together.
    """
    array = values if isinstance(values, np.ndarray) else np.fromiter(values, object, len(values))
    distinct, weights = distinct_objects(array)
    codes, uniques = pd.factorize(distinct, use_na_sentinel=True)
    if weights is not None and _labels_differ_within_values(distinct, codes):
        distinct, weights = array, None
        codes, uniques = pd.factorize(array, use_na_sentinel=True)
    # slot 0: the missing ones; weights are whole counts, exact in float64 below 2**53
    tallies = np.bincount(codes + 1, weights, minlength=len(uniques) + 1).astype(np.int64)
    counts: dict[str, int] = {}
    for value, n in zip(uniques.tolist(), tallies[1:].tolist(), strict=True):
        label = category_label(value)
        counts[label] = counts.get(label, 0) + n
    return counts, int(tallies[0])


def _feature(name: str, kind: str, column: pd.Series, n_bins: int) -> FeatureProfile | None:
    rows = len(column)
    if kind == NUMERIC:
        # na_value=NaN converts nullable integer columns too; a float column is not copied.
        values = column.to_numpy(dtype=np.float64, na_value=np.nan)
        size = present = rows
        if not all_finite(values):  # NaN is missing; infinity is present but not comparable
            finite = np.isfinite(values)
            size = int(np.count_nonzero(finite))
            present = rows - int(np.count_nonzero(np.isnan(values)))
            values = values[finite]
        if not size:
            return None  # an all-missing reference column cannot be compared with
        numeric = NumericReference(values, n_bins=n_bins)
        return FeatureProfile(name, kind, size, 1.0 - present / rows, numeric=numeric)
    counts, n_missing = label_counts(column.to_numpy())
    if not counts:
        return None
    categorical = CategoricalReference.from_counts(counts)
    size = rows - n_missing
    return FeatureProfile(name, kind, size, 1.0 - size / rows, categorical=categorical)


@dataclass
class ModelProfile:
    """Per-feature profiles (and the prediction's, when the reference has it)."""

    features: dict[str, FeatureProfile]
    prediction: FeatureProfile | None
    n_bins: int

    def to_bytes(self) -> bytes:
        """The stored form (see ``profile_codec``); sorted numeric columns packed."""
        columns: list[np.ndarray] = []
        meta: dict[str, Any] = {"n_bins": self.n_bins, "features": [], "prediction": None}
        for key, profile in [
            *(("f", p) for p in self.features.values()),
            *([("p", self.prediction)] if self.prediction else []),
        ]:
            entry: dict[str, Any] = {
                "name": profile.name,
                "kind": profile.kind,
                "missing_rate": profile.missing_rate,
            }
            if profile.numeric is not None:
                entry["column"] = len(columns)
                entry["std"] = profile.numeric.std  # a JSON float reads back as the same float
                columns.append(profile.numeric.sorted_values)
            elif profile.categorical is not None:
                entry["counts"] = {
                    str(c): int(n)
                    for c, n in zip(
                        profile.categorical.categories,
                        profile.categorical.reference_counts,
                        strict=True,
                    )
                }
            if key == "f":
                meta["features"].append(entry)
            else:
                meta["prediction"] = entry
        return encode(meta, columns)

    @classmethod
    def from_bytes(cls, data: bytes) -> ModelProfile:
        if not is_encoded(data):
            return cls._from_npz(data)
        meta, columns = decode(data)
        n_bins = int(meta["n_bins"])

        def load(entry: dict[str, Any]) -> FeatureProfile:
            name, kind, missing = entry["name"], entry["kind"], entry["missing_rate"]
            if "counts" in entry:
                ref = CategoricalReference.from_counts(entry["counts"])
                size = int(sum(entry["counts"].values()))
                return FeatureProfile(name, kind, size, missing, categorical=ref)
            values = columns[entry["column"]]  # decoded for this profile alone: taken over
            numeric = NumericReference.from_sorted(values, n_bins=n_bins, std=entry["std"])
            return FeatureProfile(name, kind, values.size, missing, numeric=numeric)

        features = {e["name"]: load(e) for e in meta["features"]}
        prediction = load(meta["prediction"]) if meta["prediction"] else None
        return cls(features, prediction, n_bins)

    @classmethod
    def _from_npz(cls, data: bytes) -> ModelProfile:
        """A profile stored before ``profile_codec``: an ``.npz`` archive, zlib-compressed."""
        with np.load(io.BytesIO(data), allow_pickle=False) as stored:
            meta = json.loads(stored["__meta__"].tobytes())
            n_bins = int(meta["n_bins"])

            def load(key: str, entry: dict[str, Any]) -> FeatureProfile:
                name, kind = entry["name"], entry["kind"]
                if "counts" in entry:
                    ref = CategoricalReference.from_counts(entry["counts"])
                    size = int(sum(entry["counts"].values()))
                    return FeatureProfile(name, kind, size, entry["missing_rate"], categorical=ref)
                values = stored[f"{key}:{name}"]
                numeric = NumericReference.from_sorted(values, n_bins=n_bins)
                return FeatureProfile(
                    name, kind, values.size, entry["missing_rate"], numeric=numeric
                )

            features = {e["name"]: load("f", e) for e in meta["features"]}
            prediction = load("p", meta["prediction"]) if meta["prediction"] else None
        return cls(features, prediction, n_bins)


def build_profile(
    frame: pd.DataFrame,
    feature_kinds: Mapping[str, str],
    prediction_kind: str | None,
    n_bins: int = 10,
) -> ModelProfile:
    """Profile a checked reference frame (see ``driftline.registry.reference_parse``)."""
    # Columns are taken from the frame here, in one thread; the threads only read them.
    columns = [(name, kind, frame[name]) for name, kind in feature_kinds.items() if name in frame]

    def profile(item: tuple[str, str, pd.Series]) -> FeatureProfile | None:
        return _feature(*item, n_bins)

    items = [(item, item[1] == NUMERIC) for item in columns]
    built = map_features(profile, items, values=len(frame) * len(items))
    features = {p.name: p for p in built if p is not None}
    prediction = None
    if prediction_kind is not None and "prediction" in frame.columns:
        prediction = _feature("prediction", prediction_kind, frame["prediction"], n_bins)
    return ModelProfile(features, prediction, n_bins)
