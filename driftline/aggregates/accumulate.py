"""Newly stored events as partial aggregates: one ``Partial`` per (version, time bucket).

The work per batch is columnar: numeric values of every event go into one float matrix, then
each numeric slot is one binary search per value and one ``bincount``; categorical values are
counted per distinct value (``Counter`` loops in C) and only the distinct values are mapped to
bins. Values are read the way the raw path reads them (``detectors.window`` and
``detectors.drift``), so both paths count the same events in the same bins.

>>> from driftline.aggregates.layout import categorical_slot
>>> layout = Layout(1, 60, 10, (categorical_slot("c", "categorical", ["a", "b"], [5, 5], 0, 0),),
...                 False)
>>> p = accumulate(layout, [Fresh(1, EPOCH, {"c": v}, None, None) for v in ["a", "z", None]])
>>> p.counts.tolist(), p.missing.tolist(), p.unseen
([1, 0, 1], [1], {0: {'z': 1}})
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from operator import itemgetter
from typing import Any

import numpy as np

from driftline.aggregates.layout import FloatArray, Layout, Slot
from driftline.aggregates.partial import ABOVE_SUM, BELOW_SUM, MAX, MIN, SUM, SUMSQ, Partial, cap

__all__ = [
    "EPOCH",
    "Fresh",
    "accumulate",
    "add_categorical",
    "add_numeric",
    "bucket_of",
    "category_label",
    "group",
]

EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Fresh:
    """One newly stored prediction event, as conformed at ingest."""

    version_id: int
    event_time: datetime
    features: Mapping[str, Any]
    violations: Sequence[str] | None
    prediction: Any


def bucket_of(time: datetime, seconds: int) -> datetime:
    """The start of the bucket holding ``time`` (buckets are aligned to the epoch).

    >>> bucket_of(datetime(2026, 1, 1, 10, 7, 59, 999999, tzinfo=UTC), 60)
    datetime.datetime(2026, 1, 1, 10, 7, tzinfo=datetime.timezone.utc)
    """
    whole = time - EPOCH
    micro = (whole.days * 86_400 + whole.seconds) * 1_000_000 + whole.microseconds
    step = seconds * 1_000_000
    return EPOCH + timedelta(microseconds=micro - micro % step)


def group(events: Sequence[Fresh], seconds: int) -> dict[tuple[int, datetime], list[Fresh]]:
    """The events by (version, bucket start), in input order within each group."""
    # Whole seconds since the epoch, floored: microsecond times are exact enough in a float for
    # the floor to land in the right bucket, and this is a tenth of the cost of bucket_of.
    by_index: dict[tuple[int, int], list[Fresh]] = {}
    for event in events:
        key = (event.version_id, int(event.event_time.timestamp() // seconds))
        by_index.setdefault(key, []).append(event)
    return {
        (version, EPOCH + timedelta(seconds=index * seconds)): members
        for (version, index), members in by_index.items()
    }


def category_label(value: Any) -> str:
    """As ``detectors.profile.category_label``: the text, booleans as true/false."""
    if isinstance(value, bool | np.bool_):
        return "true" if value else "false"
    return str(value)


def _floats(values: Sequence[Any]) -> FloatArray:
    try:
        return np.asarray(values, dtype=np.float64)  # None becomes NaN: missing
    except (TypeError, ValueError):  # a stray non-number: keep the numbers, as the raw path
        kept = [
            v if isinstance(v, int | float) and not isinstance(v, bool) else None for v in values
        ]
        return np.asarray(kept, dtype=np.float64)


def _rows(features: list[Mapping[str, Any]], names: list[str]) -> list[tuple[Any, ...]]:
    """The values of ``names`` per event, looked up in C (``itemgetter``)."""
    if len(names) == 1:
        only = names[0]
        return [(f.get(only),) for f in features]
    try:
        return list(map(itemgetter(*names), features))
    except KeyError:  # some event lacks a feature: it is missing there
        return [tuple(map(f.get, names)) for f in features]


def _numeric_columns(layout: Layout, events: Sequence[Fresh]) -> FloatArray:
    """Every numeric slot's values as one row of a C-contiguous (slots x events) matrix."""
    names = [s.name for s in layout.features if s.is_numeric]
    rows = _rows([e.features for e in events], names) if names else []
    try:
        matrix = np.array(rows, dtype=np.float64).reshape(len(events), len(names))
    except (TypeError, ValueError):  # a value that is no number: column by column
        matrix = np.empty((len(events), len(names)))
        for j in range(len(names)):
            matrix[:, j] = _floats([row[j] for row in rows])
    prediction = layout.prediction
    if prediction is not None and prediction.is_numeric:
        matrix = np.column_stack((matrix, _floats([e.prediction for e in events])))
    return np.ascontiguousarray(matrix.T)


def _categorical_columns(layout: Layout, events: Sequence[Fresh]) -> list[Sequence[Any]]:
    names = [s.name for s in layout.features if not s.is_numeric]
    rows = _rows([e.features for e in events], names) if names else []
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * len(names)
    prediction = layout.prediction
    if prediction is not None and not prediction.is_numeric:
        columns.append([e.prediction for e in events])
    return columns


def add_numeric(partial: Partial, layout: Layout, i: int, slot: Slot, column: FloatArray) -> None:
    """Add one numeric slot's values (NaN: missing) of a batch to ``partial``."""
    finite = np.isfinite(column)
    values = column if finite.all() else column[finite]
    partial.missing[i] += column.size - values.size
    if not values.size:
        return
    index = slot.bins_of(values)
    span = slice(slot.offset, slot.offset + slot.n_bins)
    partial.counts[span] += np.bincount(index, minlength=slot.n_bins)
    widths = slot.widths[index]
    inner = widths > 0  # outer bins are unbounded and atom bins have no inside
    if inner.any():
        where = (slot.right_ends[index[inner]] - values[inner]) / widths[inner]
        partial.positions[span] += np.bincount(index[inner], weights=where, minlength=slot.n_bins)
    stats = partial.stats[layout.numeric_rows[i]]
    stats[MIN] = min(stats[MIN], float(values.min()))
    stats[MAX] = max(stats[MAX], float(values.max()))
    stats[SUM] += float(values.sum())
    stats[SUMSQ] += float(np.dot(values, values))
    stats[BELOW_SUM] += float(values[index == 0].sum())
    stats[ABOVE_SUM] += float(values[index == slot.n_bins - 1].sum())


def add_categorical(partial: Partial, i: int, slot: Slot, values: Sequence[Any]) -> None:
    """Add one categorical slot's values (None: missing) of a batch to ``partial``."""
    index = slot.category_index
    unseen: Counter[str] = Counter(partial.unseen.get(i, {}))
    unseen_bin = slot.offset + slot.n_bins - 1
    for value, n in Counter(values).items():
        if value is None or (isinstance(value, float) and math.isnan(value)):
            partial.missing[i] += n
            continue
        label = category_label(value)
        position = index.get(label)
        if position is None:
            unseen[label] += n
            partial.counts[unseen_bin] += n
        else:
            partial.counts[slot.offset + position] += n
    if unseen:
        partial.unseen[i] = cap(dict(unseen))


def accumulate(layout: Layout, events: Sequence[Fresh]) -> Partial:
    """The aggregate of ``events`` (all of one version; the caller groups by bucket)."""
    partial = Partial.empty(layout.total_bins, len(layout.slots), layout.n_numeric)
    partial.n_events = len(events)
    numeric = iter(_numeric_columns(layout, events))
    categorical = iter(_categorical_columns(layout, events))
    for i, slot in enumerate(layout.slots):
        if slot.is_numeric:
            add_numeric(partial, layout, i, slot, next(numeric))
        else:
            add_categorical(partial, i, slot, next(categorical))
    violations: Counter[str] = Counter()
    for event in events:
        if event.violations:
            violations.update(event.violations)
    if violations:
        for i, slot in enumerate(layout.features):
            partial.violations[i] = violations.get(slot.name, 0)
    return partial
